"""The SRGAN x4 upscaler family (model `srgan`): an image in, the same image 4x larger (PNG) out.

Inputs: `image` (multipart file, or base64 in JSON; JPEG, PNG, WebP, BMP, GIF, TIFF as the classifier family,
decoded by `common.images.decode_image`), `compare` (also return the bicubic upscale, made by the same
`common.superres` function the model's LR training data came from).

Large inputs: an image whose longer side exceeds `tile_threshold` (default 800 px, the book's memory limit)
is cut into equal-size overlapping tiles, sent as ONE batch (fits the family interface: preprocess returns
the tile batch, postprocess blends), and blended without seams (`common.superres.blend_tiles`). The tile
margin is at least the generator's receptive radius (from the manifest), so tiles agree with a whole-image
run. A separate hard limit on output pixels (`max_output_pixels`) refuses what would not fit in memory.

Alpha: the generator sees RGB only; an input alpha channel that is not fully opaque is upscaled bicubically
and re-attached (RGBA PNG out). Limits: Settings `srgan_*` (tiling) and `image_*` (decoding).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, field_validator

from common import assets as readers
from common import superres as sr
from common.images import ACCEPTED_TEXT, ImageDecodeError, ImageLimits, decode_image
from gateway import errors as E
from gateway.core.config import Settings
from gateway.families.base import Family, Prepared, UploadedFile, decode_base64_field, register
from gateway.families.images import decode_error, image_limits  # the classifier family's: same input, same answer

TRUE_WORDS, FALSE_WORDS = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class SrganLimits:
    """Tiling and size limits (LR = input pixels): Settings `srgan_<field>`."""

    tile_threshold: int = 800  # longer input side above which tiling starts
    tile_size: int = 256  # tile side (input pixels) when tiling
    tile_overlap: int = 32  # overlap between neighbouring tiles (raised to fit the receptive radius)
    max_output_pixels: int = 25_000_000  # 4W x 4H; a 1250 x 1250 input at most
    min_side: int = 16  # shorter input side below which the request is refused
    png_compress_level: int = 1  # zlib level of the PNGs returned (1: fast, larger)

    @classmethod
    def from_settings(cls, settings: Settings) -> "SrganLimits":
        return cls(**{f: getattr(settings, f"srgan_{f}") for f in cls.__dataclass_fields__})


@dataclass(frozen=True)
class SrganAssets:
    scale: int
    margin: int  # LR pixels of a tile edge discarded before blending (>= the receptive radius)
    overlap: int
    limits: SrganLimits
    image_limits: ImageLimits


class SrganInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image: bytes = Field(description="the image: JPEG, PNG, WebP, BMP, GIF (first frame) or TIFF; base64 in JSON")
    compare: bool = Field(False, description="also return the bicubic x4 upscale (the baseline the model is measured against)")

    @field_validator("image", mode="before")
    @classmethod
    def _b64(cls, value: Any) -> Any:
        return decode_base64_field(value, "the image")


@dataclass(frozen=True)
class SrganContext:
    """What postprocess needs of one request: the decoded input (for the bicubic baseline and the alpha) and the tile plan."""

    rgb: np.ndarray
    alpha: np.ndarray | None
    plan: sr.TilePlan


class SrganOutputs(BaseModel):
    image_png: str = Field(description="the x4 upscale as a base64 PNG (RGBA when the input had transparency)")
    width: int = Field(description="output width = 4 x input width")
    height: int
    input_width: int
    input_height: int
    alpha: bool = Field(description="True when the input's alpha was upscaled bicubically and re-attached")
    tiles: int = Field(description="1 = the whole image in one pass; more = overlapping tiles blended")
    bicubic_png: str | None = Field(None, description="with compare=true: the bicubic x4 upscale, base64 PNG")


def _example_png() -> str:
    y, x = np.mgrid[0:24, 0:24]
    img = np.stack([x * 10, y * 10, (x + y) * 5], axis=-1).astype(np.uint8)
    return base64.b64encode(encode_png(img, 6)).decode()


def encode_png(image: np.ndarray, level: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=level)
    return buf.getvalue()


def _parse_bool(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v in TRUE_WORDS or v in FALSE_WORDS:
        return v in TRUE_WORDS
    raise E.InvalidInput(f"form field {name!r} must be true or false, got {value!r}")


@register
class SrganFamily(Family[SrganAssets, SrganInputs, SrganContext]):
    name = "srgan"
    models = ("srgan",)
    Inputs = SrganInputs
    Outputs = SrganOutputs
    file_fields = ("image",)
    example = {"image": _example_png(), "compare": True}

    def load_assets(self, version_dir: Path, manifest: dict[str, Any], settings: Settings) -> SrganAssets:
        files = readers.read_srgan(version_dir, manifest)
        scale = files.scale
        limits = SrganLimits.from_settings(settings)
        margin = max(files.receptive_radius_lr, limits.tile_overlap // 4)
        overlap = max(limits.tile_overlap, 2 * margin + 8)
        if overlap >= limits.tile_size:
            raise ValueError(f"tile_size {limits.tile_size} too small for the model's receptive radius {margin} (overlap {overlap})")
        return SrganAssets(scale, margin, overlap, limits, image_limits(settings))

    def parse_multipart(self, fields: dict[str, str], files: list[UploadedFile]) -> SrganInputs:
        images = [f for f in files if f.field == "image"]
        others = sorted({f.field for f in files} - {"image"})
        if others:
            raise E.InvalidInput(f"unexpected file field(s) {others}; send the picture as the file field 'image'")
        if len(images) != 1:
            raise E.BadRequest(f"send exactly one file field 'image' (got {len(images)}); {ACCEPTED_TEXT}")
        unknown = sorted(set(fields) - {"compare"})
        if unknown:
            raise E.InvalidInput(f"unexpected form field(s) {unknown}; accepted: compare (true/false) and the file 'image'")
        compare = _parse_bool("compare", fields["compare"]) if "compare" in fields else False
        return SrganInputs(image=images[0].data, compare=compare)

    def preprocess(self, inputs: SrganInputs, assets: SrganAssets) -> Prepared[SrganContext]:
        limits = assets.limits
        try:
            decoded = decode_image(inputs.image, assets.image_limits, keep_alpha=True)
        except ImageDecodeError as e:
            raise decode_error("image", e) from None
        rgb, alpha = sr.split_alpha(decoded)
        if alpha is not None and alpha.min() == 255:
            alpha = None  # fully opaque: nothing to re-attach
        h, w = rgb.shape[:2]
        if min(h, w) < limits.min_side:
            raise E.InvalidInput(f"image is {w}x{h} pixels; the smaller side must be at least {limits.min_side} pixels")
        out_pixels = h * w * assets.scale**2
        if out_pixels > limits.max_output_pixels:
            raise E.PayloadTooLarge(
                f"a {w}x{h} image upscales to {assets.scale * w}x{assets.scale * h} = {out_pixels} pixels; the limit is "
                f"{limits.max_output_pixels} output pixels (input at most ~{int((limits.max_output_pixels / assets.scale**2) ** 0.5)}"
                f" px square); send a smaller image"
            )
        if max(h, w) <= limits.tile_threshold:
            plan = sr.plan_tiles(h, w, max(h, w), 0, 0)
        else:
            plan = sr.plan_tiles(h, w, limits.tile_size, assets.overlap, assets.margin)
        return Prepared({"images": sr.to_model_range(sr.cut_tiles(rgb, plan))}, SrganContext(rgb, alpha, plan))

    def postprocess(self, outputs: dict[str, np.ndarray], assets: SrganAssets, inputs: SrganInputs, context: SrganContext) -> SrganOutputs:
        plan, s = context.plan, assets.scale
        tiles = np.asarray(outputs["images"])
        expected = (plan.count, plan.tile_h * s, plan.tile_w * s, 3)
        if tiles.shape != expected:
            raise E.BackendError(f"backend returned images of shape {list(tiles.shape)}, expected {list(expected)}")
        rgb = sr.from_model_range(sr.blend_tiles(tiles, plan, s))
        out = sr.attach_alpha(rgb, context.alpha, s)
        level = assets.limits.png_compress_level
        bicubic = None
        if inputs.compare:
            lr = context.rgb if context.alpha is None else np.concatenate([context.rgb, context.alpha[..., None]], -1)
            bicubic = base64.b64encode(encode_png(sr.upscale_bicubic(lr, s), level)).decode()
        return SrganOutputs(
            image_png=base64.b64encode(encode_png(out, level)).decode(),
            width=out.shape[1],
            height=out.shape[0],
            input_width=plan.width,
            input_height=plan.height,
            alpha=context.alpha is not None,
            tiles=plan.count,
            bicubic_png=bicubic,
        )
