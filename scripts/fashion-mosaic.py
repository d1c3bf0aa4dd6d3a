#!/usr/bin/env python3
"""Writes a gray PNG of Fashion-MNIST test images side by side (a larger input for a fully
convolutional model, `convnet predict --model fcn.h5 strip.png`): fashion-mosaic.py OUT.png I J K ...
Reads t10k-images-idx3-ubyte.gz from $FASHION_MNIST_DIR (default /usr/share/datasets/fashion-mnist,
the Debian package dataset-fashion-mnist). Standard library only."""
import gzip, os, struct, sys, zlib

def main():
    if len(sys.argv) < 3:
        sys.exit("usage: fashion-mosaic.py OUT.png INDEX [INDEX ...]")
    folder = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
    with gzip.open(os.path.join(folder, "t10k-images-idx3-ubyte.gz")) as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        data = f.read()
    indices = [int(i) for i in sys.argv[2:]]
    if any(not 0 <= i < count for i in indices):
        sys.exit(f"indices must be in 0..{count - 1}")
    width = cols * len(indices)
    raw = b"".join(b"\0" + b"".join(data[(i * rows + r) * cols:(i * rows + r + 1) * cols] for i in indices) for r in range(rows))
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, rows, 8, 0, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    with open(sys.argv[1], "wb") as f:
        f.write(png)

main()
