#!/usr/bin/env python3
"""Keras 3 `.keras` files both ways between ConvNet and real Keras (run by scripts/keras3-interop.sh).

  keras3-interop.py models DIR [NAME...]
                                       Keras builds and briefly trains two models on Fashion-MNIST, a
                                       LeNet-5-like Sequential and a functional model with batch
                                       normalization and a residual Add, and writes DIR/<name>.keras (Keras's
                                       own file), DIR/<name>.json (its config, for ConvNet to train) and
                                       DIR/<name>.expected.json (Keras's probabilities for test images).
  keras3-interop.py check MODEL.keras PREDICTIONS.json
                                       keras.saving.load_model reads MODEL.keras (written by ConvNet) and
                                       predicts the test images; compared with ConvNet's `predict --json`.
  keras3-interop.py check-inputs MODEL PREDICTIONS.json
                                       the same for a model whose input preprocessing Keras does not know
                                       (airbench94: CIFAR-10 standardisation): Keras predicts on the very
                                       inputs ConvNet's `predict --json --with-input` fed the model.
  keras3-interop.py compare EXPECTED.json PREDICTIONS.json
                                       Keras's probabilities (from `models`) against ConvNet's predictions
                                       for the Keras-written file.

Test images: the first COUNT Fashion-MNIST test images (/usr/share/datasets/fashion-mnist), scaled to
[0, 1]; ConvNet reads the same images as PNGs written by `pngs`. Exit status 1 when the largest
difference is 1e-4 or more or a top class differs.
"""
import gzip, json, os, struct, sys, zlib

import numpy as np

FASHION = "/usr/share/datasets/fashion-mnist"
COUNT = 16
TOLERANCE = 1e-4


def images(split, count):
    prefix = "t10k" if split == "test" else "train"
    with gzip.open(f"{FASHION}/{prefix}-images-idx3-ubyte.gz") as f:
        pixels = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)[:count]
    with gzip.open(f"{FASHION}/{prefix}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)[:count]
    return pixels, labels


def scaled(pixels):
    return pixels.reshape(-1, 28, 28, 1).astype("float32") / 255.0


def write_pngs(directory, count):
    """The first `count` test images as 8-bit grayscale PNGs, 00.png, 01.png, ..."""
    pixels, _ = images("test", count)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    for index, image in enumerate(pixels):
        raw = b"".join(b"\x00" + row.tobytes() for row in image)
        with open(os.path.join(directory, f"{index:02d}.png"), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def build_models(keras):
    layers = keras.layers
    lenet = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(6, 5, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(16, 5, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(120, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(84, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ], name="lenet5_keras")

    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(8, 3, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    y = layers.Conv2D(8, 3, padding="same")(x)
    y = layers.BatchNormalization()(y)
    x = layers.Activation("relu")(layers.Add()([x, y]))
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    residual = keras.Model(inputs, outputs, name="residual_keras")
    return {"lenet5_keras": lenet, "residual_keras": residual}


def models(directory, *names, train_count=2000):
    import keras
    keras.utils.set_random_seed(0)
    train_pixels, train_labels = images("train", train_count)
    test_pixels, _ = images("test", COUNT)
    for name, model in build_models(keras).items():
        if names and name not in names:
            continue
        with open(os.path.join(directory, f"{name}.json"), "w") as f:
            f.write(model.to_json())
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(scaled(train_pixels), train_labels, epochs=1, batch_size=32, verbose=0)
        model.save(os.path.join(directory, f"{name}.keras"))
        probabilities = model.predict(scaled(test_pixels), verbose=0)
        expected = {"model": name, "keras_version": keras.__version__, "backend": keras.backend.backend(),
                    "input_scaling": "pixels/255.0", "first_k_test_indices": list(range(COUNT)),
                    "first_k_probabilities": probabilities.astype(float).tolist()}
        with open(os.path.join(directory, f"{name}.expected.json"), "w") as f:
            json.dump(expected, f, indent=1)
        print(f"Keras {keras.__version__} wrote {name}.keras ({model.count_params()} parameters)")


def report(kind, theirs, ours, extra):
    difference = float(np.abs(theirs - ours).max())
    same = int((theirs.argmax(1) == ours.argmax(1)).sum())
    print(json.dumps({"direction": kind, **extra, "images": len(theirs), "max_abs_difference": difference,
                      "same_top_class": same}))
    return difference < TOLERANCE and same == len(theirs)


def convnet_probabilities(path):
    return np.array([entry["probabilities"] for entry in json.load(open(path))], dtype="float32")


def check(model_path, predictions_path):
    import keras
    model = keras.saving.load_model(model_path, compile=False)
    test_pixels, _ = images("test", COUNT)
    theirs = model.predict(scaled(test_pixels), verbose=0)
    return report("convnet -> keras", theirs, convnet_probabilities(predictions_path),
                  {"file": os.path.basename(model_path), "keras": keras.__version__, "backend": keras.backend.backend()})


def check_inputs(model_path, predictions_path):
    import keras
    model = keras.saving.load_model(model_path, compile=False)
    entries = json.load(open(predictions_path))
    inputs = np.concatenate([np.array(entry["input"], dtype="float32").reshape(entry["inputShape"]) for entry in entries])
    theirs = model.predict(inputs, verbose=0)
    ours = convnet_probabilities(predictions_path)
    # A model whose outputs hardly depend on the image (barely trained) would agree trivially.
    spread = float(np.ptp(ours, axis=0).max())
    agree = report("convnet -> keras", theirs, ours, {"file": os.path.basename(model_path), "keras": keras.__version__,
                                                       "backend": keras.backend.backend(), "output_spread": spread})
    return agree and spread > 100 * TOLERANCE


def compare(expected_path, predictions_path):
    expected = json.load(open(expected_path))
    theirs = np.array(expected["first_k_probabilities"], dtype="float32")
    return report("keras -> convnet", theirs, convnet_probabilities(predictions_path),
                  {"file": expected["model"] + ".keras", "keras": expected["keras_version"]})


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "models":
        models(*arguments)
    elif command == "pngs":
        write_pngs(arguments[0], COUNT)
    elif command == "check":
        sys.exit(0 if check(*arguments) else 1)
    elif command == "check-inputs":
        sys.exit(0 if check_inputs(*arguments) else 1)
    elif command == "compare":
        sys.exit(0 if compare(*arguments) else 1)
    else:
        sys.exit(f"unknown command {command}; see the docstring")
