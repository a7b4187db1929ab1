"""Through the running stack (real modelserver + gateway processes): seeds reproduce byte for byte over the
wire, the interpolation strip reaches the second signature, bad input is a clear 4xx and the service stays up."""

from __future__ import annotations

import base64
import io

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.utils.stack import Stack

CAPTION = "the petals on this flower are white with a yellow center"


@pytest.fixture(scope="module")
def stack(t2i_repo):
    with Stack(t2i_repo) as s:
        yield s


def _predict(stack: Stack, **inputs) -> httpx.Response:
    return httpx.post(f"{stack.url}/predict", json={"model": "text2image", "inputs": inputs}, timeout=120)


def test_same_seed_same_bytes_through_gateway(stack, run_family) -> None:
    a, b, c = (_predict(stack, caption=CAPTION, n=4, seed=s) for s in (11, 11, 12))
    for r in (a, b, c):
        assert r.status_code == 200, r.text
    oa, ob, oc = (r.json()["outputs"] for r in (a, b, c))
    assert oa["images"] == ob["images"] and oa["grid_png"] == ob["grid_png"]
    assert oa["images"] != oc["images"]
    assert len(oa["images"]) == 4 and a.json()["version"] == 1
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(oa["images"][0]))))
    assert img.shape == (64, 64, 3)
    # the gateway's pixels are the in-process family's pixels (same z from the seed, same graph)
    local = run_family(caption=CAPTION, n=4, seed=11)
    diff = [np.abs(np.asarray(Image.open(io.BytesIO(base64.b64decode(x)))).astype(int)
                   - np.asarray(Image.open(io.BytesIO(base64.b64decode(y)))).astype(int)).max()
            for x, y in zip(oa["images"], local.images)]
    assert max(diff) <= 1


def test_interpolation_strip_through_gateway(stack) -> None:
    r = _predict(stack, caption=CAPTION, interpolate={"caption": "a flower with red petals", "steps": 5}, seed=2)
    assert r.status_code == 200, r.text
    out = r.json()["outputs"]
    assert len(out["images"]) == 5 and out["alphas"][0] == 0.0 and out["alphas"][-1] == 1.0


@pytest.mark.parametrize(
    "inputs, status, match",
    [
        ({"caption": ""}, 422, "no words"),
        ({"caption": "qwerty asdf"}, 422, "none of its words are known"),
        ({"caption": CAPTION, "n": 17}, 422, "n must be from 1 to 16"),
        ({"caption": CAPTION, "seed": "abc"}, 422, "seed must be a JSON integer"),
        ({"caption": CAPTION, "seed": 2.5}, 422, "seed must be a JSON integer"),
        ({"caption": CAPTION, "seed": 10**30}, 422, "is out of range; integers up to 2^63-1"),  # beyond 64 bits: read as a float
    ],
)
def test_bad_input_is_a_clear_4xx(stack, inputs, status, match) -> None:
    r = _predict(stack, **inputs)
    assert r.status_code == status, r.text
    assert match in r.json()["error"]["message"]
    assert httpx.get(f"{stack.url}/healthz", timeout=10).status_code == 200
