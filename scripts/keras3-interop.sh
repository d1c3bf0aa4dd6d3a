#!/usr/bin/env bash
# Keras 3 native .keras files, both ways, checked with real Keras (3.x, JAX backend, in a virtual
# environment; KERAS_VENV, default /tmp/kerasenv, shared with keras-interop.sh):
#   Keras -> ConvNet: Keras builds and trains a LeNet-5-like Sequential (with dropout) and a functional
#     model with batch normalization and a residual Add, saves each as .keras; `convnet predict` on
#     that file must give Keras's probabilities for 16 Fashion-MNIST test images within 1e-4.
#   ConvNet -> Keras: `convnet train` trains LeNet-5 and the functional model (from Keras's JSON
#     config) and saves .keras; keras.saving.load_model must read it and predict ConvNet's
#     probabilities within 1e-4. Then `convnet convert` turns .keras into legacy .h5 and back.
#     airbench94 (whose identity-initialised convolutions Keras has no initializer for) saved as .h5
#     and .keras loads in Keras and predicts ConvNet's outputs on the inputs ConvNet fed it.
# Exit status 0 only when every comparison passes. Needs /usr/share/datasets/fashion-mnist.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${KERAS_VENV:-/tmp/kerasenv}
if [ ! -x "$venv/bin/python" ] || ! KERAS_BACKEND=jax "$venv/bin/python" -c "import keras, jax, h5py" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check keras jax h5py numpy
fi
export KERAS_BACKEND=jax
python="$venv/bin/python"
swift build -c release >/dev/null
convnet=.build/release/convnet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/images"
"$python" scripts/keras3-interop.py pngs "$work/images"
status=0

echo "== Keras -> ConvNet"
"$python" scripts/keras3-interop.py models "$work"
for name in lenet5_keras residual_keras; do
    "$convnet" predict --model "$work/$name.keras" --json "$work"/images/*.png > "$work/$name.convnet.json"
    "$python" scripts/keras3-interop.py compare "$work/$name.expected.json" "$work/$name.convnet.json" || status=1
done

echo "== ConvNet -> Keras"
"$convnet" train --model lenet5 --epochs 1 --limit 6000 --quiet --save "$work/lenet5.keras"
"$convnet" train --model "$work/residual_keras.json" --epochs 1 --limit 6000 --quiet --save "$work/residual.keras"
"$convnet" convert "$work/lenet5.keras" "$work/lenet5-converted.h5" >/dev/null
"$convnet" convert "$work/lenet5-converted.h5" "$work/lenet5-converted.keras" >/dev/null
for name in lenet5 residual lenet5-converted; do
    "$convnet" predict --model "$work/$name.keras" --json "$work"/images/*.png > "$work/$name.convnet.json"
    "$python" scripts/keras3-interop.py check "$work/$name.keras" "$work/$name.convnet.json" || status=1
done

echo "== ConvNet -> Keras: airbench94 (identity-initialised convolutions, Keras's VarianceScaling stand-in)"
"$convnet" train --model airbench94 --class-subset 0-4 --limit 512 --epochs 2 --batch-size 64 --quiet --save "$work/airbench94.h5"
"$convnet" convert "$work/airbench94.h5" "$work/airbench94.keras" >/dev/null
for file in airbench94.h5 airbench94.keras; do
    "$convnet" predict --model "$work/$file" --json --with-input "$work"/images/*.png > "$work/$file.convnet.json"
    "$python" scripts/keras3-interop.py check-inputs "$work/$file" "$work/$file.convnet.json" || status=1
done
[ "$status" = 0 ] && echo "All .keras comparisons passed" || echo "Some .keras comparison failed"
exit "$status"
