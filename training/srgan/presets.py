"""SRGAN presets: all numbers of one training configuration (presets are data, not branches).

Kept apart from model.py so `servectl families` and option checks do not import Keras/TensorFlow."""

from __future__ import annotations

from dataclasses import asdict, dataclass


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
    bicubic_skip: bool = False  # see build_generator; the tiny preset's one departure from the book
    adversarial_weight: float = 1e-3  # the book's weight of the adversarial term
    vgg_weight: float = 2e-6  # the book's weight of the VGG19 pool4 term (only with user-given weights)

    def as_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, Preset] = {
    # 2 CPU cores, <= 10 minutes end to end (see docs/srgan.md for the measured time).
    "tiny": Preset(channels=32, blocks=4, disc_channels=(32, 64, 128), lr_patch=24, batch=8,
                   mse_steps=500, gan_steps=100, learning_rate=1e-3, gan_learning_rate=1e-4, bicubic_skip=True),
    # The book's sizes (GPU): 64 channels, 16 blocks, 96 -> 384 crops.
    "book": Preset(channels=64, blocks=16, disc_channels=(64, 128, 256, 512, 1024, 2048), lr_patch=96, batch=16,
                   mse_steps=100 * 1000, gan_steps=2000 * 100, learning_rate=1e-4, gan_learning_rate=1e-4),
}
