"""The text-to-image family (model `text2image`, GAN-CLS of chapter 12): an English caption in, 64x64 PNGs out.

Inputs: `caption` (at most 50 words), `n` images (1-16, each from its own z: row i of the seed's z draw), `seed`
(an integer: the same seed and version give byte-identical PNGs, because z is drawn HERE with NumPy's PCG64 from
the seed, not in the graph), and optionally `interpolate: {"caption": ..., "steps": 8}` for the book's GAN-INT
strip: z fixed (the seed's first z), the text vector moving from `caption` to the second caption in `steps`
frames (the SavedModel's `interpolate` signature).

Tokenisation is `common.captions`, the same code the model was trained with, over the vocabulary asset of
the served version. Unknown words become <UNK> and are reported back; a caption with no known word is
refused (the picture would say nothing about it).
Limits: Settings `text2image_max_images` (16), `text2image_max_steps` (16), `text2image_max_tokens` (50).
"""

from __future__ import annotations

import base64
import io
import math
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, field_validator

from common import assets as readers
from common.assets import INTERPOLATE_SIGNATURE
from common.captions import MAX_TOKENS, CaptionError, Encoded, Vocabulary, images_to_uint8, pad_batch
from gateway import errors as E
from gateway.core.config import Settings
from gateway.families.base import Family, Prepared, register

GRID_GAP = 2  # pixels between images in the grid PNG
SEED_MAX = 2**63 - 1


