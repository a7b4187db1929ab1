"""Each family's version assets as they are read from `<version>/assets.extra/`: one reader per family.

Why here: two sides read them. The gateway's family units (`gateway/families/`) add their request limits to
what these readers return and serve with it; training's publish step (`training.export`) runs the same
reader on a new version before it renames it into place, because TF Serving's default policy unloads the
previous version as soon as the new one loads, and a version whose assets the gateway cannot read would
take the model offline. One reader per family means both sides can never disagree on what a valid version
holds. TF-free, like all of `common/`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from common import images as im
from common import mri
from common import superres as sr
from common.captions import VOCAB_ASSET
from common.captions import Vocabulary as CaptionVocabulary
from common.manifest import assets_dir
from common.text_zh import Segmenter, TextPolicy, Vocabulary, get_segmenter

INTERPOLATE_SIGNATURE = "interpolate"  # text2image's second SignatureDef (GAN-INT strips)
UNET_STATS_ASSET = "normalization.json"  # per-modality training mean/std the unet z-scores with


@dataclass(frozen=True)
class AntispamFiles:
    vocab: Vocabulary
    vectors: np.ndarray  # float32 [V, dim], unit rows
    policy: TextPolicy
    segmenter: Segmenter


@dataclass(frozen=True)
class ClassifierFiles:
    labels: list[str]
    head: str  # "imagenet", "slim1001" or "custom" (class folders of a transfer-learned model)
    policy: im.ResizePolicy
    has_features: bool  # the version exports VGG16's `features` output


@dataclass(frozen=True)
class UnetFiles:
    stats: mri.Stats
    task: str
    default_threshold: float


@dataclass(frozen=True)
class SrganFiles:
    scale: int
    receptive_radius_lr: int  # LR pixels a tile edge must discard to agree with a whole-image run


@dataclass(frozen=True)
class Text2ImageFiles:
    vocab: CaptionVocabulary
    z_dim: int
    interpolate: bool  # the version exports the `interpolate` signature


def read_antispam(version_dir: Path, manifest: dict[str, Any]) -> AntispamFiles:
    extra = assets_dir(version_dir)
    pre = manifest.get("preprocessing") or json.loads((extra / "preprocessing.json").read_text())
    vocab = Vocabulary.from_text((extra / pre.get("vocab_file", "vocab.txt")).read_text(encoding="utf-8"))
    vectors = np.load(extra / pre.get("vectors_file", "vectors.npy")).astype(np.float32, copy=False)
    dim = int(pre.get("dim", 200))
    if vectors.shape != (len(vocab), dim):
        raise ValueError(f"{version_dir}: vectors {vectors.shape} do not match vocabulary {len(vocab)} x dim {dim}")
    if not np.all(np.abs(vectors).sum(axis=1) > 0):
        raise ValueError(f"{version_dir}: a word vector is all zeros (it would be masked as padding)")
    user_dict = pre.get("user_dict_file")
    segmenter = get_segmenter(extra / user_dict if user_dict else None)
    return AntispamFiles(vocab, vectors, TextPolicy.from_dict(pre.get("policy", {})), segmenter)


def read_classifier(version_dir: Path, manifest: dict[str, Any]) -> ClassifierFiles:
    data = json.loads((assets_dir(version_dir) / "labels.json").read_text())
    resize = (manifest.get("preprocessing") or {}).get("resize")
    policy = im.ResizePolicy.from_dict(resize) if resize else im.POLICIES[manifest.get("model", "")]
    outputs = (manifest.get("signature") or {}).get("outputs") or {}
    return ClassifierFiles(list(data["labels"]), data.get("head", "custom"), policy, "features" in outputs)


def read_unet(version_dir: Path, manifest: dict[str, Any]) -> UnetFiles:
    stats = mri.Stats.from_dict(json.loads((assets_dir(version_dir) / UNET_STATS_ASSET).read_text()))
    metrics = manifest.get("metrics", {})
    return UnetFiles(stats, str(metrics.get("task", "all")), float(metrics.get("threshold", 0.5)))


def read_srgan(version_dir: Path, manifest: dict[str, Any]) -> SrganFiles:
    pre = manifest.get("preprocessing", {})
    scale = int(pre.get("scale", sr.SCALE))
    if scale != sr.SCALE:
        raise ValueError(f"{version_dir}: manifest scale {scale} != {sr.SCALE}, the scale this platform serves")
    return SrganFiles(scale, int(pre.get("receptive_radius_lr", 0)))


def read_text2image(version_dir: Path, manifest: dict[str, Any]) -> Text2ImageFiles:
    pre = manifest.get("preprocessing", {})
    vocab = CaptionVocabulary.load(assets_dir(version_dir) / pre.get("vocabulary_asset", VOCAB_ASSET))
    return Text2ImageFiles(vocab, int(pre["z_dim"]), INTERPOLATE_SIGNATURE in manifest.get("signatures_extra", []))


READERS: dict[str, Callable[[Path, dict[str, Any]], Any]] = {
    "antispam": read_antispam,
    "classifier": read_classifier,
    "unet": read_unet,
    "srgan": read_srgan,
    "text2image": read_text2image,
}


def check(version_dir: Path, manifest: dict[str, Any]) -> None:
    """Read the version's assets with its family's reader (families without one have nothing to check)."""
    reader = READERS.get(str(manifest.get("family", "")))
    if reader is not None:
        reader(version_dir, manifest)
