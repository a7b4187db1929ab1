"""Prometheus metrics of the model server, served over HTTP on `--monitoring_port` (`/metrics`).

Why its own registry: tests and the benchmark may build several servers in one process; a private
registry keeps their series apart and keeps the default process collectors optional.
"""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily

from modelserver.harness import PublicState
from modelserver.status import ServableStateEvent, ServableStateMonitor

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LOAD_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "modelserver_requests",
            "RPCs answered, by method, model, version and gRPC status code",
            ["method", "model", "version", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "modelserver_request_latency_seconds",
            "RPC latency inside the server, by method, model and version",
            ["method", "model", "version"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.inflight = Gauge("modelserver_inflight_requests", "RPCs being answered now", registry=self.registry)
        self.load_latency = Histogram(
            "modelserver_load_latency_seconds",
            "Time to load a version (session + warm-up), by model and outcome",
            ["model", "outcome"],
            buckets=LOAD_BUCKETS,
            registry=self.registry,
        )
        self._available: dict[str, set[int]] = {}
        self._available_lock = threading.Lock()
        self.registry.register(_LoadedVersions(self._available, self._available_lock))
        self._http = None

    def observe_request(self, method: str, model: str, version: str, code: str, seconds: float) -> None:
        self.requests.labels(method, model, version, code).inc()
        self.latency.labels(method, model, version).observe(seconds)

    def observe_load(self, model: str, version: int, seconds: float, ok: bool) -> None:
        self.load_latency.labels(model, "ok" if ok else "error").observe(seconds)

    def on_state(self, event: ServableStateEvent) -> None:
        with self._available_lock:
            versions = self._available.setdefault(event.model, set())
            if event.state is PublicState.AVAILABLE:
                versions.add(event.version)
            else:
                versions.discard(event.version)

    def attach(self, monitor: ServableStateMonitor) -> None:
        monitor.add_listener(self.on_state)

    def serve(self, port: int, addr: str = "0.0.0.0") -> None:
        if port > 0:
            self._http = start_http_server(port, addr=addr, registry=self.registry)

    def close(self) -> None:
        if self._http is not None:
            server, _thread = self._http
            server.shutdown()
            self._http = None


class _LoadedVersions:
    """`modelserver_loaded_versions{model}` (count) and `modelserver_version_available{model,version}` (1)."""

    def __init__(self, available: dict[str, set[int]], lock: threading.Lock) -> None:
        self._available = available
        self._lock = lock

    def collect(self):
        count = GaugeMetricFamily("modelserver_loaded_versions", "Versions AVAILABLE per model", labels=["model"])
        each = GaugeMetricFamily("modelserver_version_available", "1 for every AVAILABLE version", labels=["model", "version"])
        with self._lock:
            snapshot = {model: sorted(versions) for model, versions in self._available.items()}
        for model, versions in sorted(snapshot.items()):
            count.add_metric([model], len(versions))
            for v in versions:
                each.add_metric([model, str(v)], 1)
        yield count
        yield each