@dataclass(frozen=True)
class Text2ImageLimits:
    max_images: int = 16
    max_steps: int = 16
    max_tokens: int = MAX_TOKENS

    @classmethod
    def from_settings(cls, settings: Settings) -> "Text2ImageLimits":
        return cls(**{f: getattr(settings, f"text2image_{f}") for f in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Text2ImageAssets:
    vocab: Vocabulary
    z_dim: int
    interpolate: bool  # the version exports the `interpolate` signature
    limits: Text2ImageLimits


def _strict_int(name: str, value: Any) -> Any:
    """JSON integers only: 1.5, "7", true are refused rather than silently converted."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) >= 2**63:
        # the JSON parser reads integers beyond 64 bits as floats: say what was wrong, not "got float"
        raise ValueError(f"{name} {value:.4g} is out of range; integers up to 2^63-1 are accepted")
    raise ValueError(f"{name} must be a JSON integer, got {type(value).__name__} {value!r}")


class Interpolation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    caption: str = Field(description="the caption the strip ends at (at most 50 words)")
    steps: int = Field(8, description="frames of the strip, 2-16, the first for `caption`, the last for this one")

    @field_validator("steps", mode="before")
    @classmethod
    def _ints(cls, value: Any, info: Any) -> Any:
        return _strict_int(info.field_name, value)


class Text2ImageInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    caption: str = Field(description="an English description of a flower, at most 50 words")
    n: int = Field(1, description="number of images, 1-16, each from its own z (row i of the seed's draw)")
    seed: int | None = Field(None, description="integer 0..2^63-1; same seed and version -> identical images; omitted: random (returned)")
    interpolate: Interpolation | None = Field(
        None, description="optional GAN-INT strip: z fixed to the seed's first z, the text moving from `caption` to `interpolate.caption` in `interpolate.steps` frames (n must stay 1)"
    )

    @field_validator("n", "seed", mode="before")
    @classmethod
    def _ints(cls, value: Any, info: Any) -> Any:
        return _strict_int(info.field_name, value)


@dataclass(frozen=True)
class Text2ImageContext:
    """What postprocess needs of one request: the seed used (drawn when the user sent none) and the encoded captions."""

    seed: int
    first: Encoded
    second: Encoded | None


class Text2ImageOutputs(BaseModel):
    images: list[str] = Field(description="base64 PNGs, 64x64 RGB: n images, or the strip's frames with interpolate")
    grid_png: str = Field(description="all images in one base64 PNG (a grid; one row for a strip)")
    seed: int = Field(description="the seed used (send it back to reproduce these images)")
    tokens: list[str] = Field(description="the caption's word tokens as the model saw them (unknown ones as written)")
    unknown_words: list[str] = Field(description="words not in the model's vocabulary (read as <UNK>)")
    tokens2: list[str] | None = Field(None, description="with interpolate: its caption's tokens")
    unknown_words2: list[str] | None = None
    alphas: list[float] | None = Field(None, description="with interpolate: the weight of its caption per frame (0 -> 1)")


def z_for_seed(seed: int, n: int, z_dim: int) -> np.ndarray:
    """z ~ N(0, 1) from PCG64(seed): the one place z is made, so a seed means the same images everywhere."""
    return np.random.Generator(np.random.PCG64(seed)).standard_normal((n, z_dim)).astype(np.float32)


def encode_png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def grid(images: np.ndarray, columns: int) -> np.ndarray:
    n, h, w, c = images.shape
    rows = math.ceil(n / columns)
    out = np.full((rows * h + (rows - 1) * GRID_GAP, columns * w + (columns - 1) * GRID_GAP, c), 255, np.uint8)
    for i, img in enumerate(images):
        r, col = divmod(i, columns)
        out[r * (h + GRID_GAP) : r * (h + GRID_GAP) + h, col * (w + GRID_GAP) : col * (w + GRID_GAP) + w] = img
    return out


def _encode(field: str, caption: str, assets: Text2ImageAssets) -> Encoded:
    try:
        enc = assets.vocab.encode(caption, assets.limits.max_tokens)
    except CaptionError as e:
        raise E.InvalidInput(f"{field}: {e}") from None
    if enc.known_count == 0:
        examples = ", ".join(t for t in assets.vocab.tokens[3:13])
        raise E.InvalidInput(
            f"{field}: none of its words are known to the model ({', '.join(enc.unknown)}); "
            f"describe a flower in English, e.g. 'the petals on this flower are red with a yellow center' (known words include: {examples})"
        )
    return enc


@register
class Text2ImageFamily(Family[Text2ImageAssets, Text2ImageInputs, Text2ImageContext]):
    name = "text2image"
    models = ("text2image",)
    Inputs = Text2ImageInputs
    Outputs = Text2ImageOutputs
    example = {"caption": "the petals on this flower are white with a yellow center", "n": 4, "seed": 42}

    def load_assets(self, version_dir: Path, manifest: dict[str, Any], settings: Settings) -> Text2ImageAssets:
        files = readers.read_text2image(version_dir, manifest)
        return Text2ImageAssets(files.vocab, files.z_dim, files.interpolate, Text2ImageLimits.from_settings(settings))

    def signature_name(self, inputs: Text2ImageInputs) -> str:
        return INTERPOLATE_SIGNATURE if inputs.interpolate is not None else "serving_default"

    def preprocess(self, inputs: Text2ImageInputs, assets: Text2ImageAssets) -> Prepared[Text2ImageContext]:
        lim = assets.limits
        if inputs.seed is None:
            seed = secrets.randbits(63)  # returned in the outputs, so even a random request is reproducible
        elif not 0 <= inputs.seed <= SEED_MAX:
            raise E.InvalidInput(f"seed must be an integer from 0 to {SEED_MAX}, got {inputs.seed}")
        else:
            seed = inputs.seed
        first = _encode("caption", inputs.caption, assets)
        if inputs.interpolate is None:
            if not 1 <= inputs.n <= lim.max_images:
                raise E.InvalidInput(f"n must be from 1 to {lim.max_images} images, got {inputs.n}")
            arrays = {"caption_ids": pad_batch([first.ids] * inputs.n), "z": z_for_seed(seed, inputs.n, assets.z_dim)}
            return Prepared(arrays, Text2ImageContext(seed, first, None))
        if not assets.interpolate:
            raise E.InvalidInput("this version of text2image has no interpolation signature; send caption without interpolate")
        if inputs.n != 1:
            raise E.InvalidInput(f"n applies to samples of one caption, not to an interpolation strip (got n={inputs.n}); set interpolate.steps instead")
        k = inputs.interpolate.steps
        if not 2 <= k <= lim.max_steps:
            raise E.InvalidInput(f"interpolate.steps must be from 2 to {lim.max_steps} frames, got {k}")
        second = _encode("interpolate.caption", inputs.interpolate.caption, assets)
        z = np.repeat(z_for_seed(seed, 1, assets.z_dim), k, axis=0)
        arrays = {
            "caption_ids": pad_batch([first.ids] * k),
            "caption_ids_b": pad_batch([second.ids] * k),
            "alpha": np.linspace(0.0, 1.0, k, dtype=np.float32),
            "z": z,
        }
        return Prepared(arrays, Text2ImageContext(seed, first, second))

    def postprocess(self, outputs: dict[str, np.ndarray], assets: Text2ImageAssets, inputs: Text2ImageInputs, context: Text2ImageContext) -> Text2ImageOutputs:
        images = images_to_uint8(outputs["images"])
        first, second = context.first, context.second
        strip = second is not None
        columns = len(images) if strip else math.ceil(math.sqrt(len(images)))
        b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
        return Text2ImageOutputs(
            images=[b64(encode_png(img)) for img in images],
            grid_png=b64(encode_png(grid(images, columns))),
            seed=context.seed,
            tokens=first.tokens,
            unknown_words=first.unknown,
            tokens2=second.tokens if second else None,
            unknown_words2=second.unknown if second else None,
            alphas=[round(float(a), 6) for a in np.linspace(0.0, 1.0, len(images))] if strip else None,
        )
