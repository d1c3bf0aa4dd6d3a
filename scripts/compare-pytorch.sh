#!/usr/bin/env bash
# Side-by-side throughput of ConvNet and PyTorch on the lecture notes' models and ResNet-20.
#
#   bash scripts/compare-pytorch.sh [ROUNDS] [MODEL[:BATCH]...]
#
# Default: 3 rounds of lenet5 conv4x7 cifar (batch $BATCH, 64) and resnet20:128 (batch 128).
#
# Measuring (the same on both sides): for every model, one calibrating run of each framework finds
# how many steps make a timed run last at least MIN_SECONDS (2), for training and for inference;
# the larger of the two frameworks' counts is then used by both. In every round each framework runs
# once, as its own process, alternately (ConvNet first in odd rounds, PyTorch first in even ones), so
# both see the same machine state; inside the process, after WARMUP untimed steps, it times REPEATS
# (5) runs of those steps and reports their median and spread (min, max). The table gives, per model,
# the median of the rounds' medians and the spread over every timed run (min–max), and the ratios
# ConvNet / PyTorch of the medians. Every process's JSON line is kept in $OUT.
#
# The header records the date, the CPU model (with its family and model numbers and AVX2 or
# AVX-512), ConvNet's SGEMM peak (`convnet bench`'s 1024^3 median) and the GEMM library with its
# OpenBLAS kernel, and PyTorch's version.
#
# Environment: TORCH_VENV (default /tmp/torchenv; created with `pip install torch numpy` when
# absent, about 2.5 GB), BATCH (64), THREADS (2), MIN_SECONDS (2), REPEATS (5), WARMUP (5),
# OUT (/tmp/compare-pytorch.jsonl), CONVNET (a convnet binary to use instead of building one),
# PRECISION (fp32, or bf16: `convnet bench --precision bf16` against PyTorch's bfloat16 autocast).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
shift || true
models=("$@")
batch=${BATCH:-64} threads=${THREADS:-2} min_seconds=${MIN_SECONDS:-2} repeats=${REPEATS:-5} warmup=${WARMUP:-5}
precision=${PRECISION:-fp32}
[ ${#models[@]} -gt 0 ] || models=(lenet5 conv4x7 cifar resnet20:128)
venv=${TORCH_VENV:-/tmp/torchenv}
out=${OUT:-/tmp/compare-pytorch.jsonl}
reference="$here/benchmarks/pytorch/throughput.py"

if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    echo "Setting up PyTorch in $venv ..." >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch numpy
fi
if [ -n "${CONVNET:-}" ]; then convnet=$CONVNET
else (cd "$here" && swift build -c release --product convnet >&2); convnet="$here/.build/release/convnet"; fi

# The JSON field $2 of the one-line object $1.
field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

: > "$out"
for entry in "${models[@]}"; do
    model=${entry%%:*} b=$batch
    [ "$entry" = "$model" ] || b=${entry#*:}
    run_convnet() { "$convnet" bench --model "$model" --batch-size "$b" --threads "$threads" --warmup "$warmup" --precision "$precision" --json "$@"; }
    run_torch() { "$venv/bin/python" "$reference" "$model" --batch-size "$b" --threads "$threads" --warmup "$warmup" --precision "$precision" "$@"; }
    calibrate=(--steps 1 --min-seconds "$min_seconds" --repeats 1)
    c=$(run_convnet "${calibrate[@]}") p=$(run_torch "${calibrate[@]}")
    train_steps=$(( $(field "$c" train_steps) > $(field "$p" train_steps) ? $(field "$c" train_steps) : $(field "$p" train_steps) ))
    infer_steps=$(( $(field "$c" infer_steps) > $(field "$p" infer_steps) ? $(field "$c" infer_steps) : $(field "$p" infer_steps) ))
    echo "$model (batch $b): $train_steps training and $infer_steps inference steps per timed run, both frameworks" >&2
    timed=(--steps "$train_steps" --infer-steps "$infer_steps" --min-seconds 0 --repeats "$repeats")
    for round in $(seq 1 "$rounds"); do
        if (( round % 2 )); then run_convnet "${timed[@]}" >> "$out"; run_torch "${timed[@]}" >> "$out"
        else run_torch "${timed[@]}" >> "$out"; run_convnet "${timed[@]}" >> "$out"; fi
        echo "$model round $round/$rounds done" >&2
    done
done

python3 - "$out" <<'PY'
import json, statistics, sys, platform, datetime
runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
def of(model, framework):
    return [r for r in runs if r["model"] == model and r["framework"] == framework]
def median(model, framework, field):
    return statistics.median(r[field] for r in of(model, framework))
def spread(model, framework, field):
    chosen = of(model, framework)
    return min(r[field + "_min"] for r in chosen), max(r[field + "_max"] for r in chosen)
def rate(model, framework, field):
    low, high = spread(model, framework, field)
    return f"{median(model, framework, field):,.0f} ({low:,.0f}–{high:,.0f})"
# "AMD EPYC" alone names several CPUs (this project has met a Zen 3 and a Zen 5 under it): keep the
# family and model numbers and the widest vector extension the kernel reports.
info = {}
for line in open("/proc/cpuinfo"):
    key, _, value = line.partition(":")
    info.setdefault(key.strip(), value.strip())
cpu = info.get("model name", platform.machine())
flags = set(info.get("flags", "").split())
vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
if "cpu family" in info:
    cpu += f" (family {info['cpu family']}, model {info.get('model', '?')}, {vector})"
convnet = [r for r in runs if r["framework"] == "convnet"]
torch = next(r for r in runs if r["framework"] == "pytorch")
peak = statistics.median(r["sgemm_peak_gflops"] for r in convnet)
print(f"{datetime.date.today()}; CPU: {cpu}; ConvNet SGEMM peak {peak:.0f} GFLOP/s via {convnet[0]['gemm']}; "
      f"PyTorch {torch['version']}; precision {convnet[0].get('precision', 'fp32')} (PyTorch: {torch.get('precision', 'fp32')}); {convnet[0]['threads']} threads; each figure: median of {convnet[0]['repeats']} "
      f"timed runs per process, median over the rounds, (min–max) over every timed run")
print()
print("| model | batch | ConvNet train img/s | PyTorch train img/s | train ratio | ConvNet infer img/s | PyTorch infer img/s | infer ratio | ConvNet peak RSS MB | PyTorch peak RSS MB | ConvNet train GFLOP/s (of SGEMM peak) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for model in dict.fromkeys(r["model"] for r in runs):
    first = of(model, "convnet")[0]
    ct, pt = median(model, "convnet", "train_images_per_s"), median(model, "pytorch", "train_images_per_s")
    ci, pi = median(model, "convnet", "infer_images_per_s"), median(model, "pytorch", "infer_images_per_s")
    gf = median(model, "convnet", "gflops_train")
    print(f"| {model} ({len(of(model, 'convnet'))} rounds, {first['train_steps']}/{first['infer_steps']} steps) | {first['batch']} "
          f"| {rate(model, 'convnet', 'train_images_per_s')} | {rate(model, 'pytorch', 'train_images_per_s')} | **{ct / pt:.2f}x** "
          f"| {rate(model, 'convnet', 'infer_images_per_s')} | {rate(model, 'pytorch', 'infer_images_per_s')} | **{ci / pi:.2f}x** "
          f"| {median(model, 'convnet', 'peak_rss_mb'):.0f} | {median(model, 'pytorch', 'peak_rss_mb'):.0f} | {gf:.0f} ({gf / peak:.0%} of {peak:.0f}) |")
PY
