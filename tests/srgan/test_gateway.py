"""SRGAN through the real stack: modelserver + gateway processes on free ports, a tmp repository."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Iterator

import httpx
import numpy as np
import pytest

from common import superres as sr
from tests.utils.stack import Stack
from tests.utils.images import png, unpng




@pytest.fixture(scope="module")
def stack(srgan_repo: Path) -> Iterator[Stack]:
    # A low tiling threshold so a small request exercises tiles end to end.
    with Stack(srgan_repo, gateway_env={"GATEWAY_SRGAN_TILE_THRESHOLD": "100", "GATEWAY_SRGAN_TILE_SIZE": "64"}) as s:
        yield s


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=120.0) as c:
        yield c


def _image(h: int, w: int, alpha: bool = False) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([(x * 7) % 256, (y * 5) % 256, ((x + y) * 3) % 256], -1).astype(np.uint8)
    if alpha:
        img = np.concatenate([img, np.full((h, w, 1), 128, np.uint8)], -1)
    return img


def test_multipart_png_in_4x_png_out_with_compare(client: httpx.Client) -> None:
    img = _image(40, 56)
    r = client.post("/predict", data={"model": "srgan", "compare": "true"}, files={"image": ("a.png", png(img), "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    out = body["outputs"]
    assert body["model"] == "srgan" and body["version"] == 1
    assert (out["width"], out["height"], out["tiles"], out["alpha"]) == (224, 160, 1, False)
    assert unpng(out["image_png"]).shape == (160, 224, 3)
    assert np.array_equal(unpng(out["bicubic_png"]), sr.upscale_bicubic(img))


def test_json_large_input_is_tiled_and_alpha_kept(client: httpx.Client) -> None:
    img = _image(90, 150, alpha=True)
    r = client.post("/predict", json={"model": "srgan", "inputs": {"image": base64.b64encode(png(img)).decode()}})
    assert r.status_code == 200, r.text
    out = r.json()["outputs"]
    assert out["tiles"] > 1 and out["alpha"]
    got = unpng(out["image_png"])
    assert got.shape == (360, 600, 4) and np.array_equal(got[..., 3], sr.upscale_bicubic(img[..., 3]))


@pytest.mark.parametrize(
    "files,data,status,match",
    [
        ({"image": ("a.png", b"", "image/png")}, {}, 422, "empty"),
        ({"image": ("a.txt", b"plain text", "text/plain")}, {}, 415, "accepted formats"),
        ({"image": ("a.png", png(_image(8, 64)), "image/png")}, {}, 422, "at least 16"),
        ({"image": ("a.png", png(_image(1300, 1300)), "image/png")}, {}, 413, "output pixels"),
        ({"image": ("a.png", png(_image(20, 20)), "image/png")}, {"compare": "perhaps"}, 422, "compare"),
        ({"photo": ("a.png", png(_image(20, 20)), "image/png")}, {}, 422, "image"),
    ],
)
def test_bad_inputs_get_clear_4xx_and_service_stays_up(client: httpx.Client, files: dict, data: dict, status: int, match: str) -> None:
    r = client.post("/predict", data={"model": "srgan", **data}, files=files)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert match in err["message"] and err["request_id"]
    assert client.get("/healthz").status_code == 200


def test_json_bad_base64(client: httpx.Client) -> None:
    r = client.post("/predict", json={"model": "srgan", "inputs": {"image": "%%%"}})
    assert r.status_code == 422 and "base64" in r.json()["error"]["message"]
