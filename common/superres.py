"""Super-resolution pre/post-processing shared by SRGAN training, evaluation and the gateway (TF-free).

Why one module: the model is only as good as the match between what it was trained on and what it is
sent. The low-resolution (LR) images it learns from, the LR images of the held-out evaluation, and the
bicubic baseline returned by the gateway's `compare=true` all come from `bicubic_resize` below (Pillow's
bicubic filter, which antialiases when downscaling). Scaling to [-1, 1], tiling of large inputs and the
quality metrics live here too, so the gateway and the evaluation measure exactly the same thing.

Tiling: a fully convolutional generator can run on any size, but memory grows with the image. Large
inputs are cut into equal-size, overlapping tiles (one batch for the backend) and blended back with
feathering weights: each tile's weight is 0 on a thin margin at an interior edge (the pixels a zero-padded
convolution gets wrong), then rises linearly to 1 across the rest of the overlap. Weights are normalised by
their sum, so any amount of overlap blends without seams.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from PIL import Image

SCALE = 4  # the SRGAN generator upscales 4x (two x2 sub-pixel steps)
BICUBIC = Image.Resampling.BICUBIC
BICUBIC_NAME = "PIL.Image.Resampling.BICUBIC (antialiased when downscaling)"


# --------------------------------------------------------------------------- bicubic (the one implementation)
def bicubic_resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a uint8 HxW or HxWxC image to `size` = (height, width) with Pillow's bicubic filter.

    The single bicubic function of the project: LR training/evaluation images (downscaling) and the bicubic
    baseline / `compare` output (upscaling) are both made here.
    """
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise TypeError(f"bicubic_resize takes uint8 images, got {arr.dtype}")
    height, width = size
    if arr.ndim == 2:
        return np.asarray(Image.fromarray(arr).resize((width, height), BICUBIC))
    if arr.ndim != 3:
        raise ValueError(f"expected HxW or HxWxC, got shape {arr.shape}")
    if arr.shape[2] in (3, 4):
        return np.asarray(Image.fromarray(arr).resize((width, height), BICUBIC))
    # Other channel counts: channel by channel (mode "L"), identical filter.
    return np.stack([bicubic_resize(arr[..., c], size) for c in range(arr.shape[2])], axis=-1)


