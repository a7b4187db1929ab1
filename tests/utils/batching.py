"""Helpers for tests of gateway micro-batching against real gateway processes."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

import httpx


def fixed_window_env(models: Sequence[str], window_ms: float, max_batch_size: int = 32) -> dict[str, str]:
    """Gateway env that batches `models` in a fixed window (`send_when_idle: false`): requests sent together
    are merged deterministically, even on a loaded machine."""
    policy = {"enabled": True, "max_batch_size": max_batch_size, "max_latency_ms": window_ms, "send_when_idle": False}
    return {"GATEWAY_BATCHING": json.dumps({m: policy for m in models})}


def metric(url: str, name: str, model: str) -> float:
    """One labelled sample of the gateway's /metrics (0 when the series does not exist yet)."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    m = re.search(rf'^{name}{{model="{re.escape(model)}"}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else 0.0


def batch_histogram(url: str, model: str) -> tuple[float, float]:
    """(backend Predict calls, rows sent) for `model` so far."""
    return metric(url, "gateway_batch_size_count", model), metric(url, "gateway_batch_size_sum", model)


def post_all(url: str, bodies: Sequence[dict[str, Any]], headers: Sequence[dict[str, str]] | None = None) -> list[httpx.Response]:
    """POST /predict all bodies at once (one thread each), answers in order."""
    headers = list(headers or [{}] * len(bodies))
    with httpx.Client(timeout=120) as client, ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(lambda bh: client.post(f"{url}/predict", json=bh[0], headers=bh[1]), zip(bodies, headers)))
