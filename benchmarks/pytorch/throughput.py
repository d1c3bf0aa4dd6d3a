#!/usr/bin/env python3
"""PyTorch's side of ConvNet's throughput comparison (`scripts/compare-pytorch.sh`).

    python3 benchmarks/pytorch/throughput.py MODEL [--batch-size 64] [--threads 2] [--steps 60] [--warmup 10]

MODEL names one of ConvNet's zoo models that has a twin below:
  lenet5   LeNet-5 for 28x28x1 (ConvNet's `lenet5`)
  conv4x7  four valid 7x7 convolutions on 28x28x1, the Fashion-MNIST model of the lecture notes (`conv4x7`)
  cifar    six 3x3 convolutions with strides 1,2,1,2,1,2 and two dense layers, the CIFAR-10 model of the
           lecture notes (`cifar`)

It does exactly what `convnet bench --model MODEL --json` does: one batch of uniform random inputs of the
model's shape with random labels; a training step is forward, softmax cross-entropy, backward and one Adam
step (learning rate 1e-3); inference is a forward pass without gradients. Each is timed over `--steps`
steps after `--warmup` untimed ones. Output: one JSON line with the same field names as ConvNet's.

Needs PyTorch (`python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy`; the
comparison script does this for you).
"""
import argparse
import json
import resource
import time

import torch
from torch import nn
from torch.nn import functional as F


def lenet5():
    """conv 6@5x5 same + ReLU, max pool 2, conv 16@5x5 valid + ReLU, max pool 2, dense 120, 84, 10."""
    net = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    return net, (1, 28, 28)


def conv4x7():
    """Four valid 7x7 convolutions (32, 64, 128, 256 filters) with ReLU, flatten (4x4x256), dense 10."""
    widths, layers = (1, 32, 64, 128, 256), []
    for cin, cout in zip(widths, widths[1:]):
        layers += [nn.Conv2d(cin, cout, kernel_size=7), nn.ReLU()]
    net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(4 * 4 * 256, 10))
    return net, (1, 28, 28)


def cifar():
    """3x3 same convolutions of 32..1024 filters, strides 1,2,1,2,1,2, ReLU; dense 512 + ReLU; dense 10."""
    layers, cin = [], 3
    for cout, stride in ((32, 1), (64, 2), (128, 1), (256, 2), (512, 1), (1024, 2)):
        layers += [nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1), nn.ReLU()]
        cin = cout
    net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(4 * 4 * 1024, 512), nn.ReLU(), nn.Linear(512, 10))
    return net, (3, 32, 32)


MODELS = {"lenet5": lenet5, "conv4x7": conv4x7, "cifar": cifar}


def images_per_second(step, steps, warmup, batch_size):
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch_size / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    net, sample_shape = MODELS[args.model]()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    inputs = torch.rand(args.batch_size, *sample_shape)
    labels = torch.randint(0, 10, (args.batch_size,))

    def train_step():
        optimizer.zero_grad()
        F.cross_entropy(net(inputs), labels).backward()
        optimizer.step()

    def infer_step():
        with torch.no_grad():
            net(inputs)

    net.train()
    train = images_per_second(train_step, args.steps, args.warmup, args.batch_size)
    net.eval()
    infer = images_per_second(infer_step, args.steps, args.warmup, args.batch_size)
    print(json.dumps({
        "framework": "pytorch", "version": torch.__version__, "model": args.model, "batch": args.batch_size,
        "threads": args.threads, "parameters": sum(p.numel() for p in net.parameters()),
        "train_images_per_s": round(train, 1), "infer_images_per_s": round(infer, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


if __name__ == "__main__":
    main()