def crop_to_multiple(image: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """Drop the bottom/right rows/columns so both sides divide by `scale` (HR ground truth for an LR image)."""
    h, w = image.shape[:2]
    return image[: h - h % scale, : w - w % scale]


def downscale(hr: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """The LR image of an HR image: crop to a multiple of `scale`, then bicubic down by `scale`."""
    hr = crop_to_multiple(hr, scale)
    return bicubic_resize(hr, (hr.shape[0] // scale, hr.shape[1] // scale))


def upscale_bicubic(lr: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """The bicubic baseline (and the `compare` output; also how alpha is upscaled)."""
    return bicubic_resize(lr, (lr.shape[0] * scale, lr.shape[1] * scale))


# --------------------------------------------------------------------------- value range
def to_model_range(image: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] -> float32 [-1, 1], the signature's input range."""
    return (np.asarray(image, dtype=np.float32) / 127.5) - 1.0


def from_model_range(values: np.ndarray) -> np.ndarray:
    """float32 [-1, 1] (tanh output) -> uint8 [0, 255], rounded and clipped."""
    return np.clip(np.rint((np.asarray(values, dtype=np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- alpha
def split_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(RGB, alpha or None) of an HxWx3 / HxWx4 uint8 image; grey HxW is expanded to RGB."""
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=-1), None
    if image.shape[-1] == 4:
        return np.ascontiguousarray(image[..., :3]), np.ascontiguousarray(image[..., 3])
    if image.shape[-1] == 3:
        return image, None
    raise ValueError(f"expected 1, 3 or 4 channels, got shape {image.shape}")


def attach_alpha(rgb: np.ndarray, alpha_lr: np.ndarray | None, scale: int = SCALE) -> np.ndarray:
    """Re-attach the input's alpha, upscaled bicubically (the generator only sees RGB)."""
    if alpha_lr is None:
        return rgb
    alpha = upscale_bicubic(alpha_lr, scale)
    return np.concatenate([rgb, alpha[..., None]], axis=-1)


# --------------------------------------------------------------------------- tiling
@dataclass(frozen=True)
class TilePlan:
    """Equal-size tiles covering an LR image: tile (y, x) origins and the common tile size (LR pixels)."""

    height: int
    width: int
    tile_h: int
    tile_w: int
    origins: tuple[tuple[int, int], ...]
    overlap: int
    margin: int

    @property
    def count(self) -> int:
        return len(self.origins)


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    """Tile origins along one axis: the fewest tiles whose neighbours overlap by at least `overlap`,
    spread evenly from edge to edge (so overlaps are equal to within one pixel)."""
    if length <= tile:
        return [0]
    n = -(-(length - overlap) // (tile - overlap))  # ceil
    n = max(n, 2)
    return [round(i * (length - tile) / (n - 1)) for i in range(n)]


def plan_tiles(height: int, width: int, tile: int, overlap: int, margin: int | None = None) -> TilePlan:
    """Plan equal-size overlapping tiles; one tile (the whole image) when both sides fit in `tile`.

    `overlap` must exceed twice the `margin` (default overlap // 4) so every pixel keeps a positive weight.
    """
    if margin is None:
        margin = overlap // 4
    if tile <= 0 or overlap < 0 or overlap >= tile:
        raise ValueError(f"need 0 <= overlap < tile, got tile={tile} overlap={overlap}")
    if overlap and overlap <= 2 * margin:
        raise ValueError(f"overlap ({overlap}) must exceed 2 * margin ({margin})")
    th, tw = min(tile, height), min(tile, width)
    origins = tuple((y, x) for y in _starts(height, th, overlap) for x in _starts(width, tw, overlap))
    return TilePlan(height, width, th, tw, origins, overlap, margin)


def cut_tiles(image: np.ndarray, plan: TilePlan) -> np.ndarray:
    """Stack the planned tiles of an HxWxC array into [N, tile_h, tile_w, C]."""
    return np.stack([image[y : y + plan.tile_h, x : x + plan.tile_w] for y, x in plan.origins])


def _ramp(length: int, start_open: bool, end_open: bool, overlap: int, margin: int) -> np.ndarray:
    """1-D feathering weight of a tile: 0 on `margin` pixels at an interior edge, linear up to 1 over the
    rest of the overlap; 1 elsewhere and at image borders."""
    w = np.ones(length, dtype=np.float32)
    ramp_len = overlap - 2 * margin
    if ramp_len <= 0:
        return w
    rise = np.concatenate([np.zeros(margin, np.float32), (np.arange(ramp_len, dtype=np.float32) + 0.5) / ramp_len])
    rise = rise[:length]
    if start_open:
        w[: len(rise)] = np.minimum(w[: len(rise)], rise)
    if end_open:
        w[length - len(rise) :] = np.minimum(w[length - len(rise) :], rise[::-1])
    return w


def blend_tiles(tiles: np.ndarray, plan: TilePlan, scale: int = SCALE) -> np.ndarray:
    """Blend upscaled tiles [N, s*th, s*tw, C] back into one [s*H, s*W, C] float32 image."""
    n, th, tw, c = tiles.shape
    if n != plan.count or th != plan.tile_h * scale or tw != plan.tile_w * scale:
        raise ValueError(f"tiles {tiles.shape} do not match the plan ({plan.count} x {plan.tile_h}x{plan.tile_w} x{scale})")
    if n == 1:
        return tiles[0].astype(np.float32, copy=False)
    out = np.zeros((plan.height * scale, plan.width * scale, c), dtype=np.float32)
    weight_sum = np.zeros((plan.height * scale, plan.width * scale, 1), dtype=np.float32)
    ov, mg = plan.overlap * scale, plan.margin * scale
    for tile, (y, x) in zip(tiles, plan.origins):
        wy = _ramp(th, y > 0, y + plan.tile_h < plan.height, ov, mg)
        wx = _ramp(tw, x > 0, x + plan.tile_w < plan.width, ov, mg)
        w = (wy[:, None] * wx[None, :])[..., None]
        ys, xs = slice(y * scale, y * scale + th), slice(x * scale, x * scale + tw)
        out[ys, xs] += tile * w
        weight_sum[ys, xs] += w
    return out / weight_sum


# --------------------------------------------------------------------------- metrics
def rgb_to_y(image: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma in [16, 235] as float64 (the Y channel SR papers report PSNR/SSIM on)."""
    rgb = np.asarray(image, dtype=np.float64)
    return 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0


def _shave(image: np.ndarray, border: int) -> np.ndarray:
    return image[border:-border, border:-border] if border else image


def psnr(reference: np.ndarray, test: np.ndarray, *, border: int = SCALE, y_channel: bool = False) -> float:
    """PSNR in dB of uint8 RGB images after cropping `border` pixels (default 4 = the scale, as usual in SR)."""
    from skimage.metrics import peak_signal_noise_ratio

    ref, tst = _prepare(reference, test, border, y_channel)
    return float(peak_signal_noise_ratio(ref, tst, data_range=255.0))


def ssim(reference: np.ndarray, test: np.ndarray, *, border: int = SCALE, y_channel: bool = False) -> float:
    """SSIM (skimage, 7x7 window) of uint8 RGB images after the same border crop; RGB = mean over channels."""
    from skimage.metrics import structural_similarity

    ref, tst = _prepare(reference, test, border, y_channel)
    return float(structural_similarity(ref, tst, data_range=255.0, channel_axis=None if y_channel else -1))


def _prepare(reference: np.ndarray, test: np.ndarray, border: int, y_channel: bool) -> tuple[np.ndarray, np.ndarray]:
    if reference.shape != test.shape:
        raise ValueError(f"shape mismatch: {reference.shape} vs {test.shape}")
    ref, tst = _shave(reference[..., :3], border), _shave(test[..., :3], border)
    if y_channel:
        return rgb_to_y(ref), rgb_to_y(tst)
    return ref.astype(np.float64), tst.astype(np.float64)


def quality(reference: np.ndarray, test: np.ndarray, border: int = SCALE) -> dict[str, float]:
    """PSNR/SSIM on RGB and on Y, the four numbers the evaluation reports per image."""
    return {
        "psnr_rgb": psnr(reference, test, border=border),
        "psnr_y": psnr(reference, test, border=border, y_channel=True),
        "ssim_rgb": ssim(reference, test, border=border),
        "ssim_y": ssim(reference, test, border=border, y_channel=True),
    }
