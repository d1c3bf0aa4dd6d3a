#!/usr/bin/env bash
# Transfer learning from CIFAR-10 to hand signs (the README's table): a network trained on CIFAR-10
# (BASE.h5, e.g. ResNet-20 from the README's command) fine-tuned on the SIGNS photos (1,080
# training and 120 test images of the digits 0-5, resized to the base's 32x32), against the same
# architecture trained from scratch on the same 1,080 images.
# Usage: scripts/transfer-cifar-signs.sh BASE.h5 SIGNS [SEEDS [EPOCHS]]
#   SIGNS: a folder with train/ and test/ class folders (signs-64x64-jpeg.tar.gz extracted), or
#   train_signs.h5 with test_signs.h5 beside it. Defaults: seeds "0 1 2", 30 epochs.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 BASE.h5 SIGNS [SEEDS [EPOCHS]]" >&2; exit 2; }
base=$1 signs=$2 seeds=${3:-"0 1 2"} epochs=${4:-30}
convnet=${CONVNET:-.build/release/convnet}
[ -n "${CONVNET:-}" ] || swift build -c release --product convnet >/dev/null
architecture=$("$convnet" summary --model "$base" | sed -n 's/^Model: "\(.*\)"/\1/p')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
accuracy() { sed -n 's/^Test accuracy: \([0-9.]*\),.*/\1/p' "$1"; }
seconds() { sed -n 's/.*training took \([0-9.]*\) s$/\1/p' "$1"; }
common=(--dataset "$signs" --quiet --batch-size 32)

declare -A results times
start=$(date +%s)
for seed in $seeds; do
    "$convnet" finetune --model "$base" "${common[@]}" --freeze base --epochs "$epochs" --seed "$seed" --save "$work/head.h5" > "$work/head.log"
    "$convnet" finetune --model "$base" "${common[@]}" --freeze none --epochs "$epochs" --lr 0.0003 --seed "$seed" > "$work/full.log"
    "$convnet" train --model "$work/head.h5" "${common[@]}" --unfreeze all --lr 0.0001 --epochs "$(( epochs / 2 ))" --seed "$seed" > "$work/two-phase.log"
    "$convnet" train --model "$architecture" "${common[@]}" --preprocessing standardize --epochs "$epochs" --seed "$seed" > "$work/scratch.log"
    for run in head full two-phase scratch; do results[$run]+="$(accuracy "$work/$run.log") "; done
    for run in head full scratch; do times[$run]+="$(seconds "$work/$run.log") "; done
    times[two-phase]+="$(awk -v a="$(seconds "$work/head.log")" -v b="$(seconds "$work/two-phase.log")" 'BEGIN { printf "%.1f", a + b }') "
done
echo "| $architecture from CIFAR-10 on SIGNS (1,080 images, 32x32) | test accuracy per seed ($seeds) | mean | training s per run |"
echo "|---|---|---|---|"
label() { case $1 in head) echo "new head only (base frozen), $epochs epochs";; full) echo "full fine-tuning at lr 3e-4, $epochs epochs";;
    two-phase) echo "the head-only model, then all layers $(( epochs / 2 )) more epochs at lr 1e-4";;
    scratch) echo "from scratch (random weights), $epochs epochs";; esac; }
for run in head full two-phase scratch; do
    mean=$(echo "${results[$run]}" | awk '{for (i = 1; i <= NF; i++) s += $i; printf "%.4f", s / NF}')
    echo "| $(label $run) | ${results[$run]}| $mean | ${times[$run]}|"
done
echo
echo "Total: $(( $(date +%s) - start )) s"
