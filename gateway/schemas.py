"""Pydantic models of the HTTP API, grouped by role (inputs, outputs, admin). The OpenAPI docs come from
these; a family's own `Inputs`/`Outputs` models describe the `inputs`/`outputs` objects."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, model_validator
from pydantic_core import PydanticCustomError

from common import labels

# ---------------------------------------------------------------- /predict
PREDICT_ACCEPTED = '{"model": str, "version"?: int, "version_label"?: str, "inputs": {...}}'


class PredictRequest(BaseModel):
    """JSON body of POST /predict. `version` and `version_label` are alternatives (TF Serving's oneof)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=128, description="servable name, e.g. `antispam`")
    version: StrictInt | None = Field(None, ge=0, description="pin a version (default: `stable` label, else latest)")
    version_label: str | None = Field(None, min_length=1, max_length=64, description="pin a label, e.g. `canary`")
    inputs: dict[str, Any] = Field(description="the family's inputs (see the examples)")

    @model_validator(mode="after")
    def _one_pin(self) -> "PredictRequest":
        if self.version is not None and self.version_label is not None:
            raise ValueError("give either `version` or `version_label`, not both")
        return self


class TimingMs(BaseModel):
    preprocess: float
    backend: float
    postprocess: float
    total: float


class PredictResponse(BaseModel):
    model: str
    version: int = Field(description="the version that answered (assets and graph of this version only)")
    outputs: dict[str, Any]
    timing_ms: TimingMs


# ---------------------------------------------------------------- /models
class VersionInfo(BaseModel):
    version: int
    state: str = Field(description="backend state: START, LOADING, AVAILABLE, UNLOADING, END; ON_DISK when not aspired")
    served: bool = Field(description="AVAILABLE on the backend and assets loaded in this gateway")
    labels: list[str] = []
    error: str | None = None
    preset: str | None = None
    created: str | None = None
    metrics: dict[str, Any] | None = None


class ModelSummary(BaseModel):
    name: str
    family: str | None
    status: str = Field(description="available | loading | pending (no version yet) | unsupported (no family)")
    default_version: int | None = Field(description="version unpinned requests get")
    labels: dict[str, int]
    served_versions: list[int]


class ModelsList(BaseModel):
    models: list[ModelSummary]


class ModelDetail(ModelSummary):
    message: str
    canary_share: float = Field(description=f"share of unpinned requests sent to `canary`: {labels.SHARE_UNIT}")
    signature: dict[str, Any] | None
    versions: list[VersionInfo]


# ---------------------------------------------------------------- health
class Readiness(BaseModel):
    ready: bool
    reasons: list[str]
    models: dict[str, str]


# ---------------------------------------------------------------- errors
class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str


class ErrorBody(BaseModel):
    error: ErrorDetail


# ---------------------------------------------------------------- admin
class LabelMove(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: StrictInt = Field(ge=0)


class LabelChange(BaseModel):
    model: str
    label: str
    version: int | None
    previous: int | None


def _share(value: float) -> float:
    try:
        return labels.check_share(value)
    except labels.InvalidShare as e:
        raise PydanticCustomError("canary_share", str(e)) from None


class CanaryShare(BaseModel):
    model_config = ConfigDict(extra="forbid")
    share: Annotated[StrictFloat, AfterValidator(_share)] = Field(
        description=f"share of unpinned requests sent to the `canary` label: {labels.SHARE_UNIT}", examples=[0.1]
    )


class CanaryShareOut(BaseModel):
    model: str
    share: float = Field(description=labels.SHARE_UNIT)


class ReloadOut(BaseModel):
    models: list[str]
