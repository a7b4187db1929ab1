"""Through the real stack: modelserver + gateway processes on free ports, serving the tiny classifiers."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Iterator

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.utils.batching import batch_histogram, fixed_window_env, post_all
from tests.utils.servers import ModelServerProcess


@pytest.fixture(scope="module")
def gateways(cls_repo: Path) -> Iterator[tuple[str, str]]:
    """(batching off, vgg16 batched in a fixed window) in front of one modelserver."""
    from tests.gateway.gateway_process import GatewayProcess

    with ModelServerProcess(cls_repo / "models.config") as server:
        env = {"GATEWAY_IMAGE_MAX_PIXELS": "4000000"}  # GATEWAY_MAX_FORM_FILES: the default (32) is the batch limit
        with GatewayProcess(server.address, cls_repo, env=env) as gw, \
                GatewayProcess(server.address, cls_repo, env={**env, **fixed_window_env(["vgg16"], 1500)}) as batching:
            gw.wait_ready(timeout=300)
            batching.wait_ready(timeout=300)
            yield gw.url, batching.url


@pytest.fixture(scope="module")
def gateway(gateways: tuple[str, str]) -> str:
    return gateways[0]


def test_micro_batching_never_changes_a_result(gateways: tuple[str, str]) -> None:
    """Each image alone vs merged with others into one Predict: probabilities agree within 1e-5."""
    plain, batching = gateways
    images = [png(digit=True), png((255, 0, 0), (20, 12)), png((0, 90, 200), (5, 30)), png((9, 9, 9), (64, 64), digit=True)]
    bodies = [{"model": "vgg16", "inputs": {"image": base64.b64encode(b).decode(), "top_k": 10}} for b in images]
    alone = [httpx.post(plain + "/predict", json=body, timeout=120).json()["outputs"] for body in bodies]
    before = batch_histogram(batching, "vgg16")
    responses = post_all(batching, bodies)
    calls, rows = (a - b for a, b in zip(batch_histogram(batching, "vgg16"), before))
    assert rows == len(images) and calls < len(images), f"{calls} Predict calls for {len(images)} images: nothing was merged"
    for a, r in zip(alone, responses):
        assert r.status_code == 200, r.text
        pa = {p["index"]: p["probability"] for p in a["predictions"][0]["top_k"]}
        pb = {p["index"]: p["probability"] for p in r.json()["outputs"]["predictions"][0]["top_k"]}
        assert pa.keys() == pb.keys() and all(abs(pa[i] - pb[i]) <= 1e-5 for i in pa)


def png(colour=(0, 0, 0), size=(8, 8), digit: bool = False) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", size, colour)
    if digit:
        img.paste((255, 255, 255), (3, 1, 5, 7))  # a "1"
    img.save(buf, "PNG")
    return buf.getvalue()


def test_multipart_single_image(gateway: str) -> None:
    r = httpx.post(gateway + "/predict", data={"model": "vgg16", "top_k": "3"}, files={"image": ("one.png", png(digit=True), "image/png")}, timeout=120)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == "vgg16" and body["version"] == 1
    (pred,) = body["outputs"]["predictions"]
    assert len(pred["top_k"]) == 3 and pred["features"] is None
    assert {p["label"] for p in pred["top_k"]} <= {str(i) for i in range(10)}
    probs = [p["probability"] for p in pred["top_k"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0 + 1e-5


def test_multipart_batch_and_json_batch_with_features(gateway: str) -> None:
    files = [("image", (f"{i}.png", png((i * 20,) * 3), "image/png")) for i in range(4)]
    r = httpx.post(gateway + "/predict", data={"model": "vgg16"}, files=files, timeout=120)
    assert r.status_code == 200, r.text
    assert len(r.json()["outputs"]["predictions"]) == 4
    imgs = [base64.b64encode(png((i * 60,) * 3)).decode() for i in range(3)]
    r = httpx.post(gateway + "/predict", json={"model": "vgg16", "inputs": {"images": imgs, "features": True}}, timeout=120)
    assert r.status_code == 200, r.text
    preds = r.json()["outputs"]["predictions"]
    assert len(preds) == 3 and all(len(p["features"]) == 256 and len(p["top_k"]) == 5 for p in preds)
    # the same image alone gives the same answer as inside a batch (no cross-talk, same preprocessing)
    alone = httpx.post(gateway + "/predict", json={"model": "vgg16", "inputs": {"image": imgs[1], "features": True}}, timeout=120).json()
    np.testing.assert_allclose(alone["outputs"]["predictions"][0]["features"], preds[1]["features"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("send,status,words", [
    ({"files": {"image": ("x.png", b"", "image/png")}}, 422, "empty file"),
    ({"files": {"image": ("x.txt", b"hello, I am text", "text/plain")}}, 415, "accepted formats: JPEG, PNG, WebP"),
    ({"files": {"image": ("x.png", png(size=(64, 64))[:70], "image/png")}}, 422, "truncated"),
    ({"files": {"image": ("bomb.png", png(size=(3000, 3000)), "image/png")}}, 413, "decompression-bomb"),
    ({"files": {"image": ("x.png", png(), "image/png")}, "data": {"model": "vgg16", "top_k": "50"}}, 422, "top_k"),
    ({"json": {"model": "vgg16", "inputs": {"image": "@@@"}}}, 422, "base64"),
    ({"json": {"model": "vgg16", "inputs": {"image": "", "top_k": 0}}}, 422, "top_k"),
    ({"files": [("image", (f"{i}.png", b"x", "image/png")) for i in range(33)]}, 400, "Too many files"),
])
def test_bad_input_is_a_clear_4xx_and_service_stays_up(gateway: str, send: dict, status: int, words: str) -> None:
    kwargs = dict(send)
    if "files" in kwargs:
        kwargs.setdefault("data", {"model": "vgg16"})
    r = httpx.post(gateway + "/predict", timeout=120, **kwargs)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert words in err["message"] and err["request_id"]
    assert httpx.get(gateway + "/readyz", timeout=10).status_code == 200
