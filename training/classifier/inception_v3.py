"""Inception V3 (book chapter 10 serves TF-Slim's `inception_v3`; we rebuild it with Keras 3 layers).

The layer sequence is the same as Keras's `keras.applications.InceptionV3` (conv without bias -> BN without
scale -> ReLU, modules mixed0 ... mixed10, global average pool, dense head), created in the same order, so a
Keras weights file assigns weight-layer by weight-layer (proved against Keras's own model in the tests).
`width` scales every channel count (tiny preset).

Input: RGB 0..255, like VGG16; the scaling the weights expect ([-1, 1], `x / 127.5 - 1`, as TF-Slim and
Keras's `preprocess_input`) happens INSIDE the graph so the gateway sends the same raw pixels to both models.

Head: `num_classes` outputs. TF-Slim's ImageNet checkpoints have 1001 classes where index 0 is "background";
Keras's weights have 1000. Both are supported; the labels asset of each version records which (see
`labels.py`), so index -> label never depends on a convention the gateway has to guess.
"""

from __future__ import annotations

import keras
from keras import layers

FULL_SIZE_PARAMS_1000 = 23_851_784  # keras.applications.InceptionV3(weights=None) with 1000 classes


@keras.saving.register_keras_serializable(package="classifier")
class ScaleToUnit(layers.Layer):
    """x / 127.5 - 1: RGB 0..255 -> [-1, 1] (Inception's input convention), inside the graph."""

    def call(self, x):
        return x / 127.5 - 1.0


class _Builder:
    def __init__(self, width: float, bn_momentum: float = 0.99) -> None:
        self.width = width
        self.bn_momentum = bn_momentum

    def f(self, filters: int) -> int:
        return max(1, int(round(filters * self.width)))

    def cbr(self, x, filters: int, rows: int, cols: int, *, strides=(1, 1), padding: str = "same"):
        x = layers.Conv2D(self.f(filters), (rows, cols), strides=strides, padding=padding, use_bias=False)(x)
        x = layers.BatchNormalization(axis=3, scale=False, momentum=self.bn_momentum)(x)
        return layers.Activation("relu")(x)


def _avg(x):
    return layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)


def build_inception_v3(num_classes: int = 1001, *, width: float = 1.0, input_size: int = 299,
                       dropout: float = 0.0, bn_momentum: float = 0.99) -> keras.Model:
    """Functional Inception V3 whose output dict holds `probabilities` (softmax over `num_classes`).

    `bn_momentum`: Keras's default 0.99 for full-size training; short CPU runs need a shorter window (presets)."""
    b = _Builder(width, bn_momentum)
    inputs = keras.Input((input_size, input_size, 3), name="images")
    x = ScaleToUnit(name="scale_to_unit")(inputs)
    x = b.cbr(x, 32, 3, 3, strides=(2, 2), padding="valid")
    x = b.cbr(x, 32, 3, 3, padding="valid")
    x = b.cbr(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = b.cbr(x, 80, 1, 1, padding="valid")
    x = b.cbr(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)

    for i, pool_filters in enumerate((32, 64, 64)):  # mixed 0-2: 35 x 35
        b1 = b.cbr(x, 64, 1, 1)
        b5 = b.cbr(b.cbr(x, 48, 1, 1), 64, 5, 5)
        b3 = b.cbr(b.cbr(b.cbr(x, 64, 1, 1), 96, 3, 3), 96, 3, 3)
        bp = b.cbr(_avg(x), pool_filters, 1, 1)
        x = layers.concatenate([b1, b5, b3, bp], axis=3, name=f"mixed{i}")

    # mixed 3: 17 x 17
    b3 = b.cbr(x, 384, 3, 3, strides=(2, 2), padding="valid")
    bd = b.cbr(b.cbr(b.cbr(x, 64, 1, 1), 96, 3, 3), 96, 3, 3, strides=(2, 2), padding="valid")
    bp = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([b3, bd, bp], axis=3, name="mixed3")

    for i, c in enumerate((128, 160, 160, 192)):  # mixed 4-7: 17 x 17
        b1 = b.cbr(x, 192, 1, 1)
        b7 = b.cbr(b.cbr(b.cbr(x, c, 1, 1), c, 1, 7), 192, 7, 1)
        bd = b.cbr(x, c, 1, 1)
        bd = b.cbr(bd, c, 7, 1)
        bd = b.cbr(bd, c, 1, 7)
        bd = b.cbr(bd, c, 7, 1)
        bd = b.cbr(bd, 192, 1, 7)
        bp = b.cbr(_avg(x), 192, 1, 1)
        x = layers.concatenate([b1, b7, bd, bp], axis=3, name=f"mixed{4 + i}")

    # mixed 8: 8 x 8
    b3 = b.cbr(b.cbr(x, 192, 1, 1), 320, 3, 3, strides=(2, 2), padding="valid")
    b7 = b.cbr(b.cbr(b.cbr(x, 192, 1, 1), 192, 1, 7), 192, 7, 1)
    b7 = b.cbr(b7, 192, 3, 3, strides=(2, 2), padding="valid")
    bp = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([b3, b7, bp], axis=3, name="mixed8")

    for i in range(2):  # mixed 9-10: 8 x 8
        b1 = b.cbr(x, 320, 1, 1)
        b3 = b.cbr(x, 384, 1, 1)
        b3 = layers.concatenate([b.cbr(b3, 384, 1, 3), b.cbr(b3, 384, 3, 1)], axis=3, name=f"mixed9_{i}")
        bd = b.cbr(b.cbr(x, 448, 1, 1), 384, 3, 3)
        bd = layers.concatenate([b.cbr(bd, 384, 1, 3), b.cbr(bd, 384, 3, 1)], axis=3)
        bp = b.cbr(_avg(x), 192, 1, 1)
        x = layers.concatenate([b1, b3, bd, bp], axis=3, name=f"mixed{9 + i}")

    features = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    h = layers.Dropout(dropout, name="dropout")(features) if dropout else features
    logits = layers.Dense(num_classes, name="predictions")(h)
    probs = layers.Softmax(name="probabilities")(logits)
    return keras.Model(inputs, {"probabilities": probs, "features": features}, name="inception_v3")


HEAD_LAYERS = ("predictions",)
