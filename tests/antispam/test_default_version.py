"""The version `make up` trains (the `tiny` preset on the whole corpus, as `servectl up` runs it), through a
real modelserver + gateway: the README's and the book's examples and the issue's everyday messages are
answered correctly, `GET /models/antispam` shows the robustness figures, and batching never changes a result.

Slow (a full tiny training, ~5 minutes on 2 cores): `make test-slow` or `pytest -m slow tests/antispam`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.gateway.gateway_process import GatewayProcess
from tests.utils.servers import ModelServerProcess, wait_model_available

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

SPAM_EXAMPLES = [
    "加微信领取免费红包",  # README
    "加我微信xxxxx有福利",  # the book (chapter 14)
]
PASS_EXAMPLES = [  # issue 20: answered spam by the version make up trained before
    "你好，请问这本书还有货吗",
    "明天上午十点开会，记得带电脑",
    "妈，我下周末回家，想吃你做的红烧肉",
]


@pytest.fixture(scope="module")
def default_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    repo = tmp_path_factory.mktemp("antispam-default") / "repo"
    env = {**os.environ, "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [sys.executable, "-m", "servectl", "train", "antispam", "--preset", "tiny", "--repo", str(repo),
           "--set", f"log_dir={repo.parent / 'logs'}"]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with ModelServerProcess(repo / "models.config") as server:
        wait_model_available(server.address, "antispam", 1)
        with GatewayProcess(server.address, repo) as gateway:
            gateway.wait_ready()
            yield gateway.url


def _predict(url: str, inputs: dict) -> httpx.Response:
    return httpx.post(f"{url}/predict", json={"model": "antispam", "inputs": inputs}, timeout=60)


@pytest.mark.timeout(2400)
@pytest.mark.parametrize("text", SPAM_EXAMPLES)
def test_spam_examples_are_spam(default_gateway: str, text: str) -> None:
    r = _predict(default_gateway, {"text": text, "debug": True})
    assert r.status_code == 200, r.text
    out = r.json()["outputs"]
    assert out["label"] == "spam", (text, out)


@pytest.mark.timeout(2400)
@pytest.mark.parametrize("text", PASS_EXAMPLES)
def test_everyday_messages_pass(default_gateway: str, text: str) -> None:
    r = _predict(default_gateway, {"text": text, "debug": True})
    assert r.status_code == 200, r.text
    out = r.json()["outputs"]
    assert out["label"] == "pass", (text, out)


@pytest.mark.timeout(2400)
def test_models_endpoint_shows_the_robustness_figures(default_gateway: str) -> None:
    detail = httpx.get(f"{default_gateway}/models/antispam", timeout=30).json()
    metrics = [v["metrics"] for v in detail["versions"] if v.get("metrics")][0]
    rob = metrics["robustness"]
    assert 0.0 <= rob["robust_floor"] <= 1.0
    assert rob["robust_floor"] == min(rob["perturbations"][k]["value"] for k in rob["robust_floor_of"])
    assert rob["challenge"]["n"] >= 150 and 0.0 <= rob["challenge"]["accuracy"] <= 1.0
    assert metrics["held_out"]["accuracy"] > 0.9


@pytest.mark.timeout(2400)
def test_batching_and_padding_never_change_a_result(default_gateway: str) -> None:
    texts = SPAM_EXAMPLES + PASS_EXAMPLES + ["好", "本店新品上市，全场八折优惠，详询13800138000" * 5]
    alone = [_predict(default_gateway, {"text": t}).json()["outputs"]["spam_probability"] for t in texts]
    together = [v["spam_probability"] for v in _predict(default_gateway, {"texts": texts}).json()["outputs"]["results"]]
    assert max(abs(a - b) for a, b in zip(alone, together)) < 1e-5


@pytest.mark.timeout(2400)
def test_text_empty_after_normalisation_is_refused(default_gateway: str) -> None:
    r = _predict(default_gateway, {"text": "\u0000" * 100})
    assert r.status_code == 422 and "invisible" in r.json()["error"]["message"]
