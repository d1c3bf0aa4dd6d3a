#!/usr/bin/env bash
# Runs the airbench recipe twice on the same CIFAR-10 JPEG folders and the same machine, one after
# the other: `convnet speedrun` and the PyTorch port (benchmarks/pytorch/airbench94.py, fp32,
# channels_last, 2 threads), then prints accuracy and training time side by side with the ratio.
#
#   scripts/compare-speedrun.sh DATA_DIR [SEEDS] [RECIPE] [-- extra arguments for both]
#     DATA_DIR  folder with train/<class>/*.jpg and test/<class>/*.jpg
#     SEEDS     number of runs (seeds 0..SEEDS-1), default 1
#     RECIPE    airbench94 (default) or airbench95
#   Environment: PYTHON (default python3; needs torch, numpy, pillow), CONVNET (default
#   .build/release/convnet), THREADS (default 2), OUT (log folder, default speedrun-logs),
#   SIDES (default "convnet pytorch"; "pytorch" alone reruns one side and compares it with the
#   other side's log already in OUT; "none" only compares the logs in OUT), FIRST_SEED (default 0:
#   runs seeds FIRST_SEED..FIRST_SEED+SEEDS-1, so that a long comparison can be split over several
#   sittings; concatenate the logs into one OUT and compare them with SIDES=none).
#   Extra arguments after `--` go to both sides (e.g. -- --epochs 1 --limit 5120 --test-limit 2000).
#   Writes OUT/convnet.log, OUT/pytorch.log, each side's mean curve per epoch (OUT/convnet.csv and
#   OUT/pytorch.csv: last batch loss and accuracy, test accuracy) and both drawn in OUT/curves.svg.
set -euo pipefail
if [[ $# -lt 1 || ! -d "$1/train" || ! -d "$1/test" ]]; then
    echo "usage: $0 DATA_DIR [SEEDS] [RECIPE] [-- extra arguments]; DATA_DIR needs train/ and test/ class folders" >&2
    exit 2
fi
data=$1; shift
seeds=1; recipe=airbench94
if [[ $# -gt 0 && $1 != "--" ]]; then seeds=$1; shift; fi
if [[ $# -gt 0 && $1 != "--" ]]; then recipe=$1; shift; fi
if [[ $# -gt 0 && $1 == "--" ]]; then shift; fi
extra=("$@")
[[ $seeds =~ ^[1-9][0-9]*$ ]] || { echo "$0: SEEDS must be a positive number, got $seeds" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
convnet=${CONVNET:-$here/.build/release/convnet}
threads=${THREADS:-2}
first_seed=${FIRST_SEED:-0}
[[ $first_seed =~ ^[0-9]+$ ]] || { echo "$0: FIRST_SEED must be a number, got $first_seed" >&2; exit 2; }
out=${OUT:-speedrun-logs}
sides=${SIDES:-convnet pytorch}
# Only the ConvNet side needs the binary: SIDES=pytorch and SIDES=none run without it.
if [[ " $sides " == *" convnet "* && ! -x $convnet ]]; then
    echo "$0: $convnet is missing; run swift build -c release first" >&2; exit 1
fi
if [[ " $sides " == *" pytorch "* ]]; then
    "$python" -c "import torch, numpy, PIL" 2>/dev/null || { echo "$0: $python cannot import torch, numpy and PIL (pip install torch numpy pillow)" >&2; exit 1; }
fi
mkdir -p "$out"

if [[ " $sides " == *" convnet "* ]]; then
    echo "== convnet speedrun ($recipe, $seeds seed(s) from $first_seed, $threads threads) =="
    "$convnet" speedrun --data "$data" --recipe "$recipe" --seed "$first_seed" --runs "$seeds" --threads "$threads" \
        -o "$out/$recipe-convnet.h5" "${extra[@]}" | tee "$out/convnet.log"
fi
if [[ " $sides " == *" pytorch "* ]]; then
    echo "== PyTorch $("$python" -c 'import torch; print(torch.__version__)') ($recipe, $seeds seed(s) from $first_seed, $threads threads) =="
    "$python" "$here/benchmarks/pytorch/airbench94.py" --data "$data" --recipe "$recipe" --seed "$first_seed" --runs "$seeds" \
        --threads "$threads" "${extra[@]}" | tee "$out/pytorch.log"
fi

# Both print one line per run: "...training T s (...), test accuracy A, with test-time augmentation B (...)",
# and one per epoch: "...seed S[)] epoch E: ... last batch loss L accuracy A, test accuracy T".
for side in convnet pytorch; do
    [[ -f $out/$side.log ]] || { echo "$0: no $out/$side.log to compare with yet (run SIDES=$side with OUT=$out)"; exit 0; }
done
python3 - "$out/convnet.log" "$out/pytorch.log" <<'PY'
import collections, os, re, statistics, sys
def curve(log, csv):
    pattern = re.compile(r"epoch +([0-9]+):.*last batch loss ([0-9.]+),? accuracy ([0-9.]+), test accuracy ([0-9.]+)")
    epochs = collections.defaultdict(list)
    for m in map(pattern.search, open(log)):
        if m: epochs[int(m.group(1))].append(tuple(map(float, m.groups()[1:])))
    with open(csv, "w") as f:
        f.write("epoch,loss,accuracy,test_accuracy\n")
        for epoch in sorted(epochs):
            f.write(f"{epoch}," + ",".join(f"{statistics.mean(v):.4f}" for v in zip(*epochs[epoch])) + "\n")
for log in sys.argv[1:3]:
    curve(log, os.path.splitext(log)[0] + ".csv")
def runs(path):
    pattern = re.compile(r"training ([0-9.]+) s .*test accuracy ([0-9.]+), with test-time augmentation ([0-9.]+)")
    return [tuple(map(float, m.groups())) for m in map(pattern.search, open(path)) if m]
def cell(values, scale=1.0, digits=2):
    values = [v * scale for v in values]
    if len(values) == 1: return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"
ours, theirs = runs(sys.argv[1]), runs(sys.argv[2])
if not ours or not theirs:
    sys.exit("compare-speedrun: a side printed no result line; see the logs above")
print(f"\n{'':12} {'runs':>4}  {'training (min)':>16}  {'test acc (%)':>16}  {'with TTA (%)':>16}")
for name, rows in (("convnet", ours), ("pytorch", theirs)):
    t, a, b = zip(*rows)
    print(f"{name:12} {len(rows):>4}  {cell(t, 1 / 60):>16}  {cell(a, 100):>16}  {cell(b, 100):>16}")
ratio = statistics.mean(r[0] for r in ours) / statistics.mean(r[0] for r in theirs)
print(f"training time ratio convnet / pytorch: {ratio:.2f}")
PY
"$convnet" plot "$out/convnet.csv" "$out/pytorch.csv" --names ConvNet,PyTorch -o "$out/curves.svg" >/dev/null \
    && echo "curves (mean over the seeds, per epoch): $out/curves.svg"
