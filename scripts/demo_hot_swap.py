"""Retrain-and-hot-swap demo (issue 10), also run by tests/lifecycle/test_hot_swap_e2e.py.

A load generator sends /predict to antispam for the whole run while this script: trains version 1 on a small
slice of the corpus and promotes it (stack stopped: files edited directly); starts modelserver + gateway;
retrains on a modified data set (version 2, compared with stable on the same held-out set); canaries a share
0.1 (10 %) of unpinned requests;
promotes; rolls back; garbage-collects version 2. It prints the per-phase versions served and the canary's
observed share, and exits non-zero if any request failed or a phase served the wrong versions.

    .venv/bin/python scripts/demo_hot_swap.py [--lines 250] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402

from tests.gateway.gateway_process import ADMIN_TOKEN, GatewayProcess  # noqa: E402
from tests.utils.servers import ModelServerProcess, wait_until  # noqa: E402

MODEL = "antispam"
TEXTS = ["本店新品上市全场八折优惠，详询xxxxxxxxxxx", "明天下午三点开会别忘了", "恭喜您获得积分兑换大礼，回复领取", "好的，晚上见"]
TRAIN_SETTINGS = ["--set", "w2v_epochs=1", "--set", "max_epochs=2"]


def make_data(out: Path, start: int, lines: int) -> Path:
    """A corpus-format slice of the shared anti-spam data (lines start..start+lines of each file)."""
    from training.antispam.data import PASS_FILE, SPAM_FILE, default_data_dir

    src = default_data_dir()
    out.mkdir(parents=True, exist_ok=True)
    for name in (SPAM_FILE, PASS_FILE):
        rows = (src / name).read_text(encoding="utf-8").splitlines()[start : start + lines]
        (out / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    return out


def servectl(*args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "SERVECTL_USER": "demo", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "servectl", *args], cwd=REPO_ROOT, env=full_env, capture_output=True, text=True, timeout=900)
    print(f"$ servectl {' '.join(args)}\n{proc.stdout.strip()}" + (f"\n{proc.stderr.strip()}" if proc.stderr.strip() else ""), flush=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"servectl {' '.join(args)} exited {proc.returncode}")
    return proc


class LoadGenerator(threading.Thread):
    """Unpinned /predict calls in a loop, each with a fresh X-Request-ID; records (phase, status, version)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.phase = "start"
        self.results: list[tuple[str, int, int | None, str]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=60) as client:
            i = 0
            while not self._halt.is_set():
                phase = self.phase
                try:
                    r = client.post(self.url + "/predict", json={"model": MODEL, "inputs": {"text": TEXTS[i % len(TEXTS)]}},
                                    headers={"X-Request-ID": uuid.uuid4().hex})
                    version = r.json().get("version") if r.status_code == 200 else None
                    self.results.append((phase, r.status_code, version, "" if r.status_code == 200 else r.text[:300]))
                except httpx.HTTPError as e:
                    self.results.append((phase, -1, None, repr(e)))
                i += 1

    def count(self, phase: str) -> int:
        return sum(1 for p, *_ in self.results if p == phase)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=120)

    def versions(self, phase: str) -> Counter:
        return Counter(v for p, s, v, _ in self.results if p == phase and s == 200)

    def failures(self) -> list[tuple[str, int, int | None, str]]:
        return [r for r in self.results if r[1] != 200]


def gateway_labels(url: str) -> dict:
    return httpx.get(url + f"/models/{MODEL}", timeout=10).json()


