"""Training and held-out photos for SRGAN: the natural colour photos bundled with scikit-image and
scikit-learn (no download, the same bytes on every machine).

The held-out subset is FIXED by name (`HELD_OUT`) and never reaches the training sampler, so the PSNR/SSIM
in the manifest are measured on images the generator never saw. The two motorcycle views show the same
scene, so both stay on the training side.

Training samples are random HR crops (seeded) with random flips / 90-degree turns; their LR input is made
by `common.superres.downscale`, the same function the evaluation and the gateway's bicubic baseline use.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from common import superres as sr


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import skimage.data

        return getattr(skimage.data, name)()

    return load


def _motorcycle(side: int) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import skimage.data

        return skimage.data.stereo_motorcycle()[side]

    return load


def _sklearn(filename: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from sklearn.datasets import load_sample_image

        return load_sample_image(filename)

    return load


SOURCES: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": _skimage("astronaut"),
    "rocket": _skimage("rocket"),
    "motorcycle_left": _motorcycle(0),
    "motorcycle_right": _motorcycle(1),
    "china": _sklearn("china.jpg"),
    # held out (never used for training):
    "chelsea": _skimage("chelsea"),
    "coffee": _skimage("coffee"),
    "flower": _sklearn("flower.jpg"),
}
HELD_OUT: tuple[str, ...] = ("chelsea", "coffee", "flower")
TRAIN: tuple[str, ...] = tuple(n for n in SOURCES if n not in HELD_OUT)


def load(names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """name -> HxWx3 uint8 RGB photo."""
    out = {}
    for name in names:
        img = np.asarray(SOURCES[name]())
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f"{name}: expected HxWx3 uint8, got {img.shape} {img.dtype}")
        out[name] = img
    return out


def data_hash(images: dict[str, np.ndarray]) -> str:
    """sha256 over names, shapes and pixels (the manifest's training data hash)."""
    h = hashlib.sha256()
    for name in sorted(images):
        h.update(name.encode())
        h.update(str(images[name].shape).encode())
        h.update(np.ascontiguousarray(images[name]).tobytes())
    return "sha256:" + h.hexdigest()


@dataclass(frozen=True)
class HeldOutPair:
    name: str
    hr: np.ndarray  # uint8, sides a multiple of 4
    lr: np.ndarray  # uint8, the bicubic-downscaled input


def held_out_pairs() -> list[HeldOutPair]:
    return [HeldOutPair(n, sr.crop_to_multiple(img), sr.downscale(img)) for n, img in load(HELD_OUT).items()]


class CropSampler:
    """Seeded batches of (LR in [-1, 1], HR in [-1, 1]) random crops from the training photos."""

    def __init__(self, images: dict[str, np.ndarray], lr_patch: int, seed: int = 0) -> None:
        overlap = set(images) & set(HELD_OUT)
        if overlap:
            raise ValueError(f"held-out images must never be trained on: {sorted(overlap)}")
        self.images = [images[n] for n in sorted(images)]
        self.hr_patch = lr_patch * sr.SCALE
        self.rng = np.random.default_rng(seed)
        # Sample photos in proportion to their area so every region is equally likely.
        areas = np.array([im.shape[0] * im.shape[1] for im in self.images], dtype=np.float64)
        self.p = areas / areas.sum()

    def crop(self) -> np.ndarray:
        img = self.images[self.rng.choice(len(self.images), p=self.p)]
        y = self.rng.integers(0, img.shape[0] - self.hr_patch + 1)
        x = self.rng.integers(0, img.shape[1] - self.hr_patch + 1)
        hr = img[y : y + self.hr_patch, x : x + self.hr_patch]
        if self.rng.random() < 0.5:
            hr = hr[:, ::-1]
        return np.ascontiguousarray(np.rot90(hr, k=int(self.rng.integers(4))))

    def batch(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        hrs = [self.crop() for _ in range(size)]
        lrs = [sr.downscale(hr) for hr in hrs]
        return sr.to_model_range(np.stack(lrs)), sr.to_model_range(np.stack(hrs))
