#!/usr/bin/env python3
"""Derives Winograd's F(m, r) matrices exactly (Toom-Cook over rational points plus the point at
infinity; Lavin and Gray 2016, section 4) and checks them, then prints them and the six 1-D maps
of a `WinogradTiling` as Swift.

    scripts/winograd-matrices.py M R P1 P2 ...    e.g.  scripts/winograd-matrices.py 2 7 0 1 -1 2 -2 1/2 -1/2

With α = m + r - 1 and the α - 1 finite points p_j:
    Aᵀ (m × α):  Aᵀ[i][j] = p_j^i, and the last column e_{m-1} (the point at infinity);
    G  (α × r):  G[j][k] = p_j^k / Π_{l≠j} (p_j - p_l), and the last row e_{r-1};
    Bᵀ (α × α):  the unique solution of Σ_ξ Aᵀ[i][ξ] G[ξ][k] Bᵀ[ξ][l] = [l = i + k] for all i, k, l,
                 which is what `y = Aᵀ [(G g) ⊙ (Bᵀ d)]` being the correlation y_i = Σ_k g_k d_{i+k} means;
                 a row of G and the same row of Bᵀ change sign together so that G's rows start positive.
The script checks the 1-D algorithm exactly on every basis filter and input before printing.
"""
import sys
from fractions import Fraction as F
from itertools import product


def solve(rows, rhs):
    """The unique solution x of the consistent, overdetermined system rows · x = rhs (exact)."""
    n = len(rows[0])
    aug = [list(r) + [b] for r, b in zip(rows, rhs)]
    pivots, row = [], 0
    for col in range(n):
        pivot = next((i for i in range(row, len(aug)) if aug[i][col] != 0), None)
        if pivot is None:
            sys.exit("singular: the points must be distinct")
        aug[row], aug[pivot] = aug[pivot], aug[row]
        aug[row] = [v / aug[row][col] for v in aug[row]]
        for i in range(len(aug)):
            if i != row and aug[i][col] != 0:
                factor = aug[i][col]
                aug[i] = [a - factor * b for a, b in zip(aug[i], aug[row])]
        pivots.append(col)
        row += 1
    assert all(all(v == 0 for v in r) for r in aug[row:]), "inconsistent system"
    return [aug[i][n] for i in range(n)]


def matrices(m, r, points):
    alpha = m + r - 1
    assert len(points) == alpha - 1, f"F({m}, {r}) needs {alpha - 1} finite points"
    at = [[p ** i for p in points] + [F(int(i == m - 1))] for i in range(m)]
    g = []
    for j, p in enumerate(points):
        f = 1
        for l, q in enumerate(points):
            if l != j:
                f *= p - q
        g.append([p ** k / f for k in range(r)])
    g.append([F(int(k == r - 1)) for k in range(r)])
    bt = [[F(0)] * alpha for _ in range(alpha)]
    for l in range(alpha):
        coefficients = [[at[i][x] * g[x][k] for x in range(alpha)] for i, k in product(range(m), range(r))]
        column = solve(coefficients, [F(int(l == i + k)) for i, k in product(range(m), range(r))])
        for x in range(alpha):
            bt[x][l] = column[x]
    # Each row of G and the same row of Bᵀ may change sign together; make G's rows start positive.
    for x in range(alpha):
        if next(c for c in g[x] if c != 0) < 0:
            g[x] = [-c for c in g[x]]
            bt[x] = [-c for c in bt[x]]
    # Check: the 1-D algorithm is the correlation for every basis filter and input.
    for k0, l0 in product(range(r), range(alpha)):
        u = [g[x][k0] for x in range(alpha)]
        v = [bt[x][l0] for x in range(alpha)]
        y = [sum(at[i][x] * u[x] * v[x] for x in range(alpha)) for i in range(m)]
        assert y == [F(int(l0 == i + k0)) for i in range(m)]
    return at, g, bt


def transpose(a):
    return [list(col) for col in zip(*a)]


def constant(c):
    """The name of the positive coefficient `c` in the Swift code: c2 is 2, c21_4 is 21/4."""
    return f"c{c.numerator}" if c.denominator == 1 else f"c{c.numerator}_{c.denominator}"


def combination(terms):
    """`Σ c·v` for (c, v) pairs, as a Swift expression (zero when empty)."""
    text = ""
    for c, v in terms:
        if c == 0:
            continue
        term = v if abs(c) == 1 else f"{v} * {constant(abs(c))}"
        text += (" - " if c < 0 else " + ") + term if text else ("-" if c < 0 else "") + term
    return text or "WinogradVector(repeating: 0)"


