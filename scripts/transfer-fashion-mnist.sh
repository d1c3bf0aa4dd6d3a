#!/usr/bin/env bash
# Transfer learning on Fashion-MNIST, clothes -> shoes and bags (the README's table):
# LeNet-5 trained on classes 0-4 (T-shirt, trouser, pullover, dress, coat), then 1,000 training
# images of classes 5-9 (sandal, shirt, sneaker, bag, ankle boot), evaluated on all 5,000 test
# images of those classes: new head only, full fine-tuning, head then everything, and the same
# network trained from scratch on the same 1,000 images.
# Usage: scripts/transfer-fashion-mnist.sh [SEEDS [IMAGES]]   (defaults: "0 1 2" and 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-"0 1 2"}
images=${2:-1000}
convnet=${CONVNET:-.build/release/convnet}
[ -n "${CONVNET:-}" ] || swift build -c release --product convnet >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
accuracy() { sed -n 's/^Test accuracy: \([0-9.]*\),.*/\1/p' "$1"; }
common=(--dataset fashion-mnist --class-subset 5-9 --limit "$images" --quiet)

start=$(date +%s)
"$convnet" train --model lenet5 --dataset fashion-mnist --class-subset 0-4 --epochs 5 --seed 0 --quiet \
    --save "$work/base.h5" > "$work/base.log"
echo "Base: LeNet-5 on classes 0-4 (30,000 images, 5 epochs): test accuracy $(accuracy "$work/base.log") on their 5,000 test images, $(( $(date +%s) - start )) s"

declare -A results
for seed in $seeds; do
    "$convnet" finetune --model "$work/base.h5" "${common[@]}" --freeze base --epochs 20 --seed "$seed" --save "$work/head.h5" > "$work/head.log"
    "$convnet" finetune --model "$work/base.h5" "${common[@]}" --freeze none --epochs 20 --seed "$seed" > "$work/full.log"
    "$convnet" train --model "$work/head.h5" "${common[@]}" --unfreeze all --lr 0.0001 --epochs 10 --seed "$seed" > "$work/two-phase.log"
    "$convnet" train --model lenet5 "${common[@]}" --epochs 20 --seed "$seed" > "$work/scratch.log"
    for run in head full two-phase scratch; do results[$run]+="$(accuracy "$work/$run.log") "; done
done
echo
echo "| $images training images of classes 5-9 | test accuracy per seed ($seeds) | mean |"
echo "|---|---|---|"
label() { case $1 in head) echo "new head only (base frozen), 20 epochs";; full) echo "full fine-tuning, 20 epochs";;
    two-phase) echo "the head-only model, then all layers 10 more epochs at lr 1e-4";; scratch) echo "from scratch (random weights), 20 epochs";; esac; }
for run in head full two-phase scratch; do
    mean=$(echo "${results[$run]}" | awk '{for (i = 1; i <= NF; i++) s += $i; printf "%.4f", s / NF}')
    echo "| $(label $run) | ${results[$run]}| $mean |"
done
echo
echo "Total: $(( $(date +%s) - start )) s"
