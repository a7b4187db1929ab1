"""The per-family unit (KServe's transformer shape): one small class per model family.

A family turns a user's request into the servable's input tensors and the output tensors back into a
response. It never talks to the backend and never sees protobuf: the gateway's predict service pins the
version, calls the backend (or the micro-batcher) and times each stage. Adding a family = one subclass here
(registered with `@register`), one training module, one entry in models.config.

Contract (a family is a set of pure functions; the instance holds no per-request state):
- `load_assets(version_dir, manifest, settings)` runs once per served version, off the event loop; it reads
  only `version_dir/assets.extra/` (through the family's reader in `common/`, which training's export check
  calls too) so the assets always belong to the same version as the graph, and takes its limits from the
  gateway's one Settings object.
- `preprocess(inputs, assets)` returns a `Prepared`: numpy arrays keyed by the signature's input aliases
  (first axis = batch) and the family's own `context`, the per-request facts postprocess needs (tokens, a
  tile plan, the seed that was drawn). The `inputs` model stays exactly what the user sent. It raises
  `gateway.errors.InvalidInput` (or another 4xx GatewayError) naming what was wrong and what is accepted.
- `postprocess(outputs, assets, inputs, context)` gets numpy arrays keyed by output alias and returns `Outputs`.
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

import base64
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
from pydantic import BaseModel

from gateway.core.config import Settings
from gateway.errors import UnsupportedMediaType

AssetsT = TypeVar("AssetsT")
InputsT = TypeVar("InputsT", bound=BaseModel)
ContextT = TypeVar("ContextT")


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file field, already read and size-checked by the route."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class Prepared(Generic[ContextT]):
    """What preprocess hands on: the backend's input tensors and what postprocess needs of this request."""

    arrays: dict[str, np.ndarray]
    context: ContextT


class Family(ABC, Generic[AssetsT, InputsT, ContextT]):
    name: ClassVar[str]  # family name as in manifests, e.g. "antispam"
    models: ClassVar[tuple[str, ...]]  # servable (model) names this family serves
    Inputs: type[InputsT]  # JSON `inputs` of POST /predict
    Outputs: type[BaseModel]  # `outputs` of the response
    example: ClassVar[dict[str, Any]]  # an `inputs` example for the OpenAPI docs
    file_fields: ClassVar[tuple[str, ...]] = ()  # multipart file fields accepted (empty: JSON only)
    batchable: ClassVar[bool] = False
    pad_values: ClassVar[dict[str, float]] = {}
    light_hooks: ClassVar[bool] = False

    @abstractmethod
    def load_assets(self, version_dir: Path, manifest: dict[str, Any], settings: Settings) -> AssetsT: ...

    @abstractmethod
    def preprocess(self, inputs: InputsT, assets: AssetsT) -> Prepared[ContextT]: ...

    @abstractmethod
    def postprocess(self, outputs: dict[str, np.ndarray], assets: AssetsT, inputs: InputsT, context: ContextT) -> BaseModel: ...

    def parse_multipart(self, fields: dict[str, str], files: list[UploadedFile]) -> InputsT:
        """Build `Inputs` from a multipart form; families with binary inputs override this."""
        raise UnsupportedMediaType(f"model family {self.name!r} takes JSON only (Content-Type: application/json)")

    def output_filter(self, inputs: InputsT) -> list[str] | None:
        """Output aliases to request from the backend (None = all); e.g. skip `features` unless asked."""
        return None

    def signature_name(self, inputs: InputsT) -> str:
        """The SignatureDef to call; `serving_default` (the contract) unless a family exports a second one
        (text2image's `interpolate`) and this request needs it."""
        return "serving_default"


AnyFamily = Family[Any, Any, Any]


def decode_base64_field(value: Any, what: str) -> Any:
    """A pydantic `mode="before"` helper: JSON carries binary inputs as base64 strings; bytes pass through."""
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError as e:
            raise ValueError(f"not valid base64 ({e}); JSON inputs carry {what} as base64 strings") from None
    return value


FAMILIES: dict[str, AnyFamily] = {}  # model name -> family unit


def register(cls: type[AnyFamily]) -> type[AnyFamily]:
    instance = cls()
    for model in cls.models:
        FAMILIES[model] = instance
    return cls


def family_for(model: str) -> AnyFamily | None:
    return FAMILIES.get(model)
