"""Gateway micro-batching: merge/split rules, then the real stack (modelserver + gateway processes).

The integration tests use a fixed window (`send_when_idle: false`, a long `max_latency_ms`) so that
requests sent together are merged deterministically even on a loaded machine; the batch that formed is
read back from the gateway's own `gateway_batch_size` histogram.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import httpx
import numpy as np
import pytest

from gateway import errors as E
from gateway.batching import compatible, merge, split
from tests.gateway.gateway_process import GatewayProcess
from tests.gateway.version_family import MODEL, POISON_AT, SPIN_OFFSET
from tests.utils.batching import batch_histogram, fixed_window_env, metric, post_all
from tests.utils.servers import wait_model_available

WINDOW_MS = 1500  # every request sent within this of the first joins its batch


# ---- merge / split rules (pure numpy)

def test_merge_pads_only_named_inputs_and_split_returns_each_members_rows() -> None:
    a = {"x": np.ones((1, 2, 3), np.float32), "k": np.array([[7]], np.int64)}
    b = {"x": np.full((2, 4, 3), 2.0, np.float32), "k": np.array([[8], [9]], np.int64)}
    merged = merge([a, b], {"x": -1.0})
    assert merged["x"].shape == (3, 4, 3) and merged["k"].tolist() == [[7], [8], [9]]
    assert (merged["x"][0, :2] == 1).all() and (merged["x"][0, 2:] == -1).all() and (merged["x"][1:] == 2).all()
    parts = split({"p": np.arange(6).reshape(3, 2)}, [1, 2])
    assert [p["p"].tolist() for p in parts] == [[[0, 1]], [[2, 3], [4, 5]]]


def test_compatible_refuses_what_cannot_share_a_batch() -> None:
    x = {"x": np.zeros((1, 5), np.float32)}
    assert compatible(x, {"x": np.zeros((3, 9), np.float32)}, {"x": 0.0})
    assert not compatible(x, {"x": np.zeros((1, 9), np.float32)}, {})  # other axis differs, no pad value
    assert not compatible(x, {"x": np.zeros((1, 5), np.float64)}, {"x": 0.0})  # dtype
    assert not compatible(x, {"x": np.zeros((1, 5, 1), np.float32)}, {"x": 0.0})  # rank
    assert not compatible(x, {"y": np.zeros((1, 5), np.float32)}, {"x": 0.0})  # aliases


def test_split_refuses_outputs_that_lost_the_batch_axis() -> None:
    with pytest.raises(E.BackendError, match="expected 3 rows"):
        split({"p": np.zeros((2, 2))}, [1, 2])


# ---- the adaptive policy, in process against the real modelserver

def test_adaptive_queue_sends_requests_of_one_loop_turn_as_one_predict(gw_modelserver, gw_repo: Path) -> None:
    """An idle queue flushes at the end of the loop turn (`_Queue.flush_soon`): requests that reach it in the
    same turn share one Predict instead of the first going alone and the rest waiting for it."""
    import asyncio

    from gateway.backend import Backend
    from gateway.batching import BatchPolicy, MicroBatcher
    from gateway.core.config import Settings
    from gateway.families import family_for
    from gateway.metrics import Metrics

    family = family_for(MODEL)
    assert family is not None
    policy = BatchPolicy(enabled=True, max_batch_size=32, max_latency_ms=5000.0, send_when_idle=True)

    version = wait_model_available(gw_modelserver.address, MODEL)  # the session's modelserver may still be loading

    async def run() -> tuple[list[list[float]], list[float]]:
        backend = Backend(Settings(backend=gw_modelserver.address, servables=str(gw_repo)))
        await backend.start()
        metrics = Metrics()
        batcher = MicroBatcher(backend, metrics, lambda model: policy)
        try:
            deadline = time.monotonic() + 60
            rows = [[float(i), float(i + 1)] for i in range(5)]

            async def one(x: list[float]) -> list[float]:
                arrays = {"x": np.asarray([x], np.float32)}
                result = await batcher.predict(MODEL, version, family, arrays, None, "serving_default", deadline)
                return (result.outputs["y"][0] - np.float32(1000.0 * (version - 1))).tolist()  # as version 1

            started = time.monotonic()
            lone = await one([9.0, 9.0])  # a lone request: sent without waiting for max_latency_ms (5 s)
            assert time.monotonic() - started < 4.0, "an idle queue must not wait for max_latency_ms"
            together = await asyncio.gather(*(one(x) for x in rows))
            samples = {s.name: s.value for s in metrics.batch_size.collect()[0].samples}
            return [lone, *together], [samples["gateway_batch_size_count"], samples["gateway_batch_size_sum"]]
        finally:
            await backend.close()

    outputs, (calls, rows_sent) = asyncio.run(run())
    assert (calls, rows_sent) == (2, 6)  # the lone request, then the five of one turn in one Predict
    assert outputs == [expected_y(x) for x in ([9.0, 9.0], *[[float(i), float(i + 1)] for i in range(5)])]


# ---- real stack

@pytest.fixture(scope="module")
def batching_gateway(gw_modelserver, gw_repo: Path) -> Iterator[GatewayProcess]:
    env = {**fixed_window_env([MODEL], WINDOW_MS), "GATEWAY_BACKEND_TIMEOUT_S": "20"}
    with GatewayProcess(gw_modelserver.address, gw_repo, env=env) as gateway:
        gateway.wait_ready()
        yield gateway


def splits(url: str) -> float:
    return metric(url, "gateway_batch_splits_total", MODEL)


def expected_y(x: list[float]) -> list[float]:
    return (np.asarray(x, np.float32) + np.float32(1000.0)).tolist()  # version 1: tag 1


def test_concurrent_requests_of_different_lengths_share_one_predict_and_get_their_own_rows(batching_gateway: GatewayProcess) -> None:
    url = batching_gateway.url
    before = batch_histogram(url, MODEL)
    xs = [[float(i)] * (1 + i % 5) for i in range(12)]
    responses = post_all(url, [{"model": MODEL, "version": 1, "inputs": {"x": x}} for x in xs])
    for x, r in zip(xs, responses):
        assert r.status_code == 200, r.text
        out = r.json()["outputs"]
        assert out["y"] == pytest.approx(expected_y(x)) and out["graph_tag"] == out["asset_tag"] == 1
        assert r.json()["timing_ms"]["queue"] >= 0
    batches, rows = (a - b for a, b in zip(batch_histogram(url, MODEL), before))
    assert rows == 12 and batches < 12, f"{batches} Predict calls for 12 requests: nothing was merged"


def test_one_failing_request_does_not_fail_its_batch_mates(batching_gateway: GatewayProcess) -> None:
    url = batching_gateway.url
    before_batches, before_splits = batch_histogram(url, MODEL)[0], splits(url)
    xs = [[1.0, 2.0], [POISON_AT * 2], [3.0], [4.0, 5.0, 6.0]]
    responses = post_all(url, [{"model": MODEL, "inputs": {"x": x}} for x in xs])
    assert responses[1].status_code == 422 and "poisoned input" in responses[1].text, responses[1].text
    for i in (0, 2, 3):
        assert responses[i].status_code == 200, responses[i].text
        assert responses[i].json()["outputs"]["y"] == pytest.approx(expected_y(xs[i]))
    assert splits(url) == before_splits + 1  # the merged Predict failed once and was retried per member
    assert batch_histogram(url, MODEL)[0] == before_batches + 1 + len(xs)
    assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200


def test_a_request_deadline_is_kept_while_queued_and_batch_mates_are_unaffected(batching_gateway: GatewayProcess) -> None:
    url = batching_gateway.url
    bodies = [{"model": MODEL, "inputs": {"x": [1.0]}}, {"model": MODEL, "inputs": {"x": [2.0]}}]
    t0 = time.monotonic()
    impatient, patient = post_all(url, bodies, [{"X-Request-Timeout-Ms": "200"}, {}])
    assert impatient.status_code == 504 and "deadline" in impatient.json()["error"]["message"], impatient.text
    assert patient.status_code == 200 and patient.json()["outputs"]["y"] == pytest.approx(expected_y([2.0]))
    assert time.monotonic() - t0 < 30


def test_a_slow_batch_mate_times_out_only_the_request_with_a_short_deadline(batching_gateway: GatewayProcess) -> None:
    url = batching_gateway.url
    slow = {"model": MODEL, "inputs": {"x": [-(SPIN_OFFSET + 3e5)]}}  # the graph spins ~seconds: a slow batch
    quick = {"model": MODEL, "inputs": {"x": [5.0]}}
    # both ride the same batch; the quick one's deadline passes 50 ms after the batch is sent
    r_slow, r_short = post_all(url, [slow, quick], [{}, {"X-Request-Timeout-Ms": str(WINDOW_MS + 50)}])
    assert r_slow.status_code == 200, r_slow.text
    assert r_short.status_code == 504 and r_short.json()["error"]["code"] == "backend_timeout", r_short.text


@pytest.mark.parametrize("value", ["0", "-5", "abc", "inf", "nan", ""])
def test_bad_request_timeout_header_is_a_clear_400(batching_gateway: GatewayProcess, value: str) -> None:
    r = httpx.post(f"{batching_gateway.url}/predict", json={"model": MODEL, "inputs": {"x": [1.0]}},
                   headers={"X-Request-Timeout-Ms": value}, timeout=30)
    assert r.status_code == 400 and "X-Request-Timeout-Ms" in r.json()["error"]["message"], r.text
