"""The predict service (KServe's DataPlane idea): the one way every prediction runs, whatever the transport.

The HTTP route parses a request into a `PredictCall` (model, family, validated inputs, pin, deadline) and
awaits `PredictService.predict`; nothing else answers a prediction. One prediction is family preprocess ->
backend (pinned to one version; through the micro-batcher for families that batch) -> family postprocess,
timed per stage.

The record a request starts with fixes its version: preprocess and postprocess use that version's assets,
the backend call is pinned to it. If the backend answers NOT_FOUND for a version the gateway chose (the
backend swapped or restarted between two registry polls), the request asks the registry for a background
refresh and waits, within its deadline, for the model's record to change; it then re-runs on the new
record — again one version end to end — so a swap loses no request. A request never loads assets itself
(the registry does, off the request path); if no new version is ready in time it answers 503 +
Retry-After. A version the *user* pinned is not silently replaced: NOT_FOUND becomes 404 or 503.
Hooks are synchronous (one style, as the family interface says). They run in the thread pool, or on the
event loop for families whose hooks take microseconds (`Family.light_hooks`): a thread hop costs more than
their work. Each request carries a deadline (GATEWAY_BACKEND_TIMEOUT_S, shortened by `X-Request-Timeout-Ms`);
batchable families' backend calls go through the micro-batcher when batching is on for the model.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from pydantic import BaseModel

from gateway import errors as E
from gateway.backend import Backend
from gateway.batching import MicroBatcher
from gateway.families import AnyFamily, Prepared
from gateway.metrics import Metrics
from gateway.registry import Registry, ServedVersion

MAX_ATTEMPTS = 6  # first try + retries after NOT_FOUND at a swap (waits 0.05 + 0.1 + ... + 0.8 s at most)
STAGES = ("preprocess", "backend", "postprocess", "total")
SWAP_WAIT_S = 0.05  # longest wait for a changed record per retry; doubles per attempt (status may lag Predict)


@dataclass(frozen=True)
class PredictCall:
    model: str
    family: AnyFamily
    inputs: BaseModel
    version: int | None = None
    version_label: str | None = None
    deadline: float | None = None  # time.monotonic(); None = now + GATEWAY_BACKEND_TIMEOUT_S


@dataclass
class PredictResult:
    model: str
    version: int
    outputs: dict[str, Any]
    timing_ms: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "outputs": self.outputs, "timing_ms": self.timing_ms}


class PredictService:
    def __init__(self, registry: Registry, backend: Backend, executor: ThreadPoolExecutor, metrics: Metrics) -> None:
        self.registry = registry
        self.backend = backend
        self.executor = executor
        self.metrics = metrics
        self.settings = registry.settings
        # settings are fixed for the app's life, so each model's policy is computed once, not per request
        self.batcher = MicroBatcher(backend, metrics, cache(self.settings.batch_policy))
        self._series: dict[tuple[str, str], list[Any]] = {}

    async def run_blocking(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, partial(fn, *args))

    def _latency_series(self, model: str, version: str) -> list[Any]:
        """The four stage histograms of one model version (label lookups cached: they cost on every request)."""
        key = (model, version)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = [self.metrics.latency.labels(model, version, s) for s in STAGES]
        return series

    async def run_hook(self, family: AnyFamily, fn: Any, *args: Any) -> Any:
        """A family hook: on the event loop for light hooks (GATEWAY_INLINE_HOOKS overrides), else in the pool."""
        forced = self.settings.inline_hooks
        if family.light_hooks if forced is None else forced:
            return fn(*args)
        return await self.run_blocking(fn, *args)

    async def predict(self, call: PredictCall, request_id: str) -> PredictResult:
        pinned = call.version is not None or call.version_label is not None
        deadline = call.deadline if call.deadline is not None else time.monotonic() + self.settings.backend_timeout_s
        for attempt in range(MAX_ATTEMPTS):
            record = self.registry.get(call.model)
            served = record.resolve(call.version, call.version_label, request_id)
            try:
                return await self._once(call, served, deadline)
            except E.ServableNotFound as e:
                if pinned or attempt == MAX_ATTEMPTS - 1:
                    raise await self._explain_not_found(call, served.version, e) from None
                # the registry refreshes in the background; this request only waits, within its deadline
                self.registry.request_refresh(call.model, record.generation)
                wait = min(SWAP_WAIT_S * 2**attempt, deadline - time.monotonic())
                if wait <= 0:
                    raise E.ModelNotReady(f"model {call.model!r} is switching versions and the request's deadline passed; retry shortly") from None
                await self.registry.wait_for_change(call.model, record.generation, wait)
        raise AssertionError("unreachable")

    async def _once(self, call: PredictCall, served: ServedVersion, deadline: float) -> PredictResult:
        family, version, label_v = call.family, served.version, str(served.version)
        t0 = time.perf_counter()
        prepared: Prepared[Any] = await self.run_hook(family, family.preprocess, call.inputs, served.assets)
        arrays = prepared.arrays
        t1 = time.perf_counter()
        output_filter, signature = family.output_filter(call.inputs), family.signature_name(call.inputs)
        queue_ms = None
        if self.batcher.enabled_for(call.model, family):
            batched = await self.batcher.predict(call.model, version, family, arrays, output_filter, signature, deadline)
            outputs, queue_ms = batched.outputs, batched.queue_ms
        else:
            rows = _batch_rows(arrays)
            if rows is not None:
                self.metrics.batch_size.labels(call.model).observe(rows)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise E.BackendTimeout(f"Predict {call.model} version {version}: the request's deadline passed before it was sent")
            outputs = await self.backend.predict(call.model, version, arrays, output_filter, timeout=remaining, signature_name=signature)
        t2 = time.perf_counter()
        result = await self.run_hook(family, family.postprocess, outputs, served.assets, call.inputs, prepared.context)
        t3 = time.perf_counter()
        timing = {"preprocess": (t1 - t0) * 1e3, "backend": (t2 - t1) * 1e3, "postprocess": (t3 - t2) * 1e3, "total": (t3 - t0) * 1e3}
        for series, ms in zip(self._latency_series(call.model, label_v), timing.values()):
            series.observe(ms / 1e3)
        if queue_ms is not None:
            timing["queue"] = queue_ms  # part of "backend": waiting for batch-mates
        out = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
        return PredictResult(call.model, version, out, {k: round(v, 3) for k, v in timing.items()})

    async def _explain_not_found(self, call: PredictCall, version: int, err: E.GatewayError) -> E.GatewayError:
        """NOT_FOUND from Predict: GetModelStatus tells an unknown version (404) from one loading (503)."""
        try:
            states = await self.backend.model_status(call.model)
        except E.GatewayError as e:
            return e
        st = states.get(version)
        if st is not None and st.state in ("START", "LOADING", "AVAILABLE"):
            return E.ModelNotReady(f"version {version} of model {call.model!r} is loading on the backend; retry shortly")
        if not states:
            return E.ModelNotReady(f"model {call.model!r} is not loaded on the backend yet; retry shortly")
        if call.version is not None:
            return E.ModelNotFound(f"version {version} of model {call.model!r} is not served; backend versions: {sorted(states)}")
        return E.ModelNotReady(f"model {call.model!r} is switching versions; retry shortly")


def _batch_rows(arrays: dict[str, Any]) -> int | None:
    for a in arrays.values():
        shape = getattr(a, "shape", None)
        if shape:
            return int(shape[0])
    return None
