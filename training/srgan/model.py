"""The book's SRGAN generator and discriminator (chapter 13), in Keras 3, plus the presets.

Generator (book / SRResNet): conv 3x3 + ReLU; residual blocks (conv-BN-ReLU-conv-BN + identity); conv-BN and
a long skip back to the first conv's output; two x2 sub-pixel steps (conv to 4x channels, depth-to-space,
ReLU); a 1x1 conv to RGB with tanh. Every layer is a convolution, so it runs on any H, W (the serving
signature is [B, H, W, 3] -> [B, 4H, 4W, 3]). The discriminator ends in global average pooling instead of
the book's flatten so it also takes any crop size; it is only used while training.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
from keras import layers, ops


@dataclass(frozen=True)
class Preset:
    """All numbers of one training configuration (presets are data, not branches)."""

    channels: int  # generator feature maps (book: 64)
    blocks: int  # residual blocks (book: 16)
    disc_channels: tuple[int, ...]  # discriminator conv widths, each step halves the size
    lr_patch: int  # LR crop side; the HR crop is 4x (book: 96 -> 384)
    batch: int
    mse_steps: int  # phase 1: MSE pre-training
    gan_steps: int  # phase 2: adversarial (+ MSE, + VGG if weights given)
    learning_rate: float
    gan_learning_rate: float
    adversarial_weight: float = 1e-3  # the book's weight of the adversarial term
    vgg_weight: float = 2e-6  # the book's weight of the VGG19 pool4 term (only with user-given weights)

    def as_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, Preset] = {
    # 2 CPU cores, <= 10 minutes end to end (see docs/srgan.md for the measured time).
    "tiny": Preset(channels=32, blocks=4, disc_channels=(32, 64, 128), lr_patch=24, batch=16,
                   mse_steps=900, gan_steps=250, learning_rate=1e-3, gan_learning_rate=1e-4),
    # The book's sizes (GPU): 64 channels, 16 blocks, 96 -> 384 crops.
    "book": Preset(channels=64, blocks=16, disc_channels=(64, 128, 256, 512, 1024, 2048), lr_patch=96, batch=16,
                   mse_steps=100 * 1000, gan_steps=2000 * 100, learning_rate=1e-4, gan_learning_rate=1e-4),
}


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
    out = layers.Conv2D(3, 1, activation="tanh", name="to_rgb")(x)
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
