"""Image decoding and preprocessing, TF-free (Pillow + NumPy): the ONE implementation used by training and the gateway.

Why one module: a classifier is only as good as the agreement between the pixels it was trained on and the
pixels the gateway sends. Training (digits, folders of photos) and the gateway (uploads) both go through
`decode_image` -> `preprocess_image`, so the tensors are bit-identical by construction (tested).

Two layers:
- `decode_image(data, limits)` turns the bytes a browser or phone sends (JPEG, PNG, WebP, BMP, GIF first frame,
  TIFF) into an upright uint8 RGB (or RGBA) array: EXIF orientation applied, palette/grey/CMYK/16-bit/alpha
  modes converted (alpha composited over white), decompression bombs refused from the header before any pixel
  is decoded. Every failure is an `ImageDecodeError` whose `kind` says what went wrong and whose message names
  the accepted formats; the gateway maps it to a 4xx. SRGAN and other image families reuse this decoder.
- `preprocess_image(rgb, policy)` applies a model's `ResizePolicy` (VGG16: plain resize to 224 as the book's
  `imresize`; Inception V3: centre square crop then resize to 299 as the book's `load_image`) and returns
  float32 RGB in 0..255. Scaling/mean subtraction happen inside the graphs.
"""

from __future__ import annotations

import io
import warnings
from struct import error as struct_error  # raised by some Pillow plugins on short reads
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF")
ACCEPTED_TEXT = "accepted formats: JPEG, PNG, WebP, BMP, GIF (first frame), TIFF"

# Modes we know how to turn into 8-bit RGB. "F" (32-bit float) and exotic modes have no agreed value range,
# so guessing would silently feed the model garbage: they are refused with a clear error instead.
_DIRECT_RGB = {"1", "L", "P", "RGB", "RGBX", "CMYK", "YCbCr", "HSV"}
_WITH_ALPHA = {"LA", "La", "PA", "RGBA", "RGBa"}
_SIXTEEN_BIT = {"I", "I;16", "I;16L", "I;16B", "I;16N"}

ResizeMethod = Literal["resize", "center_crop"]


class ImageDecodeError(ValueError):
    """The bytes are not a usable image. `kind` is one of: empty, not_an_image, unsupported_format, truncated,
    too_large, unsupported_mode. The message says what was wrong and what is accepted."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class ImageLimits:
    """Explicit limits (docs/design.md §7). Checked from the header, before decoding, so a 50k x 50k PNG of a few KB
    (a decompression bomb) costs nothing. Pillow's own bomb guard stays active as a second line."""

    max_pixels: int = 40_000_000  # width * height
    max_side: int = 12_000  # longest side in pixels
    max_bytes: int = 25 * 1024 * 1024  # encoded size


DEFAULT_LIMITS = ImageLimits()


@dataclass(frozen=True)
class ResizePolicy:
    """How a decoded image becomes the model's square input.

    resize: stretch to size x size (the book's VGG16 `imresize(img, (224, 224))`; aspect ratio not kept).
    center_crop: take the central square of side `crop_fraction` * short edge, then resize (the book's
    Inception V3 `load_image`; TF-Slim evaluation uses crop_fraction 0.875).
    """

    size: int
    method: ResizeMethod = "resize"
    crop_fraction: float = 1.0
    resample: Literal["bilinear", "bicubic", "nearest", "lanczos"] = "bilinear"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ResizePolicy":
        return cls(
            size=int(d["size"]),
            method=d.get("method", "resize"),
            crop_fraction=float(d.get("crop_fraction", 1.0)),
            resample=d.get("resample", "bilinear"),
        )


VGG16_POLICY = ResizePolicy(224, "resize")
INCEPTION_V3_POLICY = ResizePolicy(299, "center_crop")
POLICIES: dict[str, ResizePolicy] = {"vgg16": VGG16_POLICY, "inception_v3": INCEPTION_V3_POLICY}

_RESAMPLE = {
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "nearest": Image.Resampling.NEAREST,
    "lanczos": Image.Resampling.LANCZOS,
}


def _check_size(width: int, height: int, limits: ImageLimits) -> None:
    if width <= 0 or height <= 0:
        raise ImageDecodeError("not_an_image", f"image has no pixels ({width}x{height}); {ACCEPTED_TEXT}")
    if max(width, height) > limits.max_side or width * height > limits.max_pixels:
        raise ImageDecodeError(
            "too_large",
            f"image is {width}x{height} = {width * height} pixels; the limit is {limits.max_pixels} pixels "
            f"and {limits.max_side} pixels per side (decompression-bomb protection)",
        )


def _open(data: bytes, limits: ImageLimits) -> Image.Image:
    if not data:
        raise ImageDecodeError("empty", f"empty file: no image bytes were sent; {ACCEPTED_TEXT}")
    if len(data) > limits.max_bytes:
        raise ImageDecodeError("too_large", f"encoded image is {len(data)} bytes; the limit is {limits.max_bytes} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        raise ImageDecodeError("too_large", f"image dimensions exceed the decoder's safety limit ({e})") from None
    except UnidentifiedImageError:
        raise ImageDecodeError("not_an_image", f"not an image (or an unrecognised format); {ACCEPTED_TEXT}") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageDecodeError("truncated", f"corrupt or truncated image header ({e}); {ACCEPTED_TEXT}") from None
    if img.format not in ACCEPTED_FORMATS:
        raise ImageDecodeError("unsupported_format", f"image format {img.format} is not accepted; {ACCEPTED_TEXT}")
    _check_size(img.width, img.height, limits)
    return img


def _load(img: Image.Image) -> Image.Image:
    """Decode the pixels (first frame only for GIF/animated WebP/multi-page TIFF) and apply EXIF orientation."""
    try:
        img.seek(0)
        img.load()
        return ImageOps.exif_transpose(img) or img
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct_error) as e:
        raise ImageDecodeError(
            "truncated", f"truncated or corrupt {img.format} image: the pixel data could not be decoded ({e}); {ACCEPTED_TEXT}"
        ) from None


