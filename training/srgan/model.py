"""The book's SRGAN generator and discriminator (chapter 13), in Keras 3 (presets: `presets.py`).

Generator (book / SRResNet): conv 3x3 + ReLU; residual blocks (conv-BN-ReLU-conv-BN + identity); conv-BN and
a long skip back to the first conv's output; two x2 sub-pixel steps (conv to 4x channels, depth-to-space,
ReLU); a 1x1 conv to RGB with tanh. Every layer is a convolution, so it runs on any H, W (the serving
signature is [B, H, W, 3] -> [B, 4H, 4W, 3]). The `tiny` preset adds a bicubic skip around it
(`bicubic_skip`, see `build_generator`) so it learns in minutes on 2 CPU cores; `book` is exactly the book's.
The discriminator ends in global average pooling instead of the book's flatten so it takes any crop size;
it is only used while training.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from training.srgan.presets import PRESETS, Preset  # noqa: F401 (re-exported)


class BicubicUpsample(layers.Layer):
    """x4 bicubic resize inside the graph (TensorFlow's kernel; within ~58 dB of Pillow's bicubic upscale)."""

    def __init__(self, factor: int = 4, **kwargs) -> None:
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        import tensorflow as tf

        return tf.image.resize(x, tf.shape(x)[1:3] * self.factor, method="bicubic")

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}


class SubPixelUpsample(layers.Layer):
    """Depth-to-space (pixel shuffle) by `factor`: [B, H, W, C*f*f] -> [B, fH, fW, C]."""

    def __init__(self, factor: int = 2, **kwargs) -> None:
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return ops.depth_to_space(x, self.factor, data_format="channels_last")

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}


def build_generator(preset: Preset) -> keras.Model:
    ch = preset.channels
    inp = keras.Input((None, None, 3), name="images")
    x = layers.Conv2D(ch, 3, padding="same", activation="relu", name="head")(inp)
    skip = x
    for i in range(preset.blocks):
        y = layers.Conv2D(ch, 3, padding="same", name=f"res{i}_conv1")(x)
        y = layers.BatchNormalization(name=f"res{i}_bn1")(y)
        y = layers.ReLU(name=f"res{i}_relu")(y)
        y = layers.Conv2D(ch, 3, padding="same", name=f"res{i}_conv2")(y)
        y = layers.BatchNormalization(name=f"res{i}_bn2")(y)
        x = layers.Add(name=f"res{i}_add")([x, y])
    x = layers.Conv2D(ch, 3, padding="same", name="body_conv")(x)
    x = layers.BatchNormalization(name="body_bn")(x)
    x = layers.Add(name="long_skip")([x, skip])
    for i in range(2):  # two x2 sub-pixel steps = x4
        x = layers.Conv2D(ch * 4, 3, padding="same", name=f"up{i}_conv")(x)
        x = SubPixelUpsample(2, name=f"up{i}_shuffle")(x)
        x = layers.ReLU(name=f"up{i}_relu")(x)
    if not preset.bicubic_skip:
        out = layers.Conv2D(3, 1, activation="tanh", name="to_rgb")(x)
        return keras.Model(inp, out, name="srgan_generator")
    # Residual to bicubic: the network's tanh output is added to a bicubic x4 of the input, and the last
    # conv starts at zero, so training starts AT bicubic quality and only learns the missing detail. The
    # book's generator learns the whole image from scratch, which takes far more steps than 2 shared CPU
    # cores allow in 10 minutes (measured: 24.5 dB after 300 steps vs 28.3 dB bicubic, docs/srgan.md).
    detail = layers.Conv2D(3, 1, activation="tanh", kernel_initializer="zeros", name="to_rgb")(x)
    base = BicubicUpsample(4, name="bicubic_skip")(inp)
    out = layers.Add(name="add_bicubic")([base, detail])
    out = layers.Activation(lambda t: ops.clip(t, -1.0, 1.0), name="clip")(out)
    return keras.Model(inp, out, name="srgan_generator")


def build_discriminator(preset: Preset) -> keras.Model:
    """Book-style: strided 4x4 convs with BN and LeakyReLU(0.2), doubling widths; one real/fake logit."""
    inp = keras.Input((None, None, 3), name="images")
    x = inp
    for i, width in enumerate(preset.disc_channels):
        x = layers.Conv2D(width, 4, strides=2, padding="same", name=f"d{i}_conv")(x)
        if i > 0:
            x = layers.BatchNormalization(name=f"d{i}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"d{i}_lrelu")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    logit = layers.Dense(1, name="logit")(x)
    return keras.Model(inp, logit, name="srgan_discriminator")