def run(workdir: Path, lines: int = 250, canary_requests: int = 600, share: float = 0.1) -> dict:
    repo = workdir / "servables"
    d1, d2 = make_data(workdir / "data-v1", 0, lines), make_data(workdir / "data-v2", lines // 2, lines)  # v2: half new samples
    report: dict = {}
    t0 = time.monotonic()
    servectl("train", "antispam", "--data", str(d1), "--repo", str(repo), *TRAIN_SETTINGS, "--set", f"log_dir={workdir / 'logs'}")
    servectl("promote", MODEL, "1", "--repo", str(repo), "--offline")
    online = {"GATEWAY_URL": "", "GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN}

    with ModelServerProcess(repo / "models.config") as server:
        gw = GatewayProcess(server.address, repo)
        with gw:
            gw.wait_ready()
            online["GATEWAY_URL"] = gw.url
            load = LoadGenerator(gw.url)
            load.phase = "v1"
            load.start()
            wait_until(lambda: load.count("v1") >= 50, timeout=120, message="load on v1")

            load.phase = "retrain"
            train = servectl("train", "antispam", "--data", str(d2), "--repo", str(repo), *TRAIN_SETTINGS, "--set", f"log_dir={workdir / 'logs'}")
            report["train_output"] = train.stdout
            manifest = json.loads((repo / MODEL / "2" / "assets.extra" / "manifest.json").read_text())
            report["comparison"] = manifest.get("comparison")

            load.phase = "canary-switch"
            servectl("canary", MODEL, "2", "--share", str(share), "--repo", str(repo), env=online)
            load.phase = "canary"
            wait_until(lambda: load.count("canary") >= canary_requests, timeout=600, message="requests during canary")

            load.phase = "promote-switch"
            promote = servectl("promote", MODEL, "2", "--repo", str(repo), "--margin", "0.05", env=online, check=False)
            report["promote_refused"] = promote.returncode != 0
            report["promote_message"] = (promote.stdout + promote.stderr).strip()
            if promote.returncode != 0:
                servectl("promote", MODEL, "2", "--repo", str(repo), "--force", env=online)
            load.phase = "promoted"
            wait_until(lambda: load.count("promoted") >= 100, timeout=300, message="requests after promote")

            load.phase = "rollback-switch"
            servectl("rollback", MODEL, "--repo", str(repo), env=online)
            load.phase = "rolled-back"
            wait_until(lambda: load.count("rolled-back") >= 100, timeout=300, message="requests after rollback")

            load.phase = "gc"
            servectl("gc", MODEL, "--keep", "0", "--repo", str(repo), env=online)
            report["version_dirs_after_gc"] = sorted(p.name for p in (repo / MODEL).iterdir() if p.name.isdigit())
            load.phase = "after-gc"
            wait_until(lambda: load.count("after-gc") >= 100, timeout=300, message="requests after gc")
            load.stop()
            report["models_after"] = gateway_labels(gw.url)

    phases = ["v1", "retrain", "canary-switch", "canary", "promote-switch", "promoted", "rollback-switch", "rolled-back", "gc", "after-gc"]
    report["versions_by_phase"] = {p: dict(load.versions(p)) for p in phases}
    canary = load.versions("canary")
    total = sum(canary.values())
    report["canary_observed_share"] = round(canary.get(2, 0) / total, 4) if total else None
    report["requests"] = len(load.results)
    report["failures"] = load.failures()[:20]
    report["failed_requests"] = len(load.failures())
    report["history"] = servectl("history", MODEL, "--repo", str(repo)).stdout
    report["seconds"] = round(time.monotonic() - t0, 1)
    return report


def check(report: dict, share: float = 0.1) -> list[str]:
    """What went wrong, as sentences (empty = the plan was followed)."""
    problems = []
    vb = report["versions_by_phase"]
    if report["failed_requests"]:
        problems.append(f"{report['failed_requests']} failed requests, e.g. {report['failures'][:3]}")
    for phase, allowed in (("v1", {1}), ("retrain", {1}), ("canary", {1, 2}), ("promoted", {2}), ("rolled-back", {1}), ("gc", {1}), ("after-gc", {1})):
        if set(vb.get(phase, {})) - allowed:
            problems.append(f"phase {phase} served versions {vb[phase]}, expected only {sorted(allowed)}")
    observed = report["canary_observed_share"]
    if observed is None or abs(observed - share) > 0.05:
        problems.append(f"canary share observed {observed} vs configured {share} (fractions of unpinned requests)")
    if report["version_dirs_after_gc"] != ["1"]:
        problems.append(f"after gc the version directories are {report['version_dirs_after_gc']}, expected ['1']")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=250, help="corpus lines per file and data set")
    ap.add_argument("--workdir", type=Path, default=None, help="working directory (default: a temporary one)")
    args = ap.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hot-swap-demo-"))
    report = run(workdir, lines=args.lines)
    print(json.dumps({k: v for k, v in report.items() if k not in ("train_output", "history")}, ensure_ascii=False, indent=1, default=str))
    print(report["history"])
    problems = check(report)
    print("OK: zero failed requests, versions followed the plan" if not problems else "PROBLEMS:\n  " + "\n  ".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
