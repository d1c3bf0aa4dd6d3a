#!/usr/bin/env python3
"""PyTorch's side of ConvNet's throughput comparison (`scripts/compare-pytorch.sh`).

    python3 benchmarks/pytorch/throughput.py MODEL [--batch-size 64] [--threads 2] [--steps 60] [--infer-steps N]
        [--warmup 10] [--min-seconds 2] [--repeats 5]

MODEL names one of ConvNet's zoo models that has a twin below:
  lenet5   LeNet-5 for 28x28x1 (ConvNet's `lenet5`)
  conv4x7  four valid 7x7 convolutions on 28x28x1, the Fashion-MNIST model of the lecture notes (`conv4x7`)
  cifar    six 3x3 convolutions with strides 1,2,1,2,1,2 and two dense layers, the CIFAR-10 model of the
           lecture notes (`cifar`)
  resnet20 He et al.'s CIFAR ResNet-20 as ConvNet's `resnet20`: 3x3 conv 16, three stages of three basic
           blocks (16/32/64 filters), 1x1 projection shortcuts with batch norm where the shape changes,
           global average pooling, dense 10 (272,474 trainable parameters on both sides)
  resnet18-cifar  ResNet-18 for 32x32 as kuangliu/pytorch-cifar (`resnet18-cifar`)
  airbench94      the speedrun network (`airbench94`), from airbench94.py beside this file, channels_last

It does exactly what `convnet bench --model MODEL --json` does: one batch of uniform random inputs of the
model's shape with random labels; a training step is forward, softmax cross-entropy, backward and one Adam
step (learning rate 1e-3); inference is a forward pass without gradients. Each is timed the same way too:
after `--warmup` untimed steps, the step count (`--steps`, `--infer-steps`) is raised until one run lasts
`--min-seconds` (0: as given), then `--repeats` runs are timed and the median and spread (min, max)
reported. Output: one JSON line with the same field names as ConvNet's, including the step counts used.

Needs PyTorch (`python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy`; the
comparison script does this for you).
"""
import argparse
import json
import math
import resource
import statistics
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


class BasicBlock(nn.Module):
    """3x3 conv-BN-ReLU, 3x3 conv-BN, plus the shortcut (identity, or 1x1 conv with the stride and BN), ReLU.

    The strided 3x3 convolution pads one pixel on every side, as ConvNet's `.uniform(1)` does."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.shortcut(x) + self.bn2(self.conv2(y)))


def cifar_resnet(widths, blocks_per_stage):
    """A ResNet for 32x32x3: 3x3 stem conv-BN-ReLU of widths[0], stages of basic blocks (the first of every stage
    after the first with stride 2), global average pool, dense 10."""
    layers, cin = [nn.Conv2d(3, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()], widths[0]
    for stage, cout in enumerate(widths):
        for index in range(blocks_per_stage):
            layers.append(BasicBlock(cin, cout, 2 if stage > 0 and index == 0 else 1))
            cin = cout
    net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10))
    return net, (3, 32, 32)


def resnet20():
    """ResNet-20 (ConvNet's `resnet20`): stem of 16, stages of 3 blocks of 16/32/64."""
    return cifar_resnet((16, 32, 64), 3)


def resnet18_cifar():
    """ResNet-18 for 32x32 as kuangliu/pytorch-cifar (ConvNet's `resnet18-cifar`): stem of 64, stages of 2 blocks of
    64/128/256/512."""
    return cifar_resnet((64, 128, 256, 512), 2)


def airbench94_net():
    """Jordan's airbench94 network (ConvNet's `airbench94`), from this folder's port of the recipe: channels_last,
    as that port trains it; the whitening weights frozen there, as in the recipe."""
    from airbench94 import make_net
    return make_net((64, 256, 256)), (3, 32, 32)


MODELS = {"lenet5": lenet5, "conv4x7": conv4x7, "cifar": cifar, "resnet20": resnet20, "resnet18-cifar": resnet18_cifar,
          "airbench94": airbench94_net}
# Models whose inputs are passed channels_last (NHWC in memory), PyTorch's faster layout for them on the CPU.
CHANNELS_LAST = {"airbench94"}


def seconds(step, steps):
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return time.perf_counter() - start


def images_per_second(step, steps, args):
    """(steps used, median, min, max images/s) as ConvNet's bench measures them."""
    for _ in range(args.warmup):
        step()
    while args.min_seconds > 0:
        elapsed = seconds(step, steps)
        if elapsed >= args.min_seconds:
            break
        steps = max(steps + 1, math.ceil(steps * 1.1 * args.min_seconds / max(elapsed, 1e-6)))
    rates = sorted(steps * args.batch_size / seconds(step, steps) for _ in range(args.repeats))
    return steps, statistics.median(rates), rates[0], rates[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--infer-steps", type=int)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--min-seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                        help="bf16: torch.autocast('cpu', dtype=torch.bfloat16) around forward and loss "
                             "(bfloat16 convolutions and linear layers, float32 weights), as ConvNet's --precision bf16")
    args = parser.parse_args()
    autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16")

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    net, sample_shape = MODELS[args.model]()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    inputs = torch.rand(args.batch_size, *sample_shape)
    if args.model in CHANNELS_LAST:
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, 10, (args.batch_size,))

    def train_step():
        optimizer.zero_grad()
        with autocast():
            loss = F.cross_entropy(net(inputs), labels)
        loss.backward()
        optimizer.step()

    def infer_step():
        with torch.no_grad(), autocast():
            net(inputs)

    net.train()
    train = images_per_second(train_step, args.steps, args)
    net.eval()
    infer = images_per_second(infer_step, args.infer_steps or args.steps, args)
    print(json.dumps({
        "framework": "pytorch", "version": torch.__version__, "model": args.model, "batch": args.batch_size,
        "threads": args.threads, "precision": args.precision, "parameters": sum(p.numel() for p in net.parameters()),
        "train_images_per_s": round(train[1], 1), "infer_images_per_s": round(infer[1], 1),
        "train_images_per_s_min": round(train[2], 1), "train_images_per_s_max": round(train[3], 1),
        "infer_images_per_s_min": round(infer[2], 1), "infer_images_per_s_max": round(infer[3], 1),
        "train_steps": train[0], "infer_steps": infer[0], "repeats": args.repeats,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


if __name__ == "__main__":
    main()