def paired_rows(matrix):
    """Rows (a, b) of `matrix` at opposite points ±p: equal on even columns, opposite on odd ones."""
    pairs, used = [], set()
    for a, row in enumerate(matrix):
        for b in range(a + 1, len(matrix)):
            other = matrix[b]
            if a in used or b in used:
                continue
            if any(row[j] != 0 for j in range(1, len(row), 2)) and \
                    all(other[j] == (row[j] if j % 2 == 0 else -row[j]) for j in range(len(row))):
                pairs.append((a, b))
                used |= {a, b}
    return pairs


def slot(i):
    return "0" if i == 0 else ("n" if i == 1 else f"{i} * n")


def swift_map(name, matrix, letter):
    """`t[i·n] = Σ_j matrix[i][j] · s[j·n]` as one Swift function of the tiling, with the points'
    symmetry taken out: inputs whose columns belong to opposite points (equal on even rows, opposite
    on odd ones: the adjoints, and Aᵀ) are added and subtracted first, M[i][a]·u_a + M[i][b]·u_b =
    M[i][a]·(u_a ± u_b); otherwise rows at opposite points share their even and odd parts, t = e ± o."""
    rows, cols = len(matrix), len(matrix[0])
    body, used = [], set()
    inputs = [(f"{letter}{j}", f"s[{slot(j)}]") for j in range(cols)]
    columns = {j: [(matrix[i][j], i) for i in range(rows)] for j in range(cols)}  # coefficient per row for input j
    variables = [f"{letter}{j}" for j in range(cols)]
    pairs = []
    pairs = paired_rows(transpose(matrix))
    text_inputs = "let (" + ", ".join(v for v, _ in inputs) + ") = (" + ", ".join(e for _, e in inputs) + ")" if cols > 1 \
        else f"let {inputs[0][0]} = {inputs[0][1]}"
    body.append(text_inputs)
    # Adjoint: replace inputs u_a, u_b of a pair by their sum and difference.
    terms = [[(matrix[i][j], variables[j]) for j in range(cols)] for i in range(rows)]
    for a, b in pairs:
        body.append(f"let ({letter}{a}p{b}, {letter}{a}m{b}) = ({letter}{a} + {letter}{b}, {letter}{a} - {letter}{b})")
        for i in range(rows):
            new = [(c, v) for c, v in terms[i] if v not in (f"{letter}{a}", f"{letter}{b}")]
            ca = matrix[i][a]
            if ca != 0:
                new.append((ca, f"{letter}{a}p{b}" if matrix[i][b] == ca else f"{letter}{a}m{b}"))
            terms[i] = sorted(new, key=lambda t: t[1])
    outputs = {}
    row_pairs = paired_rows(matrix) if not pairs else []
    for a, b in row_pairs:
        even = [(c, v) for c, v in terms[a] if int(v[len(letter):].split("p")[0].split("m")[0]) % 2 == 0]
        odd = [(c, v) for c, v in terms[a] if int(v[len(letter):].split("p")[0].split("m")[0]) % 2 == 1]
        body.append(f"let (e{a}, o{a}) = ({combination(even)}, {combination(odd)})")
        outputs[a], outputs[b] = f"e{a} + o{a}", f"e{a} - o{a}"
    for i in range(rows):
        body.append(f"t[{slot(i)}] = {outputs.get(i, combination(terms[i]))}")
    coefficients = sorted({abs(c) for row in terms for c, _ in row if abs(c) not in (0, 1)})
    if coefficients:
        names = ", ".join(f"{constant(c)}: Float = {c.numerator}" + ("" if c.denominator == 1 else f" / {c.denominator}")
                          for c in coefficients)
        body.insert(0, f"let {names}")
    lines = [f"    @inline(__always) static func {name}(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {{"]
    lines += ["        " + line for line in body]
    lines.append("    }")
    return "\n".join(lines)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    m, r = int(sys.argv[1]), int(sys.argv[2])
    points = [F(p) for p in sys.argv[3:]]
    at, g, bt = matrices(m, r, points)
    for name, matrix in (("Bᵀ", bt), ("G", g), ("Aᵀ", at)):
        print(f"/// {name} =")
        for row in matrix:
            print("///   | " + " ".join(f"{str(c):>6}" for c in row) + " |")
    maps = [("inputTransform", bt, "d"), ("inputAdjoint", transpose(bt), "u"), ("kernelTransform", g, "g"),
            ("kernelAdjoint", transpose(g), "u"), ("outputTransform", at, "m"), ("outputAdjoint", transpose(at), "y")]
    print("\n\n".join(swift_map(*m) for m in maps))


if __name__ == "__main__":
    main()
