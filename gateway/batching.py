"""Adaptive micro-batching: concurrent requests for one model version merged into one backend Predict.

Why in the gateway and not TF Serving's `--enable_batching`: TF Serving pads variable-length inputs with
the first element's value (tensorflow/serving#1279), which breaks masked RNNs such as the anti-spam model;
here each family names its own pad value (`Family.pad_values`), and the same batching works in front of
TF Serving and modelserver alike.

Policy ("adaptive"): a request that finds its queue idle — nothing pending, no batch of that queue in
flight — is sent at the end of the event loop's current turn, together with the requests read in the same
turn (`_Queue.flush_soon` says why), so a lone client pays nothing for batching. While a batch is in
flight, new requests wait in the queue; the queue is flushed at the end of the turn in which the batch in
flight returns, when it holds `max_batch_size` rows, or when its oldest request has waited
`max_latency_ms`, whichever comes first.
Batches therefore grow with load and no request waits in the queue longer than `max_latency_ms`.
With `send_when_idle` off the queue is a plain time window (every request waits up to `max_latency_ms`):
more merging at low load, at the price of that wait — and deterministic batches for tests.

One queue per (model, version, signature, output filter): a batch never mixes versions (design §4), and
requests that ask for different outputs are not merged. Inputs are merged along axis 0; inputs whose
other axes differ are padded with the family's pad value when the family names one for that input, and
otherwise go to different batches. Outputs are split back by row. A padded output keeps its padding: the
family's postprocess trims it (e.g. per-token outputs), exactly as for the texts of one request.

Failure isolation: when a merged Predict fails with an error that one member could have caused (invalid
argument, internal error, message too large), every member is retried alone, so only the guilty request
fails. Errors that concern the whole version or backend (unavailable, not found, deadline) go to all.
Each request keeps its own deadline: it stops waiting when its deadline passes, and a request whose
deadline passed while queued is never sent.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from gateway import errors as E
from gateway.backend import Backend
from gateway.core.config import BatchPolicy
from gateway.families import AnyFamily
from gateway.metrics import Metrics

__all__ = ["BatchPolicy", "BatchedResult", "MicroBatcher"]

# errors a single member of a batch can cause: retry members alone so its batch-mates still succeed
MEMBER_ERRORS = (E.InvalidInput, E.BackendError, E.PayloadTooLarge)


@dataclass(eq=False)
class _Item:
    arrays: dict[str, np.ndarray]
    rows: int
    deadline: float  # time.monotonic()
    future: asyncio.Future[dict[str, np.ndarray]]
    enqueued: float = field(default_factory=time.perf_counter)
    sent: float = 0.0
    batch_rows: int = 0


@dataclass(frozen=True)
class BatchedResult:
    outputs: dict[str, np.ndarray]
    queue_ms: float  # time spent waiting for the batch to be sent
    batch_rows: int  # rows of the merged Predict this request rode in


def merge(arrays: Sequence[dict[str, np.ndarray]], pad_values: dict[str, float]) -> dict[str, np.ndarray]:
    """Concatenate per-request inputs along axis 0, padding the other axes up to the batch's largest size
    with `pad_values[alias]` (inputs without a pad value must already agree)."""
    merged: dict[str, np.ndarray] = {}
    for alias in arrays[0]:
        parts = [a[alias] for a in arrays]
        target = tuple(max(p.shape[d] for p in parts) for d in range(1, parts[0].ndim))
        if any(p.shape[1:] != target for p in parts):
            pad = pad_values[alias]  # compatible() guarantees it exists
            out = np.full((sum(p.shape[0] for p in parts), *target), pad, dtype=parts[0].dtype)
            row = 0
            for p in parts:
                out[(slice(row, row + p.shape[0]), *(slice(0, s) for s in p.shape[1:]))] = p
                row += p.shape[0]
            merged[alias] = out
        else:
            merged[alias] = np.concatenate(parts, axis=0)
    return merged


def compatible(a: dict[str, np.ndarray], b: dict[str, np.ndarray], pad_values: dict[str, float]) -> bool:
    """Can these two requests' inputs share a batch? Same aliases, dtypes and ranks; other axes equal
    unless the family pads that input."""
    if a.keys() != b.keys():
        return False
    for alias, x in a.items():
        y = b[alias]
        if x.dtype != y.dtype or x.ndim != y.ndim or x.ndim == 0:
            return False
        if x.shape[1:] != y.shape[1:] and alias not in pad_values:
            return False
    return True


def split(outputs: dict[str, np.ndarray], rows: Sequence[int]) -> list[dict[str, np.ndarray]]:
    """Slice each output back into the members' rows (views, no copies)."""
    total = sum(rows)
    for alias, value in outputs.items():
        if value.ndim == 0 or value.shape[0] != total:
            raise E.BackendError(f"batched output {alias!r} has shape {list(value.shape)}; expected {total} rows (one per input row)")
    parts, start = [], 0
    for n in rows:
        parts.append({alias: value[start:start + n] for alias, value in outputs.items()})
        start += n
    return parts


