"""Prometheus metrics of one app instance, correct with any number of uvicorn workers.

One worker (the default): each app has its own CollectorRegistry, so several apps in one process (tests,
several factories) never collide, and /metrics renders that registry.
Several workers (`GATEWAY_WORKERS` > 1): `python -m gateway` points prometheus-client's multiprocess mode at
a fresh directory (`PROMETHEUS_MULTIPROC_DIR`) before uvicorn starts the workers, every worker writes its
samples there, and a scrape of any worker merges all of them (`MultiProcessCollector`): counters and
histograms add up, `inflight` is summed over live workers, the per-model gauges take the latest value
written. Without that, a scrape saw one random worker's counts.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's own switch, set by `python -m gateway`


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.multiprocess_dir = os.environ.get(MULTIPROC_ENV) or None
        self._label_series: dict[tuple[str, str], bool] = {}
        r = self.registry
        self.requests = Counter("gateway_requests", "POST /predict requests by model, version and HTTP status", ["model", "version", "status"], registry=r)
        self.latency = Histogram(
            "gateway_latency_seconds", "/predict latency per model, version and stage (preprocess, backend, postprocess, total)",
            ["model", "version", "stage"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.errors = Counter("gateway_errors", "error responses by error code (kind)", ["code"], registry=r)
        self.batch_size = Histogram("gateway_batch_size", "rows per backend Predict call", ["model"], buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256), registry=r)
        self.batch_splits = Counter("gateway_batch_splits", "merged Predicts that failed and were retried one request at a time", ["model"], registry=r)
        self.current_version = Gauge("gateway_model_version", "version unpinned requests of a model go to (-1 = none)", ["model"], registry=r,
                                     multiprocess_mode="mostrecent")
        self.label_version = Gauge("gateway_model_label_version", "version a label (stable, canary, ...) points at, as configured", ["model", "label"],
                                   registry=r, multiprocess_mode="mostrecent")
        self.canary_share = Gauge("gateway_canary_share", "share (0..1) of unpinned requests sent to the canary label", ["model"], registry=r,
                                  multiprocess_mode="mostrecent")
        self.assets_loaded = Gauge("gateway_assets_loaded", "loaded asset sets per model version (1 while served or still used by a request)",
                                   ["model", "version"], registry=r, multiprocess_mode="livemax")
        self.inflight = Gauge("gateway_inflight_requests", "requests being handled", registry=r, multiprocess_mode="livesum")
        self.backend_retries = Counter("gateway_backend_retries", "Predict attempts retried after UNAVAILABLE", registry=r)

    def render(self) -> bytes:
        """The text exposition of /metrics: this app's registry, or every worker's samples merged."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=self.multiprocess_dir)
        return generate_latest(merged)

    def observe_record(self, model: str, default_version: int | None, labels: dict[str, int], canary_share: float) -> None:
        """Per-model gauges after a registry change: default version, every label's version, canary share."""
        self.current_version.labels(model).set(-1 if default_version is None else default_version)
        for (name, label), _ in list(self._label_series.items()):
            if name == model and label not in labels:
                self.label_version.remove(model, label)
                del self._label_series[(name, label)]
        for label, version in labels.items():
            self.label_version.labels(model, label).set(version)
            self._label_series[(model, label)] = True
        self.canary_share.labels(model).set(canary_share)