def _over_white(rgba: np.ndarray) -> np.ndarray:
    """Composite straight alpha over white in exact integer arithmetic (deterministic across platforms)."""
    rgb = rgba[..., :3].astype(np.uint32)
    a = rgba[..., 3:4].astype(np.uint32)
    out = (rgb * a + 255 * (255 - a) + 127) // 255
    return out.astype(np.uint8)


def _sixteen_to_eight(img: Image.Image) -> np.ndarray:
    """16-bit greyscale (Pillow modes I;16*, or I from 16-bit PNG/TIFF) -> 8-bit RGB by rounding v / 257."""
    arr = np.asarray(img).astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() > 65535):
        raise ImageDecodeError(
            "unsupported_mode",
            f"32-bit integer image with values outside 0..65535 is not supported; send 8- or 16-bit images. {ACCEPTED_TEXT}",
        )
    grey = ((arr * 255 + 32767) // 65535).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)


def to_rgb_array(img: Image.Image, *, keep_alpha: bool = False) -> np.ndarray:
    """Any supported Pillow mode -> uint8 [H, W, 3] (alpha over white) or [H, W, 4] when keep_alpha."""
    mode = img.mode
    if mode in _SIXTEEN_BIT:
        rgb = _sixteen_to_eight(img)
        return np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], -1) if keep_alpha else rgb
    has_alpha = mode in _WITH_ALPHA or (mode == "P" and "transparency" in img.info) or (
        mode in {"L", "RGB"} and "transparency" in img.info
    )
    if mode not in _DIRECT_RGB and mode not in _WITH_ALPHA:
        raise ImageDecodeError(
            "unsupported_mode",
            f"image mode {mode!r} is not supported (accepted: 1-bit, greyscale, palette, RGB, RGBA, LA, CMYK, YCbCr, "
            f"16-bit greyscale); {ACCEPTED_TEXT}",
        )
    try:
        if has_alpha:
            rgba = np.asarray(img.convert("RGBA"))
            return rgba.copy() if keep_alpha else _over_white(rgba)
        rgb = np.asarray(img.convert("RGB"))
    except (ValueError, OSError) as e:
        raise ImageDecodeError("unsupported_mode", f"image mode {mode!r} cannot be converted to RGB ({e}); {ACCEPTED_TEXT}") from None
    if keep_alpha:
        return np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], -1)
    return rgb.copy()


def decode_image(data: bytes, limits: ImageLimits = DEFAULT_LIMITS, *, keep_alpha: bool = False) -> np.ndarray:
    """Encoded bytes -> upright uint8 RGB [H, W, 3] (or RGBA [H, W, 4] with keep_alpha). Raises ImageDecodeError."""
    img = _open(bytes(data), limits)
    with img:
        loaded = _load(img)
        _check_size(loaded.width, loaded.height, limits)
        return to_rgb_array(loaded, keep_alpha=keep_alpha)


def preprocess_image(rgb: np.ndarray, policy: ResizePolicy) -> np.ndarray:
    """uint8 RGB [H, W, 3] -> float32 [size, size, 3] in 0..255 following `policy` (Pillow resize, antialiased)."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"expected uint8 [H, W, 3], got {rgb.dtype} {rgb.shape}")
    img = Image.fromarray(rgb, "RGB")
    if policy.method == "center_crop":
        h, w = rgb.shape[:2]
        side = max(1, int(round(min(h, w) * policy.crop_fraction)))
        top, left = (h - side) // 2, (w - side) // 2
        img = img.crop((left, top, left + side, top + side))
    elif policy.method != "resize":
        raise ValueError(f"unknown resize method {policy.method!r}; use 'resize' or 'center_crop'")
    if img.size != (policy.size, policy.size):
        img = img.resize((policy.size, policy.size), _RESAMPLE[policy.resample])
    return np.asarray(img, dtype=np.float32)


def load_for_model(data: bytes, policy: ResizePolicy, limits: ImageLimits = DEFAULT_LIMITS) -> np.ndarray:
    """Bytes -> the model's float32 input row: what both training (folders of images) and the gateway call."""
    return preprocess_image(decode_image(data, limits), policy)


def digits_to_rgb(digits: np.ndarray) -> np.ndarray:
    """scikit-learn digits (values 0..16, [N, 8, 8] or [N, 64]) -> uint8 RGB [N, 8, 8, 3]: the raw image a user
    would upload (e.g. as an 8x8 PNG); the model-size upsampling is then `preprocess_image`'s job."""
    arr = np.asarray(digits, dtype=np.float64).reshape(-1, 8, 8)
    grey = np.rint(arr * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)