class _Queue:
    """Pending requests of one (model, version, signature, output filter) and the batches in flight."""

    def __init__(self, batcher: "MicroBatcher", key: tuple[Any, ...], family: AnyFamily, policy: BatchPolicy) -> None:
        self.batcher, self.key, self.family, self.policy = batcher, key, family, policy
        self.pending: list[_Item] = []
        self.pending_rows = 0
        self.in_flight = 0
        self.timer: asyncio.Handle | None = None  # the scheduled flush: this turn's end, or max_latency_ms

    def submit(self, item: _Item) -> None:
        self.pending.append(item)
        self.pending_rows += item.rows
        idle = self.in_flight == 0 and len(self.pending) == 1
        if self.pending_rows >= self.policy.max_batch_size:
            self.flush()
        elif idle and self.policy.send_when_idle:
            self.flush_soon()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(self.policy.max_latency_ms / 1e3, self.flush)

    def flush_soon(self) -> None:
        """Flush at the end of the event loop's current turn, not at once.

        Why: requests whose bytes were read in the same turn are already queued to run, each up to its
        `submit` without yielding (light hooks run inline). Flushing after them sends them in one batch; at
        once, the first would go alone and the rest would wait for it. Under a closed loop at concurrency 32
        that was one single-row Predict for every full batch. A lone request loses nothing: nothing else is
        queued to run, so the flush runs next.
        """
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Send the oldest compatible requests (up to max_batch_size rows) as one batch."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        now = time.monotonic()
        live = []
        for item in self.pending:
            if item.future.done():  # its caller gave up (deadline, disconnect)
                continue
            if item.deadline <= now:
                item.future.set_exception(_deadline_error(self.key))
                continue
            live.append(item)
        self.pending = live
        if not live:
            self.pending_rows = 0
            return
        first = live[0]
        batch, rest, rows = [first], [], first.rows
        for item in live[1:]:
            if rows + item.rows <= self.policy.max_batch_size and compatible(first.arrays, item.arrays, self.family.pad_values):
                batch.append(item)
                rows += item.rows
            else:
                rest.append(item)
        self.pending = rest
        self.pending_rows = sum(i.rows for i in rest)
        self.in_flight += 1
        asyncio.get_running_loop().create_task(self._run(batch))
        if rest and self.timer is None:
            if self.pending_rows >= self.policy.max_batch_size:
                asyncio.get_running_loop().call_soon(self.flush)
            else:
                self.timer = asyncio.get_running_loop().call_later(self.policy.max_latency_ms / 1e3, self.flush)

    async def _run(self, batch: list[_Item]) -> None:
        try:
            sent, rows = time.perf_counter(), sum(i.rows for i in batch)
            for item in batch:
                item.sent, item.batch_rows = sent, rows
            await self._predict(batch)
        finally:
            self.in_flight -= 1
            if self.pending and self.policy.send_when_idle:  # requests that queued while this batch was out
                self.flush_soon()
            elif self.in_flight == 0:
                self.batcher._forget_if_idle(self.key, self)

    async def _predict(self, batch: list[_Item]) -> None:
        model, version, signature, output_filter = self.key
        rows = sum(i.rows for i in batch)
        timeout = max(i.deadline for i in batch) - time.monotonic()
        self.batcher.metrics.batch_size.labels(model).observe(rows)
        try:
            arrays = batch[0].arrays if len(batch) == 1 else merge([i.arrays for i in batch], self.family.pad_values)
            outputs = await self.batcher.backend.predict(model, version, arrays, list(output_filter) or None, timeout=max(timeout, 1e-3), signature_name=signature)
            parts = split(outputs, [i.rows for i in batch])
        except MEMBER_ERRORS as e:
            if len(batch) == 1:
                _fail(batch[0], e)
                return
            self.batcher.metrics.batch_splits.labels(model).inc()
            await asyncio.gather(*(self._predict([item]) for item in batch))
            return
        except E.GatewayError as e:
            for item in batch:
                _fail(item, e)
            return
        except BaseException as e:  # cancellation or a bug: never leave a caller waiting forever
            for item in batch:
                _fail(item, E.GatewayError(f"batched Predict failed: {type(e).__name__}"))
            raise
        for item, part in zip(batch, parts):
            if not item.future.done():
                item.future.set_result(part)


