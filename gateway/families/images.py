"""Image classifier family (VGG16, Inception V3): uploads -> `images` tensor -> top-k labels (+ fc2 features).

Requests carry one image or a batch (<= MAX_BATCH) as multipart file fields (`image`, repeatable, or
`images`) or as base64 strings in JSON (`image` or `images`, data: URLs accepted). Decoding and resizing are
`common.images` -- the same functions the training pipeline used for this version, with the resize policy
read from the version's manifest, so gateway and training tensors are bit-identical.
Labels come from the version's `assets.extra/labels.json` (ImageNet 1000, TF-Slim 1001 with background at
index 0, or the class folders of a transfer-learned model).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from common import images as im
from common.manifest import assets_dir
from gateway.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from gateway.families.base import Family, UploadedFile, register

MAX_BATCH = int(os.environ.get("GATEWAY_IMAGE_MAX_BATCH", "32"))
MAX_TOP_K = 20
FILE_FIELDS = ("image", "images")
_TINY_PNG = (  # 1x1 white PNG, for the OpenAPI example
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC"
)


def image_limits_from_env() -> im.ImageLimits:
    """Limits are configuration (design §7): GATEWAY_IMAGE_MAX_PIXELS / _MAX_SIDE / _MAX_BYTES."""
    d = im.DEFAULT_LIMITS
    return im.ImageLimits(
        max_pixels=int(os.environ.get("GATEWAY_IMAGE_MAX_PIXELS", d.max_pixels)),
        max_side=int(os.environ.get("GATEWAY_IMAGE_MAX_SIDE", d.max_side)),
        max_bytes=int(os.environ.get("GATEWAY_IMAGE_MAX_BYTES", d.max_bytes)),
    )


class ClassifierInputs(BaseModel):
    """JSON: `image` (one base64 image) or `images` (a list); `top_k` 1..20; `features` (VGG16: fc2 vector)."""

    model_config = ConfigDict(extra="forbid")
    image: str | None = Field(None, description="one image, base64 (or a data: URL)")
    images: list[str] | None = Field(None, description=f"several images, base64, at most {MAX_BATCH}")
    top_k: int = Field(5, ge=1, le=MAX_TOP_K, description="labels per image")
    features: bool = Field(False, description="also return the 4096-d fc2 feature vector (VGG16 only)")
    _blobs: list[tuple[str, bytes]] | None = PrivateAttr(None)  # multipart uploads: (name, bytes)

    @model_validator(mode="after")
    def _one_source(self) -> "ClassifierInputs":
        if self.image is not None and self.images is not None:
            raise ValueError("give either `image` or `images`, not both")
        return self

    def blobs(self) -> list[tuple[str, bytes]]:
        """(name for error messages, encoded bytes) per image, in request order."""
        if self._blobs is not None:
            items = self._blobs
        else:
            strings = [self.image] if self.image is not None else (self.images or [])
            items = [(f"images[{i}]" if self.images is not None else "image", _b64(s, i)) for i, s in enumerate(strings)]
        if not items:
            raise InvalidInput("no image given: send `image` (base64) or `images` (list of base64) in JSON, or "
                               "multipart file field(s) `image`; " + im.ACCEPTED_TEXT)
        if len(items) > MAX_BATCH:
            raise PayloadTooLarge(f"{len(items)} images in one request; at most {MAX_BATCH} are accepted")
        return items


def _b64(s: str, i: int) -> bytes:
    if s.startswith("data:"):
        s = s.partition(",")[2]
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"image {i}: not valid base64; send the file's bytes base64-encoded "
                           "(standard alphabet, optionally as a data: URL)") from None


class Prediction(BaseModel):
    label: str
    index: int
    probability: float


class ImageResult(BaseModel):
    top_k: list[Prediction]
    features: list[float] | None = None


class ClassifierOutputs(BaseModel):
    predictions: list[ImageResult] = Field(description="one entry per image, in request order")


@dataclass(frozen=True)
class ClassifierAssets:
    labels: list[str]
    head: str
    policy: im.ResizePolicy
    limits: im.ImageLimits
    has_features: bool


_STATUS = {"too_large": PayloadTooLarge, "not_an_image": UnsupportedMediaType, "unsupported_format": UnsupportedMediaType}


def decode_error(name: str, e: im.ImageDecodeError):
    """ImageDecodeError -> the gateway's domain error: 413 too large, 415 not an image, 422 otherwise."""
    return _STATUS.get(e.kind, InvalidInput)(f"{name}: {e.message}")


