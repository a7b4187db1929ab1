"""/metrics with several uvicorn workers: every scrape, whichever worker answers it, counts every worker's requests."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.gateway.gateway_process import GatewayProcess
from tests.gateway.version_family import MODEL

REQUESTS = 40


def predict_total(text: str) -> float:
    return sum(float(v) for v in re.findall(rf'^gateway_requests_total{{model="{MODEL}",status="200",version="1"}} (\S+)$', text, re.M))


def test_two_workers_report_one_merged_count(gw_modelserver, gw_repo: Path, tmp_path: Path) -> None:
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = {"GATEWAY_WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    with GatewayProcess(gw_modelserver.address, gw_repo, env=env) as gateway:
        gateway.wait_ready()
        for i in range(REQUESTS):  # a new connection each: the kernel spreads them over both workers' accepts
            r = httpx.post(f"{gateway.url}/predict", json={"model": MODEL, "version": 1, "inputs": {"x": [float(i)]}}, timeout=30)
            assert r.status_code == 200, r.text
        writers = {m.group(1) for f in metrics_dir.iterdir() if (m := re.match(r"counter_(\d+)\.db$", f.name))}
        assert len(writers) == 2, f"expected both workers to have counted requests, files: {sorted(p.name for p in metrics_dir.iterdir())}"
        for _ in range(8):  # each scrape on its own connection, so both workers answer some of them
            text = httpx.get(f"{gateway.url}/metrics", timeout=10).text
            assert predict_total(text) == REQUESTS, text[:2000]
            assert re.search(r"^gateway_inflight_requests \S+$", text, re.M)
