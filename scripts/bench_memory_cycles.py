"""Memory across hot swaps (issue 10): modelserver RSS after each of N publish -> promote -> gc cycles.

Runs a real modelserver + gateway on a temporary repository with the tests' `versioned` toy model; each cycle
publishes the next version (after `servectl train`'s policy pin), promotes it through the gateway admin API
(`servectl promote`), sends a few /predict calls, and garbage-collects (`servectl gc --keep 1`). Prints the
modelserver's RSS (VmRSS from /proc) after every cycle and the growth of the last vs the first.
Acceptance: last within +10 % of first. Run under the CPU lock:

    flock /tmp/cpu.lock .venv/bin/python scripts/bench_memory_cycles.py --cycles 20
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import httpx  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from common import repository as repo  # noqa: E402
from servectl import compare  # noqa: E402
from servectl.app import app  # noqa: E402
import servectl.lifecycle  # noqa: E402,F401
from tests.gateway.gateway_process import ADMIN_TOKEN, GatewayProcess  # noqa: E402
from tests.gateway.version_family import MODEL, publish_version  # noqa: E402
from tests.utils.servers import ModelServerProcess, wait_until  # noqa: E402


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def servectl(servables: Path, gw: GatewayProcess, *args: str) -> str:
    r = CliRunner().invoke(app, [*args, "--repo", str(servables)], env={"GATEWAY_URL": gw.url, "GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN})
    if r.exit_code != 0:
        raise RuntimeError(f"servectl {' '.join(args)}: {r.output}")
    return r.output


def served_by_default(gw: GatewayProcess) -> int:
    r = httpx.post(gw.url + "/predict", json={"model": MODEL, "inputs": {"x": [1.0, 2.0]}}, timeout=60)
    r.raise_for_status()
    return r.json()["version"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--requests", type=int, default=20, help="/predict calls per cycle")
    args = ap.parse_args()
    servables = Path(tempfile.mkdtemp(prefix="bench-memory-")) / "servables"
    publish_version(servables)
    cfg = repo.read_config(servables / "models.config")
    repo.model_config(cfg, MODEL).version_labels["stable"] = 1
    repo.write_config(servables / "models.config", cfg)
    figures = []
    with ModelServerProcess(servables / "models.config") as server, GatewayProcess(server.address, servables) as gw:
        gw.wait_ready()
        for cycle in range(1, args.cycles + 1):
            compare.pin_labelled_versions(servables, (MODEL,))
            v = publish_version(servables).version
            wait_until(lambda: v in repo.list_versions(servables / MODEL), timeout=10)
            servectl(servables, gw, "promote", MODEL, str(v), "--metric", "tag")
            wait_until(lambda: served_by_default(gw) == v, timeout=120, message=f"version {v} served")
            for _ in range(args.requests):
                assert served_by_default(gw) == v
            servectl(servables, gw, "gc", MODEL, "--keep", "1")
            on_disk = sorted(repo.list_versions(servables / MODEL))
            figures.append({"cycle": cycle, "version": v, "on_disk": on_disk, "modelserver_rss_mib": round(rss_kib(server.proc.pid) / 1024, 1)})
            print(json.dumps(figures[-1]), flush=True)
    first, last = figures[0]["modelserver_rss_mib"], figures[-1]["modelserver_rss_mib"]
    growth = 100.0 * (last - first) / first
    peak = max(f["modelserver_rss_mib"] for f in figures)
    print(f"modelserver RSS: after cycle 1 {first} MiB, after cycle {len(figures)} {last} MiB ({growth:+.1f} %), peak {peak} MiB; "
          f"{'within' if growth <= 10 else 'ABOVE'} the +10 % budget")
    return 0 if growth <= 10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
