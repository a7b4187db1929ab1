"""Several backend addresses: grpc's own round_robin policy spreads Predict calls over the replicas, and a
version counts as served only when every reachable replica has it AVAILABLE."""

from __future__ import annotations

import re

import httpx

from tests.gateway.gateway_process import GatewayProcess
from tests.gateway.version_family import MODEL
from tests.utils.servers import ModelServerProcess


def predict_calls(metrics_url: str) -> float:
    text = httpx.get(metrics_url, timeout=10).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("modelserver_requests_total{") and 'method="Predict"' in line and f'model="{MODEL}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_two_replicas_share_the_load(gw_modelserver, gw_repo) -> None:
    with ModelServerProcess(gw_repo / "models.config") as second:
        first = gw_modelserver.current
        with GatewayProcess(f"{first.address},{second.address}", gw_repo) as gw:
            gw.wait_ready()
            before = predict_calls(first.metrics_url), predict_calls(second.metrics_url)
            with httpx.Client(base_url=gw.url, timeout=30) as client:
                for _ in range(40):
                    r = client.post("/predict", json={"model": MODEL, "inputs": {"x": [1.0]}})
                    assert r.status_code == 200, r.text
            after = predict_calls(first.metrics_url), predict_calls(second.metrics_url)
            a, b = after[0] - before[0], after[1] - before[1]
            assert a + b >= 40 and a >= 10 and b >= 10, (a, b)
            assert re.search(r"ipv4:127\.0\.0\.1:\d+,127\.0\.0\.1:\d+", gw.log())
