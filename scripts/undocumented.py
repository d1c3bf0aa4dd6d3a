"""Lists public declarations without a doc comment: python3 scripts/undocumented.py Sources"""
import sys, re, pathlib
# A `public`/`open` declaration line not preceded by a `///` comment (attributes and blank-free
# attribute lines between are skipped). Prints file:line: text.
skip = ()
count = 0
for path in sorted(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else 'Sources').rglob('*.swift')):
    rel = str(path.relative_to(sys.argv[1] if len(sys.argv) > 1 else 'Sources'))
    if any(rel.startswith(s) or rel == s for s in skip): continue
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        s = line.strip()
        if not re.match(r'(@\w+(\([^)]*\))?\s+)*(public|open)\s', s): continue
        if re.match(r'public\s+(extension)\b', s): continue
        j = i - 1
        while j >= 0 and (lines[j].strip().startswith('@') ): j -= 1
        if j >= 0 and lines[j].strip().startswith('///'): continue
        if j >= 0 and lines[j].strip().endswith('*/'): continue
        count += 1
        print(f"{rel}:{i+1}: {s[:110]}")
print(count, file=sys.stderr)
