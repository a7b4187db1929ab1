"""The gateway's SRGAN family in-process with the exported SavedModel: tiling vs whole image, alpha,
compare, bad inputs (the HTTP path is in test_gateway.py)."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from common import manifest as mf
from common import superres as sr
from gateway.core.config import Settings
from gateway import errors as E
from gateway.families import UploadedFile, family_for
from gateway.families.srgan import SrganAssets, SrganInputs, SrganLimits, SrganOutputs
from training.srgan import data as srdata
from tests.utils.images import png, unpng

FAMILY = family_for("srgan")




@pytest.fixture(scope="module")
def assets(srgan_version: Path) -> SrganAssets:
    return FAMILY.load_assets(srgan_version, mf.read_manifest(srgan_version), Settings())


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return srdata.load(("coffee",))["coffee"][100:196:1, 200:330]  # 96 x 130, real photo content


def run(inputs: SrganInputs, assets: SrganAssets, serve_fn) -> SrganOutputs:
    prepared = FAMILY.preprocess(inputs, assets)
    out = FAMILY.postprocess({"images": serve_fn(prepared.arrays["images"])}, assets, inputs, prepared.context)
    assert isinstance(out, SrganOutputs)
    return out


def test_tiled_result_matches_whole_image(photo: np.ndarray, assets: SrganAssets, serve_fn) -> None:
    whole = run(SrganInputs(image=png(photo)), assets, serve_fn)
    assert whole.tiles == 1 and (whole.height, whole.width) == (384, 520)
    tiled_assets = dataclasses.replace(assets, limits=dataclasses.replace(assets.limits, tile_threshold=48, tile_size=64))
    tiled = run(SrganInputs(image=png(photo)), tiled_assets, serve_fn)
    assert tiled.tiles >= 4
    a, b = unpng(whole.image_png), unpng(tiled.image_png)
    assert a.shape == b.shape == (384, 520, 3)
    with np.errstate(divide="ignore"):  # identical images give PSNR = inf
        assert sr.psnr(a, b, border=0) >= 40.0


def test_compare_returns_the_shared_bicubic(photo: np.ndarray, assets: SrganAssets, serve_fn) -> None:
    out = run(SrganInputs(image=png(photo), compare=True), assets, serve_fn)
    assert out.bicubic_png is not None
    assert np.array_equal(unpng(out.bicubic_png), sr.upscale_bicubic(photo))
    assert run(SrganInputs(image=png(photo)), assets, serve_fn).bicubic_png is None


def test_alpha_is_upscaled_bicubically_and_reattached(photo: np.ndarray, assets: SrganAssets, serve_fn) -> None:
    alpha = np.tile(np.linspace(0, 255, photo.shape[1]).astype(np.uint8), (photo.shape[0], 1))
    rgba = np.concatenate([photo, alpha[..., None]], -1)
    out = run(SrganInputs(image=png(rgba)), assets, serve_fn)
    got = unpng(out.image_png)
    assert out.alpha and got.shape == (384, 520, 4)
    assert np.array_equal(got[..., 3], sr.upscale_bicubic(alpha))
    rgb_only = unpng(run(SrganInputs(image=png(photo)), assets, serve_fn).image_png)
    assert np.array_equal(got[..., :3], rgb_only)  # the colour channels ignore alpha entirely
    opaque = np.concatenate([photo, np.full(alpha.shape + (1,), 255, np.uint8)], -1)
    assert not run(SrganInputs(image=png(opaque)), assets, serve_fn).alpha


def test_grey_input_gives_rgb(assets: SrganAssets, serve_fn, photo: np.ndarray) -> None:
    out = run(SrganInputs(image=png(photo[..., 0])), assets, serve_fn)
    assert unpng(out.image_png).shape == (384, 520, 3)


@pytest.mark.parametrize(
    "data,error,match",
    [
        (b"", E.InvalidInput, "empty"),
        (b"hello, not an image", E.UnsupportedMediaType, "accepted formats"),
        (None, E.InvalidInput, "truncated"),
        (png(np.zeros((8, 40, 3), np.uint8)), E.InvalidInput, "at least 16"),
        (png(np.zeros((2000, 2000, 3), np.uint8)), E.PayloadTooLarge, "output pixels"),
    ],
)
def test_bad_images_get_clear_errors(data: bytes | None, error: type, match: str, assets: SrganAssets, photo: np.ndarray) -> None:
    if data is None:
        data = png(photo)[:200]  # a truncated PNG
    with pytest.raises(error, match=match):
        FAMILY.preprocess(SrganInputs(image=data), assets)


def test_multipart_parsing(photo: np.ndarray) -> None:
    f = UploadedFile("image", "x.png", "image/png", png(photo))
    parsed = FAMILY.parse_multipart({"compare": "true"}, [f])
    assert isinstance(parsed, SrganInputs) and parsed.compare and parsed.image == f.data
    with pytest.raises(E.InvalidInput, match="compare"):
        FAMILY.parse_multipart({"compare": "maybe"}, [f])
    with pytest.raises(E.InvalidInput, match="scale"):
        FAMILY.parse_multipart({"scale": "8"}, [f])
    with pytest.raises(E.BadRequest, match="exactly one"):
        FAMILY.parse_multipart({}, [])
    with pytest.raises(E.InvalidInput, match="'image'"):
        FAMILY.parse_multipart({}, [f, UploadedFile("mask", None, None, b"x")])


def test_json_inputs_take_base64(photo: np.ndarray) -> None:
    from pydantic import ValidationError

    assert SrganInputs.model_validate({"image": base64.b64encode(png(photo)).decode()}).image == png(photo)
    with pytest.raises(ValidationError, match="base64"):
        SrganInputs.model_validate({"image": "***not base64***"})
    with pytest.raises(ValidationError):
        SrganInputs.model_validate({"image": "", "scale": 8})


def test_limits_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_SRGAN_TILE_THRESHOLD", "300")
    monkeypatch.setenv("GATEWAY_SRGAN_MAX_OUTPUT_PIXELS", "1000000")
    limits = SrganLimits.from_settings(Settings())
    assert limits.tile_threshold == 300 and limits.max_output_pixels == 1_000_000
    monkeypatch.setenv("GATEWAY_SRGAN_TILE_OVERLAP", "400")
    with pytest.raises(ValueError, match="tile_overlap"):
        SrganLimits.from_settings(Settings())
