"""Writes Fashion-MNIST test images as PNG files, for the interoperability scripts.

python fashion-mnist-png.py FOLDER COUNT [--rgb]

Gray: test images 0..COUNT-1 as FOLDER/00.png, 01.png, ... RGB (--rgb): image i has test images
3i, 3i+1 and 3i+2 as its red, green and blue channels (FOLDER/fashion-rgb-<i>.png), so that the
channels differ. The PNG is written by hand (zlib and struct), so only numpy is needed.
"""
import gzip
import struct
import sys
import zlib

import numpy as np

folder, count, rgb = sys.argv[1], int(sys.argv[2]), "--rgb" in sys.argv[3:]
with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)


def png(path, pixels):
    """An 8-bit PNG of `pixels`, (h, w) gray or (h, w, 3) RGB: IHDR, one IDAT, IEND."""
    height, width = pixels.shape[:2]
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)  # filter type 0 (none) per row

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    colour_type = 2 if pixels.ndim == 3 else 0
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


for i in range(count):
    if rgb:
        png(f"{folder}/fashion-rgb-{i}.png", np.stack([images[3 * i], images[3 * i + 1], images[3 * i + 2]], axis=-1))
    else:
        png(f"{folder}/{i:02d}.png", images[i])
