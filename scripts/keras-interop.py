#!/usr/bin/env python3
"""Checks that a model file written by ConvNet loads in Keras and predicts the same.

Usage: keras-interop.py MODEL.h5 INPUTS.npy? -- run by scripts/keras-interop.sh, which trains a model
with `convnet train`, writes ConvNet's predictions for the first Fashion-MNIST test images, and
compares them with Keras's predictions for the same images here.
"""
import gzip, json, sys

import numpy as np
import keras

model_path, predictions_path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = keras.models.load_model(model_path, compile=False)
model.summary()
with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28, 1)[:count].astype("float32") / 255.0
keras_probabilities = model.predict(images, verbose=0)
convnet = json.load(open(predictions_path))
convnet_probabilities = np.array([entry["probabilities"] for entry in convnet], dtype="float32")
difference = float(np.abs(keras_probabilities - convnet_probabilities).max())
same_classes = int((keras_probabilities.argmax(1) == convnet_probabilities.argmax(1)).sum())
print(json.dumps({"keras": keras.__version__, "backend": keras.backend.backend(), "images": count,
                  "max_abs_difference": difference, "same_top_class": same_classes}))
sys.exit(0 if difference < 1e-4 and same_classes == count else 1)
