"""Full-size VGG16 (slow): the book's npz layout at real shapes -> export -> modelserver -> gateway -> one photo."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest
import skimage

from common.manifest import read_manifest
from tests.classifier.test_weights import vgg_shapes
from tests.utils.servers import ModelServerProcess
from training.classifier.vgg16 import FULL_SIZE_PARAMS

pytestmark = pytest.mark.slow


def test_full_size_vgg16_through_gateway(tmp_path: Path) -> None:
    from tests.gateway.gateway_process import GatewayProcess
    from training.classifier.labels import imagenet_labels
    from training.classifier.train import train

    rng = np.random.default_rng(0)
    arrays = {}
    for stem, (ws, bs) in vgg_shapes(1.0, 1000).items():  # the real file's keys and shapes, random values
        fan_in = int(np.prod(ws[:-1]))
        arrays[f"{stem}_W"] = (rng.standard_normal(ws, dtype=np.float32) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        arrays[f"{stem}_b"] = np.zeros(bs, np.float32)
    assert sum(a.size for a in arrays.values()) == FULL_SIZE_PARAMS
    np.savez(tmp_path / "vgg16_weights.npz", **arrays)
    del arrays
    repo = tmp_path / "repo"
    published = train("vgg16", preset="book", repo=repo, mode="imagenet", weights=str(tmp_path / "vgg16_weights.npz"))
    manifest = read_manifest(published.path)
    assert manifest["architecture"]["params"] == FULL_SIZE_PARAMS == 138_357_544
    assert manifest["architecture"]["head"] == "imagenet-1000"
    photo = (Path(skimage.__file__).parent / "data" / "chelsea.png").read_bytes()
    with ModelServerProcess(repo / "models.config", start_timeout=600) as server:
        with GatewayProcess(server.address, repo) as gw:
            gw.wait_ready(timeout=600)
            r = httpx.post(gw.url + "/predict", data={"model": "vgg16", "features": "true"},
                           files={"image": ("chelsea.png", photo, "image/png")}, timeout=300)
    assert r.status_code == 200, r.text
    (pred,) = r.json()["outputs"]["predictions"]
    names = imagenet_labels(1000)
    assert len(pred["top_k"]) == 5 and all(names[p["index"]] == p["label"] for p in pred["top_k"])
    assert len(pred["features"]) == 4096


def test_full_size_inception_v3_head_sizes() -> None:
    from training.classifier.inception_v3 import FULL_SIZE_PARAMS_1000, build_inception_v3

    assert build_inception_v3(1000).count_params() == FULL_SIZE_PARAMS_1000
    assert build_inception_v3(1001).count_params() == FULL_SIZE_PARAMS_1000 + 2048 + 1
