"""VGG16 as in the book (TensorLayer's `tutorial_vgg16.py`): 13 conv 3x3 + 3 fully connected layers.

Input is RGB 0..255; the ImageNet mean [123.68, 116.779, 103.939] is subtracted INSIDE the graph so that every
client (gateway, TF Serving REST users, warm-up records) sends raw pixels. `width` scales every channel count
(tiny preset); at width 1.0 with 1000 classes the model has exactly 138,357,544 parameters.
Layer names follow Keras's VGG16 (block1_conv1 ... fc1, fc2, predictions) so a Keras weights file maps by
order and name; the book's npz keys (conv1_1_W ... fc8_b) map onto the same layers (see `weights.py`).
"""

from __future__ import annotations

import keras
from keras import layers

VGG_MEAN_RGB = (123.68, 116.779, 103.939)
# (block, number of convs, channels at width 1.0)
BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 3, 256), (4, 3, 512), (5, 3, 512))
FC_UNITS = 4096
FULL_SIZE_PARAMS = 138_357_544


def scaled(channels: int, width: float) -> int:
    return max(1, int(round(channels * width)))


@keras.saving.register_keras_serializable(package="classifier")
class SubtractMean(layers.Layer):
    """x - mean, per RGB channel: the book's `net_in.outputs = net_in.outputs - mean`, kept inside the graph."""

    def __init__(self, mean=VGG_MEAN_RGB, **kwargs):
        super().__init__(**kwargs)
        self.mean = tuple(float(m) for m in mean)

    def call(self, x):
        return x - keras.ops.convert_to_tensor(self.mean, dtype=x.dtype)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean}


FIRST_LAYER_INIT = keras.initializers.VarianceScaling(scale=2.0 / 64.0**2, mode="fan_in", distribution="truncated_normal")


def build_vgg16(num_classes: int = 1000, *, width: float = 1.0, fc_units: int | None = None, input_size: int = 224,
                dropout: float = 0.0) -> keras.Model:
    """Functional VGG16 with two outputs: class probabilities and the fc2 (4096-d at full size) feature vector."""
    fc = fc_units or scaled(FC_UNITS, width)
    inputs = keras.Input((input_size, input_size, 3), name="images")
    x = SubtractMean(name="subtract_mean")(inputs)
    for block, n, ch in BLOCKS:
        for i in range(1, n + 1):
            # He init everywhere; the first layer's is divided by ~64 (the std of mean-subtracted 0..255 pixels)
            # so training from scratch starts with unit-scale activations instead of exploding logits.
            init = FIRST_LAYER_INIT if (block, i) == (1, 1) else "he_normal"
            x = layers.Conv2D(scaled(ch, width), 3, padding="same", activation="relu", name=f"block{block}_conv{i}",
                              kernel_initializer=init)(x)
        x = layers.MaxPooling2D(2, 2, name=f"block{block}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(fc, activation="relu", name="fc1", kernel_initializer="he_normal")(x)
    if dropout:
        x = layers.Dropout(dropout, name="drop1")(x)
    features = layers.Dense(fc, activation="relu", name="fc2", kernel_initializer="he_normal")(x)
    x = layers.Dropout(dropout, name="drop2")(features) if dropout else features
    logits = layers.Dense(num_classes, name="predictions")(x)
    probs = layers.Softmax(name="probabilities")(logits)
    return keras.Model(inputs, {"probabilities": probs, "features": features}, name="vgg16")


BACKBONE_LAYERS = tuple(f"block{b}_conv{i}" for b, n, _ in BLOCKS for i in range(1, n + 1)) + ("fc1", "fc2")
HEAD_LAYERS = ("predictions",)
