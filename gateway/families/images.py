"""Image classifier family (VGG16, Inception V3): uploads -> `images` tensor -> top-k labels (+ fc2 features).

Requests carry one image or a batch (at most Settings `image_max_batch`) as multipart file fields (`image`,
repeatable, or `images`) or as base64 strings in JSON (`image` or `images`, data: URLs accepted). Decoding and resizing are
`common.images` -- the same functions the training pipeline used for this version, with the resize policy
read from the version's manifest, so gateway and training tensors are bit-identical.
Labels come from the version's `assets.extra/labels.json` (ImageNet 1000, TF-Slim 1001 with background at
index 0, or the class folders of a transfer-learned model).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from common import assets as readers
from common import images as im
from gateway.core.config import Settings
from gateway.errors import GatewayError, InvalidInput, PayloadTooLarge, UnsupportedMediaType
from gateway.families.base import Family, Prepared, UploadedFile, register

MAX_TOP_K = 20
FILE_FIELDS = ("image", "images")
_TINY_PNG = (  # 1x1 white PNG, for the OpenAPI example
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC"
)


def image_limits(settings: Settings) -> im.ImageLimits:
    """Limits are configuration (design §7): Settings `image_max_pixels`, `image_max_side`, `image_max_bytes`."""
    return im.ImageLimits(max_pixels=settings.image_max_pixels, max_side=settings.image_max_side, max_bytes=settings.image_max_bytes)


class ClassifierInputs(BaseModel):
    """JSON: `image` (one base64 image) or `images` (a list); `top_k` 1..20; `features` (VGG16: fc2 vector).
    Multipart uploads arrive as `uploads` (the files as sent, with their names for error messages)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    image: str | None = Field(None, description="one image, base64 (or a data: URL)")
    images: list[str] | None = Field(None, description="several images, base64, at most GATEWAY_IMAGE_MAX_BATCH (32)")
    top_k: int = Field(5, ge=1, le=MAX_TOP_K, description="labels per image")
    features: bool = Field(False, description="also return the 4096-d fc2 feature vector (VGG16 only)")
    uploads: SkipJsonSchema[tuple[UploadedFile, ...] | None] = Field(None, exclude=True)  # multipart only

    @model_validator(mode="after")
    def _one_source(self) -> "ClassifierInputs":
        if self.image is not None and self.images is not None:
            raise ValueError("give either `image` or `images`, not both")
        return self

    def blobs(self, max_batch: int) -> list[tuple[str, bytes]]:
        """(name for error messages, encoded bytes) per image, in request order."""
        if self.uploads is not None:
            items = [(f"file {f.filename or f.field!r}", f.data) for f in self.uploads]
        else:
            strings = [self.image] if self.image is not None else (self.images or [])
            items = [(f"images[{i}]" if self.images is not None else "image", _b64(s, i)) for i, s in enumerate(strings)]
        if not items:
            raise InvalidInput("no image given: send `image` (base64) or `images` (list of base64) in JSON, or "
                               "multipart file field(s) `image`; " + im.ACCEPTED_TEXT)
        if len(items) > max_batch:
            raise PayloadTooLarge(f"{len(items)} images in one request; at most {max_batch} are accepted")
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
    max_batch: int = 32


_STATUS = {"too_large": PayloadTooLarge, "not_an_image": UnsupportedMediaType, "unsupported_format": UnsupportedMediaType}


def decode_error(name: str, e: im.ImageDecodeError) -> GatewayError:
    """ImageDecodeError -> the gateway's domain error: 413 too large, 415 not an image, 422 otherwise."""
    return _STATUS.get(e.kind, InvalidInput)(f"{name}: {e.message}")


@register
class ImageClassifier(Family[ClassifierAssets, ClassifierInputs, None]):
    name: ClassVar[str] = "classifier"
    models: ClassVar[tuple[str, ...]] = ("vgg16", "inception_v3")
    Inputs = ClassifierInputs
    Outputs = ClassifierOutputs
    example: ClassVar[dict[str, Any]] = {"image": _TINY_PNG, "top_k": 5}
    file_fields: ClassVar[tuple[str, ...]] = FILE_FIELDS
    batchable: ClassVar[bool] = True
    pad_values: ClassVar[dict[str, float]] = {}

    def load_assets(self, version_dir: Path, manifest: dict[str, Any], settings: Settings) -> ClassifierAssets:
        files = readers.read_classifier(version_dir, manifest)
        return ClassifierAssets(files.labels, files.head, files.policy, image_limits(settings), files.has_features, settings.image_max_batch)

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
        return ClassifierInputs(top_k=top_k, features=features in {"true", "1", "yes"}, uploads=tuple(files))

    def output_filter(self, inputs: ClassifierInputs) -> list[str] | None:
        return ["probabilities", "features"] if inputs.features else ["probabilities"]

    def preprocess(self, inputs: ClassifierInputs, assets: ClassifierAssets) -> Prepared[None]:
        if inputs.features and not assets.has_features:
            raise InvalidInput("features=true is available for vgg16 only (this model has no `features` output)")
        rows = []
        for name, data in inputs.blobs(assets.max_batch):
            try:
                rows.append(im.load_for_model(data, assets.policy, assets.limits))
            except im.ImageDecodeError as e:
                raise decode_error(name, e) from None
        return Prepared({"images": np.stack(rows)}, None)

    def postprocess(self, outputs: dict[str, np.ndarray], assets: ClassifierAssets, inputs: ClassifierInputs, context: None) -> ClassifierOutputs:
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
