"""The U-Net brain-tumour segmenter family (model `unet`): four MRI modalities in, tumour mask out.

Inputs (multipart file fields, or base64 strings in JSON `inputs`):
- `flair`, `t1`, `t1c`, `t2`: four 2-D slices (PNG or NPY), or four NIfTI volumes (.nii / .nii.gz);
- or `image`: one NPY of shape [H, W, 4] with channels FLAIR, T1, T1c, T2;
- `threshold` (0..1, default 0.5), `spacing` (mm per pixel for slices, e.g. "1.0,1.0"; NIfTI uses its header).
Outputs: for slices a mask PNG and an overlay PNG (mask over FLAIR), base64, and the tumour area; for volumes
a NIfTI mask (.nii.gz, base64) with the input's shape and affine, per-slice areas and the volume in mm³.

All the MRI work (loading, validation, z-scoring with this version's statistics, fitting to multiples of 16
and mapping back, rendering) is `common.mri`, the same code training used.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from common import assets as readers
from common import mri
from gateway import errors as E
from gateway.core.config import Settings
from gateway.families.base import Family, Prepared, UploadedFile, decode_base64_field, register

FILE_FIELDS = (*mri.MODALITIES, "image")

_MRI_ERRORS: dict[str, type[E.GatewayError]] = {
    "invalid": E.InvalidInput,
    "too_large": E.PayloadTooLarge,
    "unsupported": E.UnsupportedMediaType,
    "bad_request": E.BadRequest,
}


def _example_npy(seed: int) -> str:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    np.save(buf, rng.uniform(50, 900, (32, 32)).astype(np.float32))
    return base64.b64encode(buf.getvalue()).decode()


@dataclass(frozen=True)
class UnetAssets:
    stats: mri.Stats
    limits: mri.Limits
    task: str
    default_threshold: float


class UnetInputs(BaseModel):
    """Scans as bytes (multipart) or base64 strings (JSON)."""

    model_config = ConfigDict(extra="forbid")

    flair: bytes | None = Field(None, description="FLAIR: 2-D PNG/NPY slice or NIfTI volume (base64 in JSON)")
    t1: bytes | None = Field(None, description="T1, same kind and shape as flair")
    t1c: bytes | None = Field(None, description="T1 with contrast (T1c/T1Gd), same kind and shape as flair")
    t2: bytes | None = Field(None, description="T2, same kind and shape as flair")
    image: bytes | None = Field(None, description="instead of the four: one NPY [H, W, 4], channels FLAIR, T1, T1c, T2")
    threshold: float | None = Field(None, gt=0.0, lt=1.0, description="probability threshold of the mask (default: the version's, 0.5)")
    spacing: list[float] | None = Field(None, min_length=2, max_length=3, description="slice pixel spacing in mm (dx, dy); NIfTI volumes use their header")

    @field_validator("flair", "t1", "t1c", "t2", "image", mode="before")
    @classmethod
    def _b64(cls, value: Any) -> Any:
        return decode_base64_field(value, "files")

    @field_validator("spacing", mode="before")
    @classmethod
    def _spacing(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return [float(v) for v in value.replace("x", ",").split(",") if v.strip()]
            except ValueError:
                raise ValueError("spacing must be 2 numbers in mm, e.g. '1.0,1.0'") from None
        return value

    @field_validator("spacing")
    @classmethod
    def _positive(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and not all(np.isfinite(v) and v > 0 for v in value):
            raise ValueError("spacing values must be positive finite millimetres")
        return value

    def files(self) -> dict[str, bytes]:
        return {name: data for name in FILE_FIELDS if (data := getattr(self, name)) is not None}


class UnetOutputs(BaseModel):
    kind: Literal["slice", "volume"]
    shape: list[int] = Field(description="slice (H, W) or volume (X, Y, Z), as sent")
    threshold: float
    tumour_pixels: int = Field(description="mask pixels (slice) or voxels (volume)")
    area_mm2: float | None = Field(None, description="slice: tumour area in mm² when spacing is known")
    volume_mm3: float | None = Field(None, description="volume: tumour volume in mm³ (NIfTI voxel size)")
    spacing_mm: list[float] | None = None
    max_probability: float
    mask_png: str | None = Field(None, description="slice: base64 PNG, 255 = tumour")
    overlay_png: str | None = Field(None, description="slice: base64 RGB PNG, mask in red over FLAIR")
    mask_nifti: str | None = Field(None, description="volume: base64 .nii.gz uint8 mask, same shape and affine as the input")
    slice_areas_pixels: list[int] | None = Field(None, description="volume: tumour pixels per axial slice k = [:, :, k]")
    slice_areas_mm2: list[float] | None = None


def unet_limits(settings: Settings) -> mri.Limits:
    """Settings `unet_max_side`, `unet_max_input_side`, `unet_max_slices`, `unet_max_voxels`."""
    return mri.Limits(max_side=settings.unet_max_side, max_input_side=settings.unet_max_input_side,
                      max_slices=settings.unet_max_slices, max_voxels=settings.unet_max_voxels)


@dataclass(frozen=True)
class UnetContext:
    """What postprocess needs of one request: the loaded scan and how it was fitted to the model's grid."""

    scan: mri.Scan
    fit: mri.Fit


