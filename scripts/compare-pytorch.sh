#!/usr/bin/env bash
# Side-by-side throughput of ConvNet and PyTorch on the lecture notes' models.
#
#   bash scripts/compare-pytorch.sh [ROUNDS] [MODELS...]      # default: 5 rounds of lenet5 conv4x7 cifar
#
# For every model and round it runs `convnet bench --model M --json` and
# benchmarks/pytorch/throughput.py M, alternately (ConvNet first in odd rounds, PyTorch first in
# even ones), with the same batch (64) and threads (2), so both see the same machine state. It
# then prints a Markdown table of the medians and the ratios ConvNet / PyTorch; every run's JSON
# line is kept in $OUT (default /tmp/compare-pytorch.jsonl).
#
# Environment: TORCH_VENV (default /tmp/torchenv; created with `pip install torch numpy` when
# absent, about 2.5 GB), BATCH (64), THREADS (2), STEPS (60), WARMUP (10), OUT.
# Slow models take fewer steps (conv4x7 and cifar: STEPS/3, WARMUP/3) so a round stays under a
# minute; both frameworks always run the same number of steps.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}
shift || true
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(lenet5 conv4x7 cifar)
venv=${TORCH_VENV:-/tmp/torchenv}
batch=${BATCH:-64} threads=${THREADS:-2} steps=${STEPS:-60} warmup=${WARMUP:-10}
out=${OUT:-/tmp/compare-pytorch.jsonl}
reference="$here/benchmarks/pytorch/throughput.py"

if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    echo "Setting up PyTorch in $venv ..." >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch numpy
fi
(cd "$here" && swift build -c release --product convnet >&2)
convnet="$here/.build/release/convnet"

: > "$out"
for model in "${models[@]}"; do
    s=$steps w=$warmup
    if [ "$model" != lenet5 ]; then s=$(( (steps + 2) / 3 )) w=$(( (warmup + 2) / 3 )); fi
    for round in $(seq 1 "$rounds"); do
        run_convnet() { "$convnet" bench --model "$model" --batch-size "$batch" --threads "$threads" --steps "$s" --warmup "$w" --json; }
        run_torch() { "$venv/bin/python" "$reference" "$model" --batch-size "$batch" --threads "$threads" --steps "$s" --warmup "$w"; }
        if (( round % 2 )); then run_convnet >> "$out"; run_torch >> "$out"; else run_torch >> "$out"; run_convnet >> "$out"; fi
        echo "$model round $round/$rounds done" >&2
    done
done

python3 - "$out" <<'PY'
import json, statistics, sys, platform, datetime
runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
def median(model, framework, field):
    values = [r[field] for r in runs if r["model"] == model and r["framework"] == framework]
    return statistics.median(values), len(values)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
first = runs[0]
print(f"{datetime.date.today()}, {cpu}, batch {first['batch']}, {first['threads']} threads; medians of the rounds")
print()
print("| model | ConvNet train img/s | PyTorch train img/s | train ratio | ConvNet infer img/s | PyTorch infer img/s | infer ratio | ConvNet peak RSS MB | PyTorch peak RSS MB | ConvNet train GFLOP/s (of SGEMM peak) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for model in dict.fromkeys(r["model"] for r in runs):
    ct, n = median(model, "convnet", "train_images_per_s"); pt, _ = median(model, "pytorch", "train_images_per_s")
    ci, _ = median(model, "convnet", "infer_images_per_s"); pi, _ = median(model, "pytorch", "infer_images_per_s")
    cr, _ = median(model, "convnet", "peak_rss_mb"); pr, _ = median(model, "pytorch", "peak_rss_mb")
    gf, _ = median(model, "convnet", "gflops_train"); peak, _ = median(model, "convnet", "sgemm_peak_gflops")
    print(f"| {model} ({n} rounds) | {ct:,.0f} | {pt:,.0f} | **{ct / pt:.2f}x** | {ci:,.0f} | {pi:,.0f} | **{ci / pi:.2f}x** | {cr:.0f} | {pr:.0f} | {gf:.0f} ({gf / peak:.0%} of {peak:.0f}) |")
PY
