"""Scale-out with real processes (issue 24, part 3): model servers on 127.0.0.2/3/4 sharing one port and one
model repository, one gateway in front whose backend is a DNS name with one A record per replica — what a
Kubernetes headless Service is — answered by tests.utils.dns_server and resolved by gRPC's own DNS resolver
(`dns://127.0.0.1:PORT/tfserving-headless.test:P`). Replicas recycle connections every 3 s
(`--grpc_channel_arguments grpc.max_connection_age_ms=3000`, as the manifests do with TF Serving), which
makes gRPC re-resolve the name.

Phases, in one test because each builds on the previous state:
1. calls spread over all three replicas (per-replica Predict counters from each server's /metrics): ±20 %;
2. a replica SIGKILLed under load (slow requests, so some are in flight on it), its record then removed (the
   endpoints controller does that in Kubernetes): only requests in flight can fail, each failure is a JSON 503,
   none outlives its deadline; the gateway retries UNAVAILABLE on another replica, so usually none fails;
3. a replica added (record added once it serves, as readiness gates a pod's record) receives traffic;
4. a new version published onto the shared repository while traffic runs: every replica loads it, the gateway
   switches once all of them serve it, zero failed requests and no answer mixing versions. The model keeps two
   versions (`latest { num_versions: 2 }`): with one, a replica that loaded the new version would unload the old
   one while the gateway still pins it (another replica is still loading), and those requests would fail.

The figures are printed (run with -s) — they are measured, not asserted beyond the acceptance bounds.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from common import repository as repo
from tests.gateway.gateway_process import GatewayProcess
from tests.gateway.version_family import MODEL, SPIN_OFFSET, publish_version
from tests.utils.dns_server import DnsServer
from tests.utils.servers import ModelServerProcess, free_port, model_version_states, wait_model_available, wait_until

NAME = "tfserving-headless.test"
BACKEND_TIMEOUT_S = 10.0
CONNECTION_AGE_MS = 3000
SLOW_SPINS = 15_000  # loop iterations per slow request (~0.5 s on an idle 2-core machine, a few s when busy)


def predict_counts(server: ModelServerProcess, version: int | None = None) -> float:
    """Predict calls of the test model this replica answered (any code), from its Prometheus endpoint."""
    text = httpx.get(server.metrics_url, timeout=10).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("modelserver_requests_total{") and 'method="Predict"' in line and f'model="{MODEL}"' in line:
            if version is None or f'version="{version}"' in line:
                total += float(line.rsplit(" ", 1)[1])
    return total


def inflight(server: ModelServerProcess) -> float:
    for line in httpx.get(server.metrics_url, timeout=5).text.splitlines():
        if line.startswith("modelserver_inflight_requests "):
            return float(line.split()[1])
    raise AssertionError("no modelserver_inflight_requests gauge")


def replica(config: Path, ip: str, port: int) -> ModelServerProcess:
    server = ModelServerProcess(
        config,
        extra_args=[
            "--grpc_bind_address",
            ip,
            "--grpc_channel_arguments",
            f"grpc.max_connection_age_ms={CONNECTION_AGE_MS},grpc.max_connection_age_grace_ms=10000",
            "--grpc_max_threads",
            "8",
            "--tensorflow_intra_op_parallelism",
            "1",
        ],
        env={"TF_NUM_INTRAOP_THREADS": "1"},
    )
    server.port, server.address = port, f"{ip}:{port}"
    return server


@dataclass
class Outcome:
    status: int
    elapsed: float
    body: dict | None
    text: str
    finished_at: float


class Load:
    """`threads` clients sending POST /predict back to back until stopped; every outcome is kept."""

    def __init__(self, url: str, threads: int, x: list[float]) -> None:
        self.url, self.threads, self.x = url, threads, x
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=BACKEND_TIMEOUT_S + 30) as client:
            while not self._stop.is_set():
                start = time.monotonic()
                try:
                    r = client.post("/predict", json={"model": MODEL, "inputs": {"x": self.x}})
                    status, text = r.status_code, r.text
                    try:
                        body = r.json()
                    except ValueError:
                        body = None
                except httpx.HTTPError as e:  # a hung or dropped connection is a failure too
                    status, text, body = -1, repr(e), None
                end = time.monotonic()
                with self._lock:
                    self.outcomes.append(Outcome(status, end - start, body, text, end))

    def __enter__(self) -> "Load":
        for w in self._workers:
            w.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for w in self._workers:
            w.join(timeout=BACKEND_TIMEOUT_S + 60)

    def count(self) -> int:
        with self._lock:
            return len(self.outcomes)

    def last_tags(self) -> tuple[int, int] | None:
        with self._lock:
            for o in reversed(self.outcomes):
                if o.status == 200 and o.body:
                    return o.body["outputs"]["graph_tag"], o.body["outputs"]["asset_tag"]
        return None


def retries(gateway: GatewayProcess) -> float:
    text = httpx.get(gateway.url + "/metrics", timeout=10).text
    return sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines() if l.startswith("gateway_backend_retries_total"))


@pytest.fixture(scope="module")
def shared_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scale-out-repo")
    publish_version(root)  # version 1, tag 1
    config_path = root / repo.CONFIG_NAME
    config = repo.read_config(config_path)
    repo.model_config(config, MODEL).model_version_policy.latest.num_versions = 2
    repo.write_config(config_path, config)
    return root


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsServer]:
    with DnsServer() as server:
        yield server


def test_three_replicas_behind_one_gateway(shared_repo: Path, dns_server: DnsServer) -> None:
    config = shared_repo / repo.CONFIG_NAME
    port = free_port()
    servers = [replica(config, f"127.0.0.{i}", port) for i in (2, 3, 4)]
    added: ModelServerProcess | None = None
    gateway: GatewayProcess | None = None
    gateways: list[GatewayProcess] = []
    report: list[str] = []
    try:
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(lambda s: s.start(), servers))
        for s in servers:
            wait_model_available(s.address, MODEL, 1)
        dns_server.set(NAME, [s.address.split(":")[0] for s in servers])
        backend = f"dns://127.0.0.1:{dns_server.port}/{NAME}:{port}"
        gateway = GatewayProcess(
            backend,
            shared_repo,
            env={"GATEWAY_BACKEND_RESOLVE_INTERVAL_S": "0.5", "GATEWAY_BACKEND_TIMEOUT_S": str(BACKEND_TIMEOUT_S)},
        ).start()
        gateways.append(gateway)
        # the same backend without retries: what the in-flight requests on a killed replica would get
        plain = GatewayProcess(
            backend,
            shared_repo,
            env={"GATEWAY_BACKEND_RESOLVE_INTERVAL_S": "0.5", "GATEWAY_BACKEND_TIMEOUT_S": str(BACKEND_TIMEOUT_S), "GATEWAY_BACKEND_RETRIES": "0"},
        ).start()
        gateways.append(plain)
        for g in gateways:
            g.wait_ready()

        # ---- 1. spread
        n = 300
        before = [predict_counts(s) for s in servers]
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            for _ in range(n):
                r = client.post("/predict", json={"model": MODEL, "inputs": {"x": [1.0]}})
                assert r.status_code == 200, r.text
        spread = [predict_counts(s) - b for s, b in zip(servers, before)]
        report.append(f"spread of {n} sequential calls over 3 replicas: {spread}")
        assert sum(spread) >= n, spread
        for share in spread:
            assert abs(share - n / 3) <= 0.2 * n / 3, f"outside ±20 % of {n / 3:.0f}: {spread}"

        # ---- 2. SIGKILL under load, through the gateway (retries on) and one without retries
        victim = servers[1]
        retries_before = retries(gateway)
        slow_x = [-(SPIN_OFFSET + SLOW_SPINS)]
        with Load(gateway.url, threads=6, x=slow_x) as load, Load(plain.url, threads=6, x=slow_x) as load_plain:
            wait_until(lambda: load.count() >= 12 and load_plain.count() >= 12, timeout=120, message="slow requests under way")
            # 12 clients over 3 replicas: wait for several in flight on the victim, so most likely both gateways
            # have some there (the retry path is then exercised; the figures report what happened)
            wait_until(lambda: inflight(victim) >= 3, timeout=120, interval=0.01, message="requests in flight on the victim")
            assert victim.proc is not None
            os.kill(victim.proc.pid, signal.SIGKILL)
            killed_at = time.monotonic()
            dns_server.set(NAME, [s.address.split(":")[0] for s in servers if s is not victim])
            done_at_kill = load.count(), load_plain.count()
            wait_until(lambda: load.count() >= done_at_kill[0] + 24 and load_plain.count() >= done_at_kill[1] + 24,
                       timeout=180, message="load after the kill")
        victim.proc.wait(timeout=30)
        servers.remove(victim)
        for name, run in (("retries on", load), ("retries off", load_plain)):
            failures = [o for o in run.outcomes if o.status != 200]
            slowest = max(o.elapsed for o in run.outcomes)
            report.append(
                f"SIGKILL under load ({name}): {len(run.outcomes)} requests from {run.threads} clients, {len(failures)} failed "
                f"({sorted({(o.status, (o.body or {}).get('error', {}).get('code')) for o in failures})}), "
                f"slowest {slowest:.2f} s (deadline {BACKEND_TIMEOUT_S:g} s), mean {sum(o.elapsed for o in run.outcomes) / len(run.outcomes):.2f} s"
            )
            # only requests in flight at the kill can fail: at most one per client, and they end at the kill
            assert len(failures) <= run.threads, failures
            for o in failures:
                assert o.status == 503 and o.body is not None and o.body["error"]["code"] == "backend_unavailable", (o.status, o.text)
                assert o.finished_at - killed_at < BACKEND_TIMEOUT_S, o
            assert slowest < BACKEND_TIMEOUT_S + 5, slowest
        report.append(f"gateway (retries on) retried {retries(gateway) - retries_before:.0f} Predicts on another replica")
        plain.stop()
        gateways.remove(plain)

        # ---- 3. a replica added
        added = replica(config, "127.0.0.5", port).start()
        wait_model_available(added.address, MODEL, 1)
        with Load(gateway.url, threads=2, x=[1.0]) as load:
            dns_server.set(NAME, [s.address.split(":")[0] for s in (*servers, added)])
            added_at = time.monotonic()
            wait_until(lambda: predict_counts(added) > 0, timeout=120, interval=0.1, message="traffic on the added replica")
            first_call_s = time.monotonic() - added_at
        servers.append(added)
        assert all(o.status == 200 for o in load.outcomes), [o.text for o in load.outcomes if o.status != 200]
        report.append(f"added replica: first Predict {first_call_s:.1f} s after its DNS record appeared "
                      f"(connections recycled every {CONNECTION_AGE_MS / 1000:g} s)")

        # ---- 4. publish a new version under load
        with Load(gateway.url, threads=3, x=[1.0]) as load:
            wait_until(lambda: load.count() >= 10, timeout=60, message="load before the publish")
            published_at = time.monotonic()
            publish_version(shared_repo)  # version 2, tag 2
            wait_until(lambda: load.last_tags() == (2, 2), timeout=300, interval=0.1, message="gateway answers with version 2")
            switched_s = time.monotonic() - published_at
            settled = load.count()
            wait_until(lambda: load.count() >= settled + 60, timeout=120, message="load after the switch")
        bad = [o for o in load.outcomes if o.status != 200]
        mixed = [o.body for o in load.outcomes if o.status == 200 and o.body and o.body["outputs"]["graph_tag"] != o.body["outputs"]["asset_tag"]]
        per_replica_v2 = [predict_counts(s, version=2) for s in servers]
        report.append(
            f"publish under load: {len(load.outcomes)} requests, {len(bad)} failed, {len(mixed)} mixed versions, "
            f"switched {switched_s:.1f} s after publish; version-2 Predicts per replica {per_replica_v2}"
        )
        assert not bad, [(o.status, o.text) for o in bad]
        assert not mixed, mixed
        for s in servers:
            assert model_version_states(s.address, MODEL).get(2) == "AVAILABLE", (s.address, model_version_states(s.address, MODEL))
        assert all(c > 0 for c in per_replica_v2), per_replica_v2
    finally:
        print("\n" + "\n".join(report))
        for g in gateways:
            g.stop()
        for s in servers + ([added] if added is not None and added not in servers else []):
            s.stop()
