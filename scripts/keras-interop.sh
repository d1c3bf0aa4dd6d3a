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
python3 - "$work" <<'PY'
import gzip, sys, zlib, struct
import numpy as np
work = sys.argv[1]
with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)[:16]
def png(path, pixels):
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for i, image in enumerate(images):
    png(f"{work}/{i:02d}.png", image)
PY
.build/release/convnet predict --model "$work/lenet5.h5" --json "$work"/*.png > "$work/predictions.json"
KERAS_BACKEND=jax "$venv/bin/python" scripts/keras-interop.py "$work/lenet5.h5" "$work/predictions.json" 16