@register
class UnetFamily(Family[UnetAssets, UnetInputs, UnetContext]):
    name = "unet"
    models = ("unet",)
    Inputs = UnetInputs
    Outputs = UnetOutputs
    file_fields = FILE_FIELDS
    example = {"flair": _example_npy(1), "t1": _example_npy(2), "t1c": _example_npy(3), "t2": _example_npy(4), "threshold": 0.5}

    def load_assets(self, version_dir: Path, manifest: dict[str, Any], settings: Settings) -> UnetAssets:
        files = readers.read_unet(version_dir, manifest)
        return UnetAssets(files.stats, unet_limits(settings), files.task, files.default_threshold)

    def parse_multipart(self, fields: dict[str, str], files: list[UploadedFile]) -> UnetInputs:
        seen: dict[str, bytes] = {}
        for f in files:
            if f.field in seen:
                raise E.BadRequest(f"file field {f.field!r} given more than once; send one file per modality ({', '.join(mri.MODALITIES)}) or one 'image'")
            seen[f.field] = f.data
        unknown = sorted(set(fields) - {"threshold", "spacing"})
        if unknown:
            raise E.InvalidInput(f"unexpected form field(s) {unknown}; accepted: threshold, spacing, and files {', '.join(FILE_FIELDS)}")
        return UnetInputs.model_validate({**seen, **fields})

    def preprocess(self, inputs: UnetInputs, assets: UnetAssets) -> Prepared[UnetContext]:
        files = inputs.files()
        if not files:
            raise E.BadRequest(f"no scans given; send {', '.join(mri.MODALITIES)} (2-D PNG/NPY slices or NIfTI volumes) or one 4-channel NPY 'image'")
        try:
            scan = mri.load(files, assets.limits, inputs.spacing)
            x, fit = mri.model_input(scan, assets.stats, assets.limits)
        except mri.MRIError as e:
            raise _MRI_ERRORS[e.kind](str(e)) from None
        return Prepared({"images": x}, UnetContext(scan, fit))

    def postprocess(self, outputs: dict[str, np.ndarray], assets: UnetAssets, inputs: UnetInputs, context: UnetContext) -> UnetOutputs:
        scan, fit = context.scan, context.fit
        probs = np.asarray(outputs["probabilities"])
        expected = (scan.data.shape[0], *fit.size, 1)
        if probs.shape != expected:
            raise E.BackendError(f"backend returned probabilities of shape {list(probs.shape)}, expected {list(expected)}")
        probs = mri.unfit(probs, fit)[..., 0]
        threshold = inputs.threshold if inputs.threshold is not None else assets.default_threshold
        mask = probs >= threshold
        sizes = mri.areas(mask, scan.spacing)
        common = dict(threshold=threshold, tumour_pixels=sizes["pixels"], max_probability=round(float(probs.max()), 6),
                      spacing_mm=list(scan.spacing) if scan.spacing else None)
        if not scan.is_volume:
            return UnetOutputs(
                kind="slice",
                shape=list(scan.plane_shape),
                area_mm2=sizes.get("mm2"),
                mask_png=base64.b64encode(mri.mask_png(mask[0])).decode(),
                overlay_png=base64.b64encode(mri.overlay_png(scan.data[0, ..., 0], mask[0])).decode(),
                **common,
            )
        assert scan.affine is not None
        return UnetOutputs(
            kind="volume",
            shape=[*scan.plane_shape, int(scan.data.shape[0])],
            volume_mm3=sizes.get("mm3"),
            mask_nifti=base64.b64encode(mri.nifti_mask(mask, scan.affine, scan.header)).decode(),
            slice_areas_pixels=sizes["slice_pixels"],
            slice_areas_mm2=sizes.get("slice_mm2"),
            **common,
        )
