"""Reads a `convnet train --tensorboard DIR --log history.csv --save model.h5` run back with
TensorBoard's own reader (EventAccumulator) and checks every tag, step and value logged.

python tensorboard-check.py DIR history.csv model.h5 STEPS_PER_EPOCH

- file names: events.out.tfevents.<seconds>.<host>.<pid> in DIR/train and DIR/validation;
- train/: epoch_loss, epoch_accuracy, epoch_learning_rate at steps 1..E equal the CSV's loss,
  accuracy and learning_rate (as float32); batch_loss and batch_learning_rate at global steps
  1..E*S, the batch losses of each epoch averaging to its epoch_loss (equal-sized batches), the
  batch learning rate equal to the epoch's; a histogram of every weight at steps 1..E whose count,
  min, max and sum at the last epoch equal the saved model's weights; the first convolution's
  filters as a PNG image at steps 1..E;
- validation/: epoch_loss, epoch_accuracy equal the CSV's val_loss, val_accuracy;
- no other tag.
"""
import csv
import os
import re
import sys

import h5py
import numpy as np
from tensorboard.backend.event_processing import event_accumulator

directory, history_path, model_path, steps_per_epoch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(history_path) as f:
    rows = list(csv.DictReader(f))
epochs = len(rows)
checked = 0

def expect(condition, message):
    if not condition:
        sys.exit(f"tensorboard-check: {message}")

def load(run):
    folder = os.path.join(directory, run)
    names = os.listdir(folder)
    expect(len(names) == 1 and re.fullmatch(r"events\.out\.tfevents\.\d+\.[^.]+\.\d+", names[0]), f"{run}/: unexpected files {names}")
    accumulator = event_accumulator.EventAccumulator(folder, size_guidance={"scalars": 0, "histograms": 0, "images": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator

def scalars(accumulator, tag):
    events = accumulator.Scalars(tag)
    return [e.step for e in events], [e.value for e in events]

def expect_epoch_scalars(accumulator, run, tag, column):
    global checked
    steps, values = scalars(accumulator, tag)
    expect(steps == list(range(1, epochs + 1)), f"{run}/{tag}: steps {steps}")
    for step, value, row in zip(steps, values, rows):
        expect(value == np.float32(float(row[column])), f"{run}/{tag} at epoch {step}: {value} != CSV {column} {row[column]}")
        checked += 1

train = load("train")
weights = {}
with h5py.File(model_path, "r") as f:
    f["model_weights"].visititems(lambda name, item: weights.__setitem__(name, np.array(item)) if isinstance(item, h5py.Dataset) else None)
histogram_tags = sorted(train.Tags()["histograms"])
scalar_tags = sorted(train.Tags()["scalars"])
image_tags = sorted(train.Tags()["images"])
expect(scalar_tags == ["batch_learning_rate", "batch_loss", "epoch_accuracy", "epoch_learning_rate", "epoch_loss"], f"train scalars {scalar_tags}")
expect(len(image_tags) == 1 and image_tags[0].endswith("/kernel/image"), f"train images {image_tags}")
expect(train.Tags()["tensors"] == [] and not train.Tags()["audio"], "unexpected train tags")
for tag, column in [("epoch_loss", "loss"), ("epoch_accuracy", "accuracy"), ("epoch_learning_rate", "learning_rate")]:
    expect_epoch_scalars(train, "train", tag, column)

steps, losses = scalars(train, "batch_loss")
expect(steps == list(range(1, epochs * steps_per_epoch + 1)), f"train/batch_loss: steps {steps[:5]}... ({len(steps)})")
rate_steps, rates = scalars(train, "batch_learning_rate")
expect(rate_steps == steps, "train/batch_learning_rate: steps differ from batch_loss's")
for epoch, row in enumerate(rows):
    epoch_losses = np.array(losses[epoch * steps_per_epoch:(epoch + 1) * steps_per_epoch], dtype=np.float64)
    mean = epoch_losses.mean()
    expect(abs(mean - float(row["loss"])) <= 1e-5 * max(1.0, abs(mean)), f"epoch {epoch + 1}: mean batch_loss {mean} != CSV loss {row['loss']}")
    epoch_rates = rates[epoch * steps_per_epoch:(epoch + 1) * steps_per_epoch]
    expect(all(r == np.float32(float(row["learning_rate"])) for r in epoch_rates), f"epoch {epoch + 1}: batch_learning_rate {set(epoch_rates)}")
    checked += 2 * steps_per_epoch

for tag in histogram_tags:
    events = train.Histograms(tag)
    expect([e.step for e in events] == list(range(1, epochs + 1)), f"train/{tag}: histogram steps {[e.step for e in events]}")
    matches = [v for name, v in weights.items() if name.endswith("/" + tag) or name == tag]
    expect(len(matches) == 1, f"train/{tag}: {len(matches)} weights in {model_path} match")
    saved, last = matches[0].astype(np.float64), events[-1].histogram_value
    expect(last.num == saved.size and np.float32(last.min) == np.float32(saved.min()) and np.float32(last.max) == np.float32(saved.max()),
           f"train/{tag}: histogram num/min/max {last.num}/{last.min}/{last.max} != saved {saved.size}/{saved.min()}/{saved.max()}")
    expect(abs(last.sum - saved.sum()) <= 1e-4 * max(1.0, np.abs(saved).sum()), f"train/{tag}: histogram sum {last.sum} != {saved.sum()}")
    expect(sum(last.bucket) == last.num and len(last.bucket) == len(last.bucket_limit), f"train/{tag}: bucket counts")
    checked += len(events)
expect(len(histogram_tags) == len(weights), f"histograms for {len(histogram_tags)} of the {len(weights)} weights")

images = train.Images(image_tags[0])
expect([e.step for e in images] == list(range(1, epochs + 1)), f"train/{image_tags[0]}: steps")
for image in images:
    expect(image.encoded_image_string.startswith(b"\x89PNG\r\n\x1a\n") and image.width > 0 and image.height > 0, "image is not a PNG")
checked += len(images)

validation = load("validation")
expect(sorted(validation.Tags()["scalars"]) == ["epoch_accuracy", "epoch_loss"], f"validation scalars {validation.Tags()['scalars']}")
for tag, column in [("epoch_loss", "val_loss"), ("epoch_accuracy", "val_accuracy")]:
    expect_epoch_scalars(validation, "validation", tag, column)

print(f"tensorboard-check: EventAccumulator read back {len(scalar_tags) + 2} scalar tags, {len(histogram_tags)} histograms and "
      f"{len(image_tags)} image tag over {epochs} epochs and {epochs * steps_per_epoch} steps; {checked} values match the run's CSV log and saved weights")
