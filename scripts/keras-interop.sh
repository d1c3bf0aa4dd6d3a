#!/usr/bin/env bash
# Trains LeNet-5 with ConvNet, saves it as Keras .h5, loads that file in real Keras (3.x, JAX
# backend, in a virtual environment under /tmp/kerasenv) and compares predictions on 16 test images.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${KERAS_VENV:-/tmp/kerasenv}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q keras jax h5py numpy
fi
swift build -c release >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.build/release/convnet train --model lenet5 --epochs 1 --limit 6000 --quiet --save "$work/lenet5.h5"
python3 scripts/fashion-mnist-png.py "$work" 16
.build/release/convnet predict --model "$work/lenet5.h5" --json "$work"/*.png > "$work/predictions.json"
KERAS_BACKEND=jax "$venv/bin/python" scripts/keras-interop.py "$work/lenet5.h5" "$work/predictions.json" 16
