#!/usr/bin/env bash
# Proves ConvNet's TensorBoard logs with TensorBoard's own reader: trains LeNet-5 briefly with
# --tensorboard, --log and --save, then reads the event files back with
# tensorboard.backend.event_processing.event_accumulator.EventAccumulator and checks every tag,
# step and value against the CSV log and the saved weights (scripts/tensorboard-check.py).
# Installs tensorboard and h5py in a virtual environment ($TENSORBOARD_VENV, default
# /tmp/tensorboard-venv); skips with a reason when Python or pip is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${TENSORBOARD_VENV:-/tmp/tensorboard-venv}
if ! command -v python3 >/dev/null; then echo "tensorboard-check: skipped: python3 is not installed"; exit 0; fi
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import tensorboard, h5py" 2>/dev/null; then
    if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check tensorboard h5py; }; then
        echo "tensorboard-check: skipped: could not create a virtual environment with tensorboard (python3-venv, pip, PyPI)"
        exit 0
    fi
fi
swift build -c release >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$SECONDS
# 640 images, 20% held out: 512 training images in 16 batches of 32 per epoch.
.build/release/convnet train --model lenet5 --dataset fashion-mnist --epochs 3 --limit 640 --validation-split 0.2 \
    --batch-size 32 --schedule exponential:0.5 --quiet --tensorboard "$work/logs" --log "$work/history.csv" --save "$work/lenet5.h5" >/dev/null
"$venv/bin/python" scripts/tensorboard-check.py "$work/logs" "$work/history.csv" "$work/lenet5.h5" 16
echo "tensorboard-check: done in $((SECONDS - start)) s"
