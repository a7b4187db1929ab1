"""The per-family unit (KServe's transformer shape): one small class per model family.

A family turns a user's request into the servable's input tensors and the output tensors back into a
response. It never talks to the backend and never sees protobuf: the gateway's pipeline pins the version,
calls the backend and times each stage. Adding a family = one subclass here (registered with
`@register`), one training module, one entry in models.config.

Contract:
- `load_assets(version_dir, manifest)` runs once per served version, off the event loop; it reads only
  `version_dir/assets.extra/` so the assets always belong to the same version as the graph.
- `preprocess(inputs, assets)` returns numpy arrays keyed by the signature's input aliases, first axis = batch.
  It raises `gateway.errors.InvalidInput` (or another 4xx GatewayError) naming what was wrong and what is accepted.
- `postprocess(outputs, assets, inputs)` gets numpy arrays keyed by output alias and returns `Outputs`.
- Hooks are synchronous (CPU work); the pipeline runs them in a thread pool, or on the event loop when the
  family sets `light_hooks = True` (hooks of well under a millisecond: a thread hop would cost more). One
  style of hook only (KServe pays for supporting both).
- Batching (gateway/batching.py): a family with `batchable = True` returns a batch from preprocess that can
  be concatenated with other requests' batches along axis 0. Inputs named in `pad_values` may differ in
  their other axes and are padded with that value (it must be inert for the model, like antispam's zero
  vectors that its mask skips); postprocess then gets its own rows, still padded, and trims them as it
  would trim the padding between the texts of one request.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
from pydantic import BaseModel

from gateway.errors import UnsupportedMediaType

AssetsT = TypeVar("AssetsT")


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file field, already read and size-checked by the route."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


class Family(ABC, Generic[AssetsT]):
    name: ClassVar[str]  # family name as in manifests, e.g. "antispam"
    models: ClassVar[tuple[str, ...]]  # servable (model) names this family serves
    Inputs: ClassVar[type[BaseModel]]  # JSON `inputs` of POST /predict
    Outputs: ClassVar[type[BaseModel]]  # `outputs` of the response
    example: ClassVar[dict[str, Any]]  # an `inputs` example for the OpenAPI docs
    file_fields: ClassVar[tuple[str, ...]] = ()  # multipart file fields accepted (empty: JSON only)
    batchable: ClassVar[bool] = False
    pad_values: ClassVar[dict[str, float]] = {}
    light_hooks: ClassVar[bool] = False

    @abstractmethod
    def load_assets(self, version_dir: Path, manifest: dict[str, Any]) -> AssetsT: ...

    @abstractmethod
    def preprocess(self, inputs: BaseModel, assets: AssetsT) -> dict[str, np.ndarray]: ...

    @abstractmethod
    def postprocess(self, outputs: dict[str, np.ndarray], assets: AssetsT, inputs: BaseModel) -> BaseModel: ...

    def parse_multipart(self, fields: dict[str, str], files: list[UploadedFile]) -> BaseModel:
        """Build `Inputs` from a multipart form; families with binary inputs override this."""
        raise UnsupportedMediaType(f"model family {self.name!r} takes JSON only (Content-Type: application/json)")

    def output_filter(self, inputs: BaseModel) -> list[str] | None:
        """Output aliases to request from the backend (None = all); e.g. skip `features` unless asked."""
        return None

    def signature_name(self, inputs: BaseModel) -> str:
        """The SignatureDef to call; `serving_default` (the contract) unless a family exports a second one
        (text2image's `interpolate`) and this request needs it."""
        return "serving_default"


def decode_base64_field(value: Any, what: str) -> Any:
    """A pydantic `mode="before"` helper: JSON carries binary inputs as base64 strings; bytes pass through."""
    import base64

    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError as e:
            raise ValueError(f"not valid base64 ({e}); JSON inputs carry {what} as base64 strings") from None
    return value


FAMILIES: dict[str, Family[Any]] = {}  # model name -> family unit


def register(cls: type[Family[Any]]) -> type[Family[Any]]:
    instance = cls()
    for model in cls.models:
        FAMILIES[model] = instance
    return cls


def family_for(model: str) -> Family[Any] | None:
    return FAMILIES.get(model)