@register
class ImageClassifier(Family[ClassifierAssets]):
    name: ClassVar[str] = "classifier"
    models: ClassVar[tuple[str, ...]] = ("vgg16", "inception_v3")
    Inputs = ClassifierInputs
    Outputs = ClassifierOutputs
    example: ClassVar[dict[str, Any]] = {"image": _TINY_PNG, "top_k": 5}
    file_fields: ClassVar[tuple[str, ...]] = FILE_FIELDS
    batchable: ClassVar[bool] = True
    pad_values: ClassVar[dict[str, float]] = {}

    def load_assets(self, version_dir: Path, manifest: dict[str, Any]) -> ClassifierAssets:
        data = json.loads((assets_dir(version_dir) / "labels.json").read_text())
        model = manifest.get("model", "")
        resize = (manifest.get("preprocessing") or {}).get("resize")
        policy = im.ResizePolicy.from_dict(resize) if resize else im.POLICIES[model]
        outputs = ((manifest.get("signature") or {}).get("outputs") or {})
        return ClassifierAssets(list(data["labels"]), data.get("head", "custom"), policy, image_limits_from_env(),
                                "features" in outputs)

    def parse_multipart(self, fields: dict[str, str], files: list[UploadedFile]) -> ClassifierInputs:
        unknown = [f.field for f in files if f.field not in FILE_FIELDS]
        if unknown:
            raise InvalidInput(f"unexpected file field(s) {unknown}; send images in field `image` (repeat it for a batch)")
        try:
            top_k = int(fields.get("top_k", 5))
        except ValueError:
            raise InvalidInput(f"top_k must be an integer 1..{MAX_TOP_K}, got {fields.get('top_k')!r}") from None
        features = str(fields.get("features", "false")).lower()
        if features not in {"true", "false", "1", "0", "yes", "no"}:
            raise InvalidInput(f"features must be true or false, got {features!r}")
        if not 1 <= top_k <= MAX_TOP_K:
            raise InvalidInput(f"top_k must be between 1 and {MAX_TOP_K}, got {top_k}")
        inputs = ClassifierInputs(top_k=top_k, features=features in {"true", "1", "yes"})
        inputs._blobs = [(f"file {f.filename or f.field!r}", f.data) for f in files]
        return inputs

    def output_filter(self, inputs: ClassifierInputs) -> list[str] | None:
        return ["probabilities", "features"] if inputs.features else ["probabilities"]

    def preprocess(self, inputs: ClassifierInputs, assets: ClassifierAssets) -> dict[str, np.ndarray]:
        if inputs.features and not assets.has_features:
            raise InvalidInput("features=true is available for vgg16 only (this model has no `features` output)")
        rows = []
        for name, data in inputs.blobs():
            try:
                rows.append(im.load_for_model(data, assets.policy, assets.limits))
            except im.ImageDecodeError as e:
                raise decode_error(name, e) from None
        return {"images": np.stack(rows)}

    def postprocess(self, outputs: dict[str, np.ndarray], assets: ClassifierAssets, inputs: ClassifierInputs) -> ClassifierOutputs:
        probs = np.asarray(outputs["probabilities"], dtype=np.float32)
        feats = outputs.get("features") if inputs.features else None
        k = min(inputs.top_k, probs.shape[1])
        results = []
        for row_i, row in enumerate(probs):
            top = np.argsort(-row, kind="stable")[:k]
            preds = [Prediction(label=_label(assets.labels, int(i)), index=int(i), probability=float(row[i])) for i in top]
            results.append(ImageResult(top_k=preds, features=None if feats is None else np.asarray(feats[row_i]).tolist()))
        return ClassifierOutputs(predictions=results)


def _label(labels: list[str], i: int) -> str:
    return labels[i] if 0 <= i < len(labels) else f"class_{i}"
