"""common.superres: the one bicubic function, value range, alpha, tiling geometry and blending, metrics."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from common import superres as sr

REPO = Path(__file__).resolve().parents[2]


def _photo(h: int = 60, w: int = 84, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 3, y * 4, (x + y) * 2], axis=-1) + rng.normal(0, 8, (h, w, 3))
    return np.clip(base, 0, 255).astype(np.uint8)


def test_bicubic_is_pillow_bicubic_both_ways() -> None:
    img = _photo()
    want = np.asarray(Image.fromarray(img).resize((84 // 4, 60 // 4), Image.Resampling.BICUBIC))
    assert np.array_equal(sr.downscale(img), want)
    lr = sr.downscale(img)
    want_up = np.asarray(Image.fromarray(lr).resize((lr.shape[1] * 4, lr.shape[0] * 4), Image.Resampling.BICUBIC))
    assert np.array_equal(sr.upscale_bicubic(lr), want_up)


def test_downscale_crops_to_a_multiple_of_the_scale() -> None:
    img = _photo(61, 87)
    assert sr.downscale(img).shape == (15, 21, 3)
    assert sr.crop_to_multiple(img).shape == (60, 84, 3)


def test_bicubic_refuses_non_uint8() -> None:
    with pytest.raises(TypeError, match="uint8"):
        sr.bicubic_resize(np.zeros((8, 8, 3), np.float32), (4, 4))


def _calls_outside(paths: list[Path]) -> list[str]:
    """Any resize call or BICUBIC constant in SRGAN code other than common/superres.py."""
    found = []
    for path in paths:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {"resize", "BICUBIC", "imresize"}:
                found.append(f"{path.relative_to(REPO)}:{node.lineno} .{node.attr}")
    return found


def test_bicubic_has_a_single_implementation() -> None:
    """Training data, evaluation, the gateway and the gateway evaluation script resize only through
    common.superres (which is what makes LR training data and the `compare` output the same function)."""
    # model.py is excluded on purpose: the tiny preset's bicubic skip is a layer of the network (tf.image.resize
    # inside the graph), not preprocessing.
    srgan = REPO / "training" / "srgan"
    paths = [*(p for p in sorted(srgan.glob("*.py")) if p.name != "model.py"), REPO / "gateway" / "families" / "srgan.py"]
    script = REPO / "scripts" / "eval_srgan_gateway.py"
    if script.exists():
        paths.append(script)
    assert _calls_outside(paths) == []


def test_value_range_round_trip() -> None:
    img = _photo()
    x = sr.to_model_range(img)
    assert x.dtype == np.float32 and x.min() >= -1.0 and x.max() <= 1.0
    assert np.array_equal(sr.from_model_range(x), img)
    assert np.array_equal(sr.from_model_range(np.array([-3.0, 3.0])), np.array([0, 255], np.uint8))


def test_alpha_split_and_reattach() -> None:
    rgba = np.concatenate([_photo(), np.linspace(0, 255, 60 * 84).reshape(60, 84, 1).astype(np.uint8)], -1)
    rgb, alpha = sr.split_alpha(rgba)
    assert rgb.shape == (60, 84, 3) and alpha is not None and alpha.shape == (60, 84)
    up = sr.attach_alpha(sr.upscale_bicubic(rgb), alpha)
    assert up.shape == (240, 336, 4)
    assert np.array_equal(up[..., 3], sr.upscale_bicubic(alpha))
    assert sr.split_alpha(rgb)[1] is None
    grey, none = sr.split_alpha(rgb[..., 0])
    assert grey.shape == (60, 84, 3) and none is None


@pytest.mark.parametrize("h,w,tile,overlap", [(100, 100, 40, 12), (97, 203, 50, 16), (30, 300, 64, 20), (64, 64, 64, 8)])
def test_tile_plan_covers_with_equal_tiles(h: int, w: int, tile: int, overlap: int) -> None:
    plan = sr.plan_tiles(h, w, tile, overlap)
    covered = np.zeros((h, w), bool)
    for y, x in plan.origins:
        assert 0 <= y <= h - plan.tile_h and 0 <= x <= w - plan.tile_w
        covered[y : y + plan.tile_h, x : x + plan.tile_w] = True
    assert covered.all()
    assert sr.cut_tiles(_photo(h, w), plan).shape == (plan.count, min(tile, h), min(tile, w), 3)


def test_blend_reconstructs_exactly_with_a_local_upscaler() -> None:
    """A purely local 'model' (nearest-neighbour x4) gives identical values in every tile, so the blend
    must reproduce the whole-image result: proves weights are normalised and every pixel is covered."""
    img = _photo(97, 203)
    plan = sr.plan_tiles(97, 203, 48, 16, 4)
    assert plan.count > 4
    nn = lambda a: a.repeat(4, axis=-3).repeat(4, axis=-2)  # noqa: E731
    tiles = nn(sr.to_model_range(sr.cut_tiles(img, plan)))
    blended = sr.blend_tiles(tiles, plan)
    assert np.allclose(blended, nn(sr.to_model_range(img)), atol=1e-5)


def test_blend_weights_drop_tile_margins() -> None:
    """Pixels within `margin` of an interior tile edge get weight 0, so edge artefacts never show."""
    plan = sr.plan_tiles(40, 64, 40, 16, 4)
    assert plan.origins == ((0, 0), (0, 24))
    tiles = np.zeros((2, 160, 160, 1), np.float32)
    tiles[0, :, -16:] = 100.0  # garbage in tile 0's right margin (4 LR px = 16 HR px)
    tiles[1, :, :16] = 100.0  # garbage in tile 1's left margin
    assert np.abs(sr.blend_tiles(tiles, plan)).max() == 0.0


def test_plan_rejects_bad_geometry() -> None:
    with pytest.raises(ValueError):
        sr.plan_tiles(100, 100, 32, 32)
    with pytest.raises(ValueError):
        sr.plan_tiles(100, 100, 64, 8, 4)


def test_metrics() -> None:
    img = _photo()
    with np.errstate(divide="ignore"):
        assert sr.psnr(img, img) == float("inf")
    noisy = np.clip(img.astype(int) + 5, 0, 255).astype(np.uint8)
    mse = np.mean((img[4:-4, 4:-4].astype(float) - noisy[4:-4, 4:-4]) ** 2)
    assert sr.psnr(img, noisy) == pytest.approx(10 * np.log10(255**2 / mse))
    q = sr.quality(img, noisy)
    assert set(q) == {"psnr_rgb", "psnr_y", "ssim_rgb", "ssim_y"}
    assert 0.5 < q["ssim_rgb"] < 1.0 and 0.5 < q["ssim_y"] < 1.0
    y = sr.rgb_to_y(np.array([[[255, 255, 255], [0, 0, 0]]], np.uint8))
    assert y[0, 0] == pytest.approx(235.0) and y[0, 1] == pytest.approx(16.0)
