#!/usr/bin/env python3
"""Keller Jordan's airbench94 / airbench95 recipe in PyTorch on the CPU: the side of the comparison
that `convnet speedrun` is measured against (scripts/compare-speedrun.sh runs both).

A port of github.com/KellerJordan/cifar10-airbench legacy/airbench94.py (and airbench95.py) with
the recipe unchanged; what differs is only what the CPU needs or the data forces:
  * fp32 and channels_last on the CPU (the reference uses fp16 on a GPU), `--threads` (default 2);
  * the images come from class folders of JPEG files (train/<class>/*.jpg, test/<class>/*.jpg,
    class folders sorted by name), the same files `convnet speedrun --data DIR` reads;
  * the 5,000 whitening images are a seeded random choice (the reference takes the first 5,000 of
    the official batches, which are already in random order; folders are sorted by class);
  * the Lookahead copy is taken after the whitening initialisation (the reference takes it
    before, which mixes ~1e-6 of the random initial whitening kernel back in at step 5).

Usage:
  python3 benchmarks/pytorch/airbench94.py --data DIR [--seed 0] [--runs 1] [--recipe airbench94]
      [--epochs E] [--limit N] [--test-limit N] [--threads 2] [--time-steps K]
--time-steps K trains K steps of the recipe's batch (after one untimed step) and prints the
seconds per step, then exits.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

RECIPES = {
    "airbench94": dict(epochs=9.9, lr=11.5, widths=(64, 256, 256)),
    "airbench95": dict(epochs=15.0, lr=10.0, widths=(128, 384, 384)),
}
HYP = dict(batch_size=1024, momentum=0.85, weight_decay=0.0153, bias_scaler=64.0, label_smoothing=0.2,
           whiten_bias_epochs=3, translate=2, batchnorm_momentum=0.6, scaling_factor=1 / 9)
CIFAR_MEAN = torch.tensor((0.4914, 0.4822, 0.4465))
CIFAR_STD = torch.tensor((0.2470, 0.2435, 0.2616))


def load_folder(root, limit=None):
    """uint8 images (n, 32, 32, 3) and labels from root/<class>/*; `limit` takes a class-balanced
    subset, round-robin over the classes (as convnet's --limit does)."""
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    files = [sorted(os.listdir(os.path.join(root, c))) for c in classes]
    order = []
    if limit is None:
        order = [(k, f) for k, names in enumerate(files) for f in names]
    else:
        position = 0
        while len(order) < limit and any(position < len(names) for names in files):
            for k, names in enumerate(files):
                if position < len(names) and len(order) < limit:
                    order.append((k, names[position]))
            position += 1
    images = np.empty((len(order), 32, 32, 3), dtype=np.uint8)
    labels = np.empty(len(order), dtype=np.int64)
    for i, (k, name) in enumerate(order):
        with Image.open(os.path.join(root, classes[k], name)) as image:
            images[i] = np.asarray(image.convert("RGB").resize((32, 32)) if image.size != (32, 32) else image.convert("RGB"))
        labels[i] = k
    return torch.from_numpy(images), torch.from_numpy(labels), classes


def normalize(images_uint8):
    """(n, 32, 32, 3) uint8 -> (n, 3, 32, 32) float, standardised, channels_last."""
    x = images_uint8.float().div(255).permute(0, 3, 1, 2)
    x = (x - CIFAR_MEAN.view(1, 3, 1, 1)) / CIFAR_STD.view(1, 3, 1, 1)
    return x.contiguous(memory_format=torch.channels_last)


def batch_flip_lr(images, generator):
    mask = (torch.rand(len(images), generator=generator) < 0.5).view(-1, 1, 1, 1)
    return torch.where(mask, images.flip(-1), images)


def batch_crop(padded, crop, generator):
    """A random crop per image from images padded by r = (size - crop) / 2 (shifts in -r..r)."""
    r = (padded.size(-1) - crop) // 2
    shifts = torch.randint(-r, r + 1, size=(len(padded), 2), generator=generator)
    out = torch.empty((len(padded), padded.size(1), crop, crop), dtype=padded.dtype)
    for sy in range(-r, r + 1):
        for sx in range(-r, r + 1):
            mask = (shifts[:, 0] == sy) & (shifts[:, 1] == sx)
            out[mask] = padded[mask, :, r + sy:r + sy + crop, r + sx:r + sx + crop]
    return out.contiguous(memory_format=torch.channels_last)


class TrainLoader:
    """The reference's loader: normalise, flip a random half once, reflect-pad by 2 (epoch 0);
    each epoch a random translation, all images flipped in odd epochs, shuffled, last batch dropped."""

    def __init__(self, images, labels, batch_size, generator):
        self.labels, self.batch_size, self.generator, self.epoch = labels, batch_size, generator, 0
        flipped = batch_flip_lr(normalize(images), generator)
        self.padded = F.pad(flipped, (HYP["translate"],) * 4, "reflect")

    def __len__(self):
        return len(self.labels) // self.batch_size

    def __iter__(self):
        images = batch_crop(self.padded, 32, self.generator)
        if self.epoch % 2 == 1:
            images = images.flip(-1)
        self.epoch += 1
        indices = torch.randperm(len(images), generator=self.generator)
        for i in range(len(self)):
            idxs = indices[i * self.batch_size:(i + 1) * self.batch_size]
            yield images[idxs].contiguous(memory_format=torch.channels_last), self.labels[idxs]


class BatchNorm(nn.BatchNorm2d):
    def __init__(self, num_features, momentum, eps=1e-12):
        super().__init__(num_features, eps=eps, momentum=1 - momentum)
        self.weight.requires_grad = False  # scale fixed at 1; offset trained


class Conv(nn.Conv2d):
    def __init__(self, channels_in, channels_out, kernel_size=3, padding="same", bias=False):
        super().__init__(channels_in, channels_out, kernel_size=kernel_size, padding=padding, bias=bias)

    def reset_parameters(self):
        super().reset_parameters()
        if self.bias is not None:
            self.bias.data.zero_()
        w = self.weight.data
        torch.nn.init.dirac_(w[:w.size(1)])


class ConvGroup(nn.Module):
    def __init__(self, channels_in, channels_out, momentum):
        super().__init__()
        self.conv1, self.pool, self.norm1 = Conv(channels_in, channels_out), nn.MaxPool2d(2), BatchNorm(channels_out, momentum)
        self.conv2, self.norm2, self.activ = Conv(channels_out, channels_out), BatchNorm(channels_out, momentum), nn.GELU()

    def forward(self, x):
        x = self.activ(self.norm1(self.pool(self.conv1(x))))
        return self.activ(self.norm2(self.conv2(x)))


class Mul(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return x * self.scale


def make_net(widths):
    whiten_width = 2 * 3 * 2 ** 2
    net = nn.Sequential(
        Conv(3, whiten_width, 2, padding=0, bias=True), nn.GELU(),
        ConvGroup(whiten_width, widths[0], HYP["batchnorm_momentum"]),
        ConvGroup(widths[0], widths[1], HYP["batchnorm_momentum"]),
        ConvGroup(widths[1], widths[2], HYP["batchnorm_momentum"]),
        nn.MaxPool2d(3), nn.Flatten(), nn.Linear(widths[2], 10, bias=False), Mul(HYP["scaling_factor"]))
    net[0].weight.requires_grad = False
    return net.to(memory_format=torch.channels_last)


def init_whitening_conv(layer, images, eps=5e-4):
    """Filters = eigenvectors of the uncentred 2x2-patch covariance / sqrt(eigenvalue + eps), and their negatives."""
    c, (h, w) = images.shape[1], layer.weight.shape[2:]
    patches = images.unfold(2, h, 1).unfold(3, w, 1).transpose(1, 3).reshape(-1, c, h, w).float()
    flat = patches.reshape(len(patches), -1)
    covariance = (flat.T @ flat) / len(flat)
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance, UPLO="U")
    eigenvalues, eigenvectors = eigenvalues.flip(0).view(-1, 1, 1, 1), eigenvectors.T.reshape(c * h * w, c, h, w).flip(0)
    scaled = eigenvectors / torch.sqrt(eigenvalues + eps)
    layer.weight.data[:] = torch.cat((scaled, -scaled))


class LookaheadState:
    def __init__(self, net):
        self.net_ema = {k: v.clone() for k, v in net.state_dict().items()}

    def update(self, net, decay):
        for ema_param, net_param in zip(self.net_ema.values(), net.state_dict().values()):
            if net_param.dtype in (torch.half, torch.float):
                ema_param.lerp_(net_param, 1 - decay)
                net_param.copy_(ema_param)


def infer(model, images, tta_level):
    def mirror(x):
        return 0.5 * model(x) + 0.5 * model(x.flip(-1))

    def mirror_translate(x):
        padded = F.pad(x, (1,) * 4, "reflect")
        shifted = [padded[:, :, 0:32, 0:32].contiguous(memory_format=torch.channels_last),
                   padded[:, :, 2:34, 2:34].contiguous(memory_format=torch.channels_last)]
        return 0.5 * mirror(x) + 0.5 * torch.stack([mirror(s) for s in shifted]).mean(0)

    fn = [model, mirror, mirror_translate][tta_level]
    model.eval()
    with torch.no_grad():
        return torch.cat([fn(x) for x in images.split(1000)])


def evaluate(model, images, labels, tta_level=0):
    return (infer(model, images, tta_level).argmax(1) == labels).float().mean().item()


def train(args, recipe, data, seed):
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    (train_images, train_labels), (test_images, test_labels) = data
    batch_size, momentum = HYP["batch_size"], HYP["momentum"]
    epochs = args.epochs or recipe["epochs"]
    kilostep_scale = 1024 * (1 + 1 / (1 - momentum))
    lr = recipe["lr"] / kilostep_scale
    wd = HYP["weight_decay"] * batch_size / kilostep_scale
    lr_biases = lr * HYP["bias_scaler"]
    loss_fn = nn.CrossEntropyLoss(label_smoothing=HYP["label_smoothing"], reduction="none")
    start = time.perf_counter()
    loader = TrainLoader(train_images, train_labels, batch_size, generator)
    total_steps = math.ceil(len(loader) * epochs)
    model = make_net(recipe["widths"])
    norm_biases = [p for k, p in model.named_parameters() if "norm" in k and p.requires_grad]
    other = [p for k, p in model.named_parameters() if "norm" not in k and p.requires_grad]
    optimizer = torch.optim.SGD([dict(params=norm_biases, lr=lr_biases, weight_decay=wd / lr_biases),
                                 dict(params=other, lr=lr, weight_decay=wd / lr)], momentum=momentum, nesterov=True)
    warmup = int(total_steps * 0.23)

    def get_lr(step):
        if step < warmup:
            return 0.2 * (1 - step / warmup) + 1.0 * (step / warmup)
        frac = (step - warmup) / (total_steps - warmup)
        return 1.0 * (1 - frac) + 0.07 * frac

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, get_lr)
    alpha = 0.95 ** 5 * (torch.arange(total_steps + 1) / total_steps) ** 3
    chosen = torch.randperm(len(train_images), generator=generator)[:5000]
    init_whitening_conv(model[0], normalize(train_images[chosen]))
    lookahead = LookaheadState(model)
    test_inputs = normalize(test_images)
    total_seconds = time.perf_counter() - start
    step = 0
    for epoch in range(math.ceil(epochs)):
        start, cpu_start = time.perf_counter(), time.process_time()
        model[0].bias.requires_grad = epoch < HYP["whiten_bias_epochs"]
        model.train()
        steps_this_epoch = 0
        timed_start = None
        for inputs, labels in loader:
            outputs = model(inputs)
            loss = loss_fn(outputs, labels).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            steps_this_epoch += 1
            if args.time_steps:
                if steps_this_epoch == 1:
                    timed_start, cpu_start = time.perf_counter(), time.process_time()
                elif steps_this_epoch == args.time_steps + 1:
                    seconds, cpu = time.perf_counter() - timed_start, time.process_time() - cpu_start
                    print(f"pytorch {torch.__version__}: {args.time_steps} steps of {batch_size} in {seconds:.2f} s: "
                          f"{seconds / args.time_steps:.3f} s/step, CPU {cpu / args.time_steps:.3f} s/step "
                          f"({torch.get_num_threads()} threads)", flush=True)
                    return None
            if step % 5 == 0:
                lookahead.update(model, decay=alpha[step].item())
            if step >= total_steps:
                lookahead.update(model, decay=1.0)
                break
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        total_seconds += seconds
        train_acc = (outputs.detach().argmax(1) == labels).float().mean().item()
        test_acc = evaluate(model, test_inputs, test_labels)
        print(f"seed {seed} epoch {epoch + 1:2d}: {steps_this_epoch:3d} steps in {seconds:7.1f} s "
              f"({seconds / max(steps_this_epoch, 1):.2f} s/step, CPU {cpu / max(steps_this_epoch, 1):.2f} s/step), last batch loss {loss.item() / batch_size:.4f} "
              f"accuracy {train_acc:.4f}, test accuracy {test_acc:.4f}", flush=True)
    start = time.perf_counter()
    tta_acc = evaluate(model, test_inputs, test_labels, tta_level=2)
    tta_seconds = time.perf_counter() - start
    plain = evaluate(model, test_inputs, test_labels)
    print(f"seed {seed}: training {total_seconds:.1f} s ({total_seconds / 60:.1f} min), test accuracy {plain:.4f}, "
          f"with test-time augmentation {tta_acc:.4f} ({tta_seconds:.1f} s)", flush=True)
    return tta_acc, total_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="folder with train/<class>/*.jpg and test/<class>/*.jpg")
    parser.add_argument("--recipe", default="airbench94", choices=sorted(RECIPES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--epochs", type=float)
    parser.add_argument("--limit", type=int, help="use N training images (class-balanced)")
    parser.add_argument("--test-limit", type=int, help="evaluate on N test images (a seeded random choice)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--time-steps", type=int, help="time this many training steps and exit")
    args = parser.parse_args()
    for folder in ("train", "test"):
        if not os.path.isdir(os.path.join(args.data, folder)):
            sys.exit(f"--data {args.data}: no {folder}/ folder of class subfolders")
    torch.set_num_threads(args.threads)
    recipe = RECIPES[args.recipe]
    start = time.perf_counter()
    train_images, train_labels, _ = load_folder(os.path.join(args.data, "train"), args.limit)
    test_images, test_labels, _ = load_folder(os.path.join(args.data, "test"))
    if args.test_limit and args.test_limit < len(test_labels):
        chosen = torch.randperm(len(test_labels), generator=torch.Generator().manual_seed(0x7E57))[:args.test_limit].sort().values
        test_images, test_labels = test_images[chosen], test_labels[chosen]
    print(f"{args.recipe} on {len(train_labels)} training and {len(test_labels)} test images from {args.data} "
          f"(loaded in {time.perf_counter() - start:.1f} s); torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    results = [train(args, recipe, ((train_images, train_labels), (test_images, test_labels)), args.seed + run)
               for run in range(args.runs)]
    results = [r for r in results if r is not None]
    if len(results) > 1:
        accs, times = torch.tensor([r[0] for r in results]), torch.tensor([r[1] for r in results])
        print(f"{len(results)} runs: test accuracy with test-time augmentation {accs.mean():.4f} ± {accs.std():.4f} "
              f"(mean ± standard deviation), training {times.mean():.1f} ± {times.std():.1f} s")


if __name__ == "__main__":
    main()