def _fail(item: _Item, error: BaseException) -> None:
    if not item.future.done():
        item.future.set_exception(error)


def _expire(item: _Item, key: tuple[Any, ...]) -> None:
    """Deadline passed: the caller gets 504; a queued item is then skipped at flush, an in-flight one ignored."""
    _fail(item, _deadline_error(key))


def _deadline_error(key: tuple[Any, ...]) -> E.BackendTimeout:
    return E.BackendTimeout(f"Predict {key[0]} version {key[1]}: the request's deadline passed before the model answered")


class MicroBatcher:
    """Owns the queues; `policy_for(model)` says whether and how a model's requests are batched."""

    def __init__(self, backend: Backend, metrics: Metrics, policy_for: Callable[[str], BatchPolicy]) -> None:
        self.backend, self.metrics, self.policy_for = backend, metrics, policy_for
        self.queues: dict[tuple[Any, ...], _Queue] = {}

    def enabled_for(self, model: str, family: AnyFamily) -> bool:
        return family.batchable and self.policy_for(model).enabled

    async def predict(
        self, model: str, version: int, family: AnyFamily, arrays: dict[str, np.ndarray],
        output_filter: Sequence[str] | None, signature_name: str, deadline: float,
    ) -> BatchedResult:
        key = (model, version, signature_name, tuple(output_filter or ()))
        queue = self.queues.get(key)
        if queue is None:
            queue = self.queues[key] = _Queue(self, key, family, self.policy_for(model))
        rows = _rows(arrays)
        loop = asyncio.get_running_loop()
        item = _Item(arrays, rows, deadline, loop.create_future())
        # the caller's deadline: one timer that fails the item's future (cheaper than wait_for + shield)
        expiry = loop.call_at(loop.time() + max(deadline - time.monotonic(), 0.0), _expire, item, key)
        queue.submit(item)
        try:
            outputs = await item.future  # cancelling the caller cancels the future: flush then skips it
        finally:
            expiry.cancel()
        return BatchedResult(outputs, (item.sent - item.enqueued) * 1e3, item.batch_rows)

    def _forget_if_idle(self, key: tuple[Any, ...], queue: _Queue) -> None:
        """Drop idle queues so versions that were swapped out leave nothing behind."""
        if self.queues.get(key) is queue and not queue.pending and queue.in_flight == 0 and queue.timer is None:
            del self.queues[key]


def _rows(arrays: dict[str, np.ndarray]) -> int:
    shapes = {a.shape[0] for a in arrays.values() if a.ndim}
    if len(shapes) != 1:
        raise E.InvalidInput(f"inputs disagree on the batch size (first axes {sorted(shapes)}); cannot batch")
    return shapes.pop()
