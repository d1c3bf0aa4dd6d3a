#!/usr/bin/env python3
"""Frozen layers in Keras: run by scripts/keras-trainable-check.sh.

  keras-trainable.py check MODEL.h5 FROZEN,LAYERS TRAINABLE_COUNT NON_TRAINABLE_COUNT
      loads a model file ConvNet wrote and checks, in Keras, which layers are frozen
      (`layer.trainable`) and Keras's own trainable / non-trainable parameter counts.
  keras-trainable.py write OUT.h5
      builds a small functional model with batch normalization in Keras, freezes its first
      convolution and batch normalization, saves it as .h5 and prints the frozen layers and
      Keras's counts as JSON, for ConvNet to check.
"""
import json, sys

import numpy as np
import keras


def counts(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    frozen = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return trainable, frozen


if sys.argv[1] == "check":
    path, frozen, trainable, non_trainable = sys.argv[2], set(sys.argv[3].split(",")), int(sys.argv[4]), int(sys.argv[5])
    model = keras.models.load_model(path, compile=False)
    keras_frozen = {layer.name for layer in model.layers if layer.weights and not layer.trainable}
    result = {"keras": keras.__version__, "frozen_in_keras": sorted(keras_frozen), "expected_frozen": sorted(frozen),
              "keras_counts": counts(model), "convnet_counts": [trainable, non_trainable]}
    print(json.dumps(result))
    sys.exit(0 if keras_frozen == frozen and counts(model) == (trainable, non_trainable) else 1)
else:
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="norm")(x)
    x = keras.layers.Activation("relu")(x)
    shortcut = keras.layers.Conv2D(4, 1, name="shortcut")(inputs)
    x = keras.layers.Add()([x, shortcut])
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(x)
    model = keras.Model(inputs, outputs)
    model.get_layer("conv").trainable = False
    model.get_layer("norm").trainable = False
    model.save(sys.argv[2])
    print(json.dumps({"frozen": ["conv", "norm"], "trainable": counts(model)[0], "non_trainable": counts(model)[1]}))
