"""The short swap soak in CI: scripts/soak_swaps.py's loop, 3 publishes + swaps under load on the shared
stack. The long run (>= 20 swaps, report committed in docs/benchmarks/) is the same function."""

from __future__ import annotations

import importlib.util
import sys

from tests.reliability.figures import record
from tests.utils.servers import REPO_ROOT


def _soak_module():
    spec = importlib.util.spec_from_file_location("soak_swaps", REPO_ROOT / "scripts" / "soak_swaps.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak_swaps"] = module  # dataclasses look their module up
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_short_swap_soak_loses_no_request(backend, gateway, rel_repo) -> None:
    soak = _soak_module()
    report = soak.run_soak(gateway.url, backend.address, rel_repo, 3, lambda: (backend.pid, gateway.proc.pid), log=lambda _: None)
    assert report["failed"] == 0, report["problems"]
    assert report["sent"] > 60 and len(report["versions_answered"]) >= 4
    assert [r["failed"] for r in report["rows"]] == [0, 0, 0]
    record("swap soak (short, CI)", sent=report["sent"], failed=report["failed"], max_latency_ms=report["max_latency_ms"], swaps=3,
           modelserver_rss_kib=[r["modelserver_rss_kib"] for r in report["rows"]],
           gateway_rss_kib=[r["gateway_rss_kib"] for r in report["rows"]])
