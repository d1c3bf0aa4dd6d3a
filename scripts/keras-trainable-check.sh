#!/usr/bin/env bash
# Frozen layers cross the Keras boundary both ways: a model ConvNet fine-tuned with a frozen base
# loads in real Keras (3.x, JAX backend, virtual environment $KERAS_VENV) with those layers
# frozen and Keras's own parameter counts equal to ConvNet's; a model Keras saved with frozen
# layers (a convolution and a batch normalization) loads in ConvNet frozen, with Keras's counts.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${KERAS_VENV:-/tmp/kerasenv}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q keras jax h5py numpy
fi
swift build -c release --product convnet >/dev/null
convnet=.build/release/convnet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
counts() { sed -n "s/^ $1 params: \([0-9,]*\) .*/\1/p" | tr -d ,; }

# ConvNet -> Keras: LeNet-5's base frozen by `convnet finetune`.
$convnet train --model lenet5 --limit 256 --epochs 1 --quiet --save "$work/base.h5"
$convnet finetune --model "$work/base.h5" --class-subset 0-4 --limit 256 --epochs 1 --quiet --save "$work/tuned.h5"
summary=$($convnet summary --model "$work/tuned.h5" --show-trainable)
frozen=$(echo "$summary" | awk -F'│' '$5 ~ / N / { split($2, name, " "); printf "%s%s", sep, name[1]; sep = "," }')
KERAS_BACKEND=jax "$venv/bin/python" scripts/keras-trainable.py check "$work/tuned.h5" "$frozen" \
    "$(echo "$summary" | counts Trainable)" "$(echo "$summary" | counts Non-trainable)"

# Keras -> ConvNet: a functional model with a frozen convolution and batch normalization.
expected=$(KERAS_BACKEND=jax "$venv/bin/python" scripts/keras-trainable.py write "$work/keras.h5")
summary=$($convnet summary --model "$work/keras.h5" --show-trainable)
echo "$summary"
python3 - "$expected" "$summary" <<'PY'
import json, re, sys
expected, summary = json.loads(sys.argv[1]), sys.argv[2]
frozen = sorted(line.split("│")[1].split()[0] for line in summary.splitlines() if line.count("│") > 4 and line.split("│")[-2].strip() == "N")
count = lambda kind: int(re.search(rf"^ {kind} params: ([\d,]+)", summary, re.M).group(1).replace(",", ""))
result = {"frozen_in_convnet": frozen, "expected": expected,
          "convnet_counts": [count("Trainable"), count("Non-trainable")]}
print(json.dumps(result))
sys.exit(0 if frozen == sorted(expected["frozen"]) and result["convnet_counts"] == [expected["trainable"], expected["non_trainable"]] else 1)
PY
echo "keras-trainable-check: frozen layers and counts agree both ways"
