"""The anti-spam family through the real stack: `python -m modelserver` + `python -m gateway` processes."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.antispam.test_family import LONG, SPAMMY, run
from tests.gateway.gateway_process import GatewayProcess
from tests.utils.batching import batch_histogram, fixed_window_env, post_all
from tests.utils.servers import ModelServerProcess, wait_model_available

TEXTS = [SPAMMY, "好的，明天见", "亲爱的会员：x月x日店庆全场五折，详询xxxxxxxxxxx", "ＷｅＣｈａｔ加我", "hello world"]


@pytest.fixture(scope="module")
def gateways(antispam_repo: Path) -> Iterator[tuple[str, str]]:
    """(default settings: adaptive batching, a lone request sent at once; batching in a fixed window) in front
    of one modelserver."""
    with ModelServerProcess(antispam_repo / "models.config") as server:
        wait_model_available(server.address, "antispam", 1)
        with GatewayProcess(server.address, antispam_repo) as plain, \
                GatewayProcess(server.address, antispam_repo, env=fixed_window_env(["antispam"], 1500)) as batching:
            plain.wait_ready()
            batching.wait_ready()
            yield plain.url, batching.url


@pytest.fixture(scope="module")
def gateway_url(gateways: tuple[str, str]) -> str:
    return gateways[0]


def predict(url: str, inputs: object) -> httpx.Response:
    return httpx.post(f"{url}/predict", json={"model": "antispam", "inputs": inputs}, timeout=60)


def test_gateway_matches_in_process(gateway_url: str, family_assets, serve_fn) -> None:
    r = predict(gateway_url, {"texts": TEXTS, "debug": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 1 and set(body["timing_ms"]) >= {"preprocess", "backend", "postprocess", "total"}
    got = body["outputs"]["results"]
    for text, verdict in zip(TEXTS, got):
        local, _ = run(family_assets, serve_fn, {"text": text, "debug": True})
        assert verdict["tokens"] == local.tokens
        assert abs(verdict["spam_probability"] - local.spam_probability) <= 1e-5
        assert verdict["label"] == local.label and verdict["n_tokens"] == local.n_tokens


def test_gateway_alone_vs_batched_with_long_text(gateway_url: str) -> None:
    alone = predict(gateway_url, {"text": SPAMMY}).json()["outputs"]
    batched = predict(gateway_url, {"texts": [LONG, SPAMMY]}).json()["outputs"]
    assert batched["results"][0]["n_tokens"] > 5 * alone["n_tokens"]
    assert abs(alone["spam_probability"] - batched["results"][1]["spam_probability"]) < 1e-5


def test_micro_batching_never_changes_a_result(gateways: tuple[str, str]) -> None:
    """Each text alone (one request at a time: nothing to merge with) vs merged into one Predict with texts of other lengths: the padding
    with zero vectors is inert under the model's mask, so probabilities agree within 1e-5."""
    plain, batching = gateways
    texts = [*TEXTS, LONG, "好"]
    alone = [predict(plain, {"text": t}).json()["outputs"] for t in texts]
    before = batch_histogram(batching, "antispam")
    responses = post_all(batching, [{"model": "antispam", "inputs": {"text": t}} for t in texts])
    calls, rows = (a - b for a, b in zip(batch_histogram(batching, "antispam"), before))
    assert rows == len(texts) and calls < len(texts), f"{calls} Predict calls for {len(texts)} texts: nothing was merged"
    for text, a, r in zip(texts, alone, responses):
        assert r.status_code == 200, r.text
        b = r.json()["outputs"]
        assert abs(a["spam_probability"] - b["spam_probability"]) <= 1e-5, text
        assert (a["label"], a["n_tokens"], a["unknown_ratio"]) == (b["label"], b["n_tokens"], b["unknown_ratio"])


@pytest.mark.parametrize(
    ("inputs", "status", "says"),
    [
        ({"text": ""}, 422, "empty"),
        ({"text": "   \n"}, 422, "whitespace"),
        ({"text": 42}, 422, "string"),
        ({"texts": ["ok", None]}, 422, "string"),
        ({"texts": []}, 422, "texts"),
        ({}, 422, "text"),
        ({"text": "字" * 5001}, 413, "5000"),
        ({"texts": ["好"] * 65}, 413, "64"),
    ],
)
def test_bad_inputs_get_clear_4xx(gateway_url: str, inputs: object, status: int, says: str) -> None:
    r = predict(gateway_url, inputs)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert says in err["message"] and err["request_id"]
    assert httpx.get(f"{gateway_url}/healthz", timeout=10).status_code == 200


def test_default_settings_merge_concurrent_requests(gateways: tuple[str, str]) -> None:
    """Batching is on by default: 24 requests sent at once share backend Predicts (a lone one went alone above)."""
    default, _ = gateways
    texts = [f"{t} {i}" for i, t in enumerate(TEXTS * 5)][:24]
    before = batch_histogram(default, "antispam")
    responses = post_all(default, [{"model": "antispam", "inputs": {"text": t}} for t in texts])
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200]
    calls, rows = (a - b for a, b in zip(batch_histogram(default, "antispam"), before))
    assert rows == 24 and calls < 24, f"{calls} Predict calls for 24 concurrent requests: nothing was merged"
