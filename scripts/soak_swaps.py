"""Swap soak (issue 25): N publishes + hot swaps under steady load; failed requests and the RSS of the
modelserver and the gateway after each swap (TF Serving users hit leaks across swaps: #1346, #1664, #2142).

Runs a real modelserver + gateway on a temporary repository with the tests' `versioned` toy model (graph and
asset both carry the version's tag, so a response mixing two versions is caught). Client threads post without
pause the whole time; each swap publishes the next version (`training.export.publish`), waits until the
gateway serves it, the backend has unloaded the previous one and the gateway has freed its assets, then
reads VmRSS of both processes from /proc. The report (JSON + Markdown) gives per swap: requests sent and
failed, max latency, both RSS; and the RSS growth from swap 2 to N (swap 1 includes first-use warm-up).

    flock /tmp/cpu.lock .venv/bin/python scripts/soak_swaps.py --swaps 20 --out docs/benchmarks/soak-swaps
    .venv/bin/python scripts/soak_swaps.py --swaps 3        # the short version (CI runs it in tests/reliability)

Acceptance: 0 failed requests, RSS growth <= 10 % from swap 2 to N, for both processes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import httpx  # noqa: E402

from tests.gateway.gateway_process import GatewayProcess  # noqa: E402
from tests.gateway.version_family import MODEL, publish_version  # noqa: E402
from tests.reliability.load import Load  # noqa: E402
from tests.utils.servers import ModelServerProcess, model_version_states, wait_model_available, wait_until  # noqa: E402


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


@dataclass
class Swap:
    swap: int
    version: int
    seconds: float
    sent: int
    failed: int
    max_latency_ms: float
    modelserver_rss_kib: int
    gateway_rss_kib: int


def growth(values: list[int]) -> float:
    """Percent change from the second to the last value (the first swap includes first-use allocations)."""
    base = values[1] if len(values) > 1 else values[0]
    return round(100.0 * (values[-1] - base) / base, 2)


def run_soak(url: str, backend_address: str, repo: Path, swaps: int, pids: Callable[[], tuple[int, int]],
             threads: int = 3, log: Callable[[str], None] = print) -> dict:
    """Publish and swap `swaps` times under load against a running stack; returns the report."""
    rows: list[Swap] = []
    with Load(url, threads=threads) as load:
        load.wait_for(20)
        for i in range(1, swaps + 1):
            start = time.monotonic()
            sent0, failed0 = load.tally.sent, len(load.problems)
            load.tally.max_latency_s = 0.0
            old = httpx.get(f"{url}/models/{MODEL}", timeout=30).json()["default_version"]
            new = publish_version(repo).version
            wait_until(lambda: httpx.get(f"{url}/models/{MODEL}", timeout=30).json()["default_version"] == new, timeout=300,
                       interval=0.1, message=f"gateway serves version {new}")
            wait_until(lambda: model_version_states(backend_address, MODEL).get(old) == "END", timeout=120, message=f"version {old} unloaded")
            freed = f'gateway_assets_loaded{{model="{MODEL}",version="{old}"}} 0.0'
            wait_until(lambda: freed in httpx.get(f"{url}/metrics", timeout=30).text, timeout=120, message=f"assets of {old} freed")
            load.wait_for(20)  # some traffic on the new version before the reading
            ms_pid, gw_pid = pids()
            row = Swap(i, new, round(time.monotonic() - start, 2), load.tally.sent - sent0, len(load.problems) - failed0,
                       round(load.tally.max_latency_s * 1000, 1), rss_kib(ms_pid), rss_kib(gw_pid))
            rows.append(row)
            log(json.dumps(asdict(row)))
    versions = sorted({v for vs in load.versions for v in vs})
    return {
        "swaps": swaps,
        "client_threads": threads,
        "sent": load.tally.sent,
        "failed": len(load.problems),
        "problems": load.problems[:10],
        "max_latency_ms": max((r.max_latency_ms for r in rows), default=0.0),
        "versions_answered": versions,
        "modelserver_rss_growth_pct_swap2_to_n": growth([r.modelserver_rss_kib for r in rows]),
        "gateway_rss_growth_pct_swap2_to_n": growth([r.gateway_rss_kib for r in rows]),
        "rows": [asdict(r) for r in rows],
    }


def markdown(report: dict, command: str) -> str:
    lines = [
        f"# Swap soak: {report['swaps']} publishes + swaps under load",
        "",
        f"Command: `{command}`",
        "",
        f"- requests sent: {report['sent']}, failed: {report['failed']} ({report['client_threads']} client threads, back to back)",
        f"- max latency of one request: {report['max_latency_ms']} ms",
        f"- RSS growth from swap 2 to {report['swaps']}: modelserver {report['modelserver_rss_growth_pct_swap2_to_n']} %, "
        f"gateway {report['gateway_rss_growth_pct_swap2_to_n']} %",
        "",
        "| swap | version | s | sent | failed | max ms | modelserver RSS MiB | gateway RSS MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        lines.append(f"| {r['swap']} | {r['version']} | {r['seconds']} | {r['sent']} | {r['failed']} | {r['max_latency_ms']} | "
                     f"{r['modelserver_rss_kib'] / 1024:.1f} | {r['gateway_rss_kib'] / 1024:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--swaps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=3)
    ap.add_argument("--out", help="write OUT.json and OUT.md")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        repo = Path(tmp) / "repo"
        publish_version(repo)
        with ModelServerProcess(repo / "models.config") as server:
            wait_model_available(server.address, MODEL, 1)
            with GatewayProcess(server.address, repo, env={"GATEWAY_REFRESH_INTERVAL_S": "0.2"}) as gw:
                gw.wait_ready()
                assert server.proc is not None and gw.proc is not None
                report = run_soak(gw.url, server.address, repo, args.swaps, lambda: (server.proc.pid, gw.proc.pid), args.threads)
    command = "python scripts/soak_swaps.py " + " ".join(sys.argv[1:])
    report["command"] = command
    print(json.dumps({k: v for k, v in report.items() if k != "rows"}, indent=2))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out + ".json").write_text(json.dumps(report, indent=2) + "\n")
        Path(args.out + ".md").write_text(markdown(report, command))
    ok = report["failed"] == 0 and report["modelserver_rss_growth_pct_swap2_to_n"] <= 10 and report["gateway_rss_growth_pct_swap2_to_n"] <= 10
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
