"""Training data for the classifiers, always through `common.images` (the gateway's exact preprocessing).

- Default: scikit-learn's bundled handwritten digits (1,797 8x8 images, no download). Each digit becomes the
  8x8 RGB uint8 image a user could upload, and `preprocess_image` upsamples it to the model's input size, as
  the gateway would. Fixed, stratified held-out split (20 %, seed 0).
- `--data DIR`: one sub-folder per class (folder name = class name), images in any accepted format,
  decoded by `decode_image` (EXIF, alpha, CMYK ...) and preprocessed by the same policy. Held-out split is
  stratified with a fixed seed as well.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common import images as im

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
HELD_OUT_FRACTION = 0.2
SPLIT_SEED = 0


@dataclass
class ImageSet:
    """Source images (uint8 RGB, any size) + labels; `tensor(idx)` applies the model's policy on demand, so a
    digits set at 299 x 299 never sits in memory as a whole."""

    images: list[np.ndarray]
    labels: np.ndarray
    policy: im.ResizePolicy

    def __len__(self) -> int:
        return len(self.images)

    def tensor(self, idx) -> np.ndarray:
        return np.stack([im.preprocess_image(self.images[i], self.policy) for i in np.asarray(idx)])


@dataclass
class Dataset:
    train: ImageSet
    held_out: ImageSet
    class_names: list[str]
    data_hash: str
    source: str


def _split(n_labels: np.ndarray, fraction: float = HELD_OUT_FRACTION, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(n_labels))
    counts = np.bincount(n_labels)
    stratify = n_labels if counts.min() >= 2 and len(n_labels) * fraction >= len(counts) else None
    tr, ho = train_test_split(idx, test_size=fraction, random_state=seed, stratify=stratify)
    return np.sort(tr), np.sort(ho)


def _make(images: list[np.ndarray], labels: np.ndarray, names: list[str], policy: im.ResizePolicy, digest: str,
          source: str, limit: int | None) -> Dataset:
    tr, ho = _split(labels)
    if limit:  # tests: train for seconds on a subset (held-out set kept whole)
        tr = tr[:limit]
    pick = lambda ix: ImageSet([images[i] for i in ix], labels[ix], policy)  # noqa: E731
    return Dataset(pick(tr), pick(ho), names, digest, source)


def digits(policy: im.ResizePolicy, limit: int | None = None) -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    rgb = im.digits_to_rgb(d.images)
    digest = "sha256:" + hashlib.sha256(rgb.tobytes() + d.target.astype(np.int64).tobytes()).hexdigest()
    return _make(list(rgb), d.target.astype(np.int64), [str(i) for i in range(10)], policy, digest,
                 "sklearn.datasets.load_digits", limit)


def digits_held_out() -> tuple[np.ndarray, np.ndarray]:
    """The fixed held-out digits as raw uint8 8x8 RGB images + labels (what the gateway evaluation uploads)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    _, ho = _split(d.target.astype(np.int64))
    return im.digits_to_rgb(d.images)[ho], d.target[ho].astype(np.int64)


def folder_files(root: Path) -> tuple[list[Path], np.ndarray, list[str]]:
    classes = sorted(p.name for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise ValueError(f"{root}: need one sub-folder per class (at least 2), found {classes}")
    files, labels = [], []
    for ci, name in enumerate(classes):
        for f in sorted((Path(root) / name).rglob("*")):
            if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES:
                files.append(f)
                labels.append(ci)
    if not files:
        raise ValueError(f"{root}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in the class folders")
    return files, np.asarray(labels, np.int64), classes


def load_file(path: Path, policy: im.ResizePolicy, limits: im.ImageLimits = im.DEFAULT_LIMITS) -> np.ndarray:
    """One training image exactly as the gateway would see it: bytes -> decode_image -> preprocess_image."""
    return im.load_for_model(Path(path).read_bytes(), policy, limits)


def folder(root: Path, policy: im.ResizePolicy, limit: int | None = None) -> Dataset:
    """Decode + preprocess each file once (stored as exact uint8 model-size images: Pillow's resize output is
    uint8, so the float32 tensors are reproduced bit for bit) and split."""
    from common.manifest import hash_files

    files, labels, classes = folder_files(root)
    sized = [load_file(f, policy).astype(np.uint8) for f in files]
    identity = im.ResizePolicy(policy.size, "resize", 1.0, policy.resample)  # already at size: no-op
    return _make(sized, labels, classes, identity, hash_files(files), str(root), limit)
