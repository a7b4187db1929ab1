"""The aspired-versions manager: mechanism (harnesses, loads, unloads, serving map) plus the loop that
applies a policy to aspired-version requests (TF Serving's BasicManager + AspiredVersionsManager, composed).

Contracts:
- A source calls :meth:`set_aspired_versions` with the *complete* wanted set of one model; a newer request
  for a model replaces a pending one. Versions left out are unloaded (when the policy says so).
- Each :meth:`step` does one pass: finish unloads whose handles are all released, forget finished versions
  that are no longer wanted, take in pending requests, then ask the policy for at most one action per model.
  With ``manage_state_interval_seconds <= 0`` no thread runs and tests call ``step()`` by hand; with
  ``num_load_threads == 0`` loads run inside ``step()`` too, so such tests are fully deterministic.
- Requests never wait for the manager: :meth:`get_handle` reads the current serving map, an immutable
  snapshot that is rebuilt and swapped as a whole, and borrows a ref-counted handle from a READY harness.
  A version taken out of the map is unloaded only after every handle borrowed from it is released.
- Every state change is published to the ServableStateMonitor; an AVAILABLE event is published only after
  the new serving map is in place, so a client that saw AVAILABLE can use the version right away.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping, Protocol

from modelserver.errors import ServableNotFound, code_of, message_of
from modelserver.harness import LoaderHarness, State
from modelserver.policy import Action, Policy, VersionSnapshot, availability_preserving
from modelserver.source import AspiredVersions
from modelserver.status import ServableStateEvent, ServableStateMonitor

log = logging.getLogger(__name__)


class Loader(Protocol):
    """Cheap to construct (holds a path); `load` does the expensive work and raises on failure."""

    servable: Any

    def load(self) -> None: ...

    def unload(self) -> None: ...


LoaderFactory = Callable[[str, int, Path], Loader]


@dataclass(frozen=True)
class ServableRequest:
    """Which version a request wants; renders exactly as TF Serving's NOT_FOUND text needs it."""

    name: str
    version: int | None = None

    @classmethod
    def latest(cls, name: str) -> "ServableRequest":
        return cls(name)

    @classmethod
    def specific(cls, name: str, version: int) -> "ServableRequest":
        return cls(name, version)

    def __str__(self) -> str:
        return f"Latest({self.name})" if self.version is None else f"Specific({self.name}, {self.version})"


class ServableHandle:
    """A borrowed, loaded version. Release it (or use it as a context manager) as soon as the request is done."""

    __slots__ = ("model", "version", "servable", "_harness", "_on_release", "_released")

    def __init__(self, harness: LoaderHarness, on_release: Callable[[LoaderHarness, int], None]) -> None:
        self.model = harness.model
        self.version = harness.version
        self.servable = harness.loader.servable
        self._harness = harness
        self._on_release = on_release
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._on_release(self._harness, self._harness.release())

    def __enter__(self) -> "ServableHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@dataclass(frozen=True)
class _ServingEntry:
    versions: Mapping[int, LoaderHarness]
    latest: int


@dataclass
class ManagerOptions:
    policy: Policy = availability_preserving
    manage_state_interval_seconds: float = 0.1  # <= 0: no thread, call step() (TF Serving: 100 ms)
    num_load_threads: int = 1  # 0: load inside step()
    on_load: Callable[[str, int, float, bool], None] | None = None  # (model, version, seconds, ok)


class AspiredVersionsManager:
    def __init__(self, loader_factory: LoaderFactory, monitor: ServableStateMonitor, options: ManagerOptions | None = None) -> None:
        self._loader_factory = loader_factory
        self._monitor = monitor
        self._options = options or ManagerOptions()
        self._lock = threading.RLock()  # structure: harnesses, serving map rebuilds (never taken by requests)
        self._harnesses: dict[str, dict[int, LoaderHarness]] = {}
        self._serving: Mapping[str, _ServingEntry] = MappingProxyType({})
        self._pending_lock = threading.Lock()
        self._pending: dict[str, AspiredVersions] = {}
        self._loader_pool = (
            ThreadPoolExecutor(self._options.num_load_threads, thread_name_prefix="modelserver-load")
            if self._options.num_load_threads > 0
            else None
        )
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._options.manage_state_interval_seconds > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="modelserver-manager", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        interval = self._options.manage_state_interval_seconds
        while not self._stopping.is_set():
            try:
                self.step()
            except Exception:  # noqa: BLE001 - the loop must survive a bad pass; the next one retries
                log.exception("manager pass failed")
            self._wake.wait(interval)
            self._wake.clear()

    def stop(self) -> None:
        """Stop the loop, let running loads finish, then unload every version (call after requests drained)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        if self._loader_pool is not None:
            self._loader_pool.shutdown(wait=True)
        with self._lock:
            self._serving = MappingProxyType({})
            for versions in self._harnesses.values():
                for h in versions.values():
                    if h.state is State.READY:
                        h.start_quiescing()
                    if h.state is State.QUIESCING:
                        self._try_unload(h, force=True)
                    elif h.state is State.NEW:
                        h.cancel()
                        self._publish(h)

    # --- the source's side ----------------------------------------------------------------------------
    def set_aspired_versions(self, item: AspiredVersions) -> None:
        with self._pending_lock:
            self._pending[item.model] = item
        self._wake.set()

    # --- requests' side -------------------------------------------------------------------------------
    def get_handle(self, request: ServableRequest) -> ServableHandle:
        for _ in range(3):  # a miss on acquire means an unload raced us; the next snapshot is newer
            entry = self._serving.get(request.name)
            if entry is None:
                raise ServableNotFound(request)
            harness = entry.versions.get(entry.latest if request.version is None else request.version)
            if harness is None:
                raise ServableNotFound(request)
            if harness.acquire():
                return ServableHandle(harness, self._released)
        raise ServableNotFound(request)

    def _released(self, harness: LoaderHarness, remaining: int) -> None:
        if remaining == 0 and harness.state is State.QUIESCING:
            self._wake.set()

    def serving_versions(self, model: str) -> list[int]:
        entry = self._serving.get(model)
        return sorted(entry.versions) if entry else []

    def harness_states(self, model: str) -> dict[int, State]:
        with self._lock:
            return {v: h.state for v, h in sorted(self._harnesses.get(model, {}).items())}

    # --- one pass -------------------------------------------------------------------------------------
    def step(self) -> None:
        with self._lock:
            self._finish_unloads()
            self._flush()
            self._handle_pending()
            for model in list(self._harnesses):
                self._invoke_policy(model)

    def _finish_unloads(self) -> None:
        for versions in self._harnesses.values():
            for h in versions.values():
                if h.state is State.QUIESCING:
                    self._try_unload(h)

    def _flush(self) -> None:
        for model in list(self._harnesses):
            versions = self._harnesses[model]
            for v in [v for v, h in versions.items() if h.state in (State.DISABLED, State.ERROR) and not h.is_aspired]:
                del versions[v]
            if not versions:
                del self._harnesses[model]

    def _handle_pending(self) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, {}
        for model, item in pending.items():
            if item.error is not None:
                log.error("source error for model %s: %s (keeping its current versions)", model, item.error)
                continue
            versions = self._harnesses.setdefault(model, {})
            wanted = {a.version: a.path for a in item.versions}
            if any(v in versions and versions[v].state in (State.QUIESCING, State.UNLOADING) for v in wanted):
                # Re-aspired while still being unloaded: retry once that has finished (as TF Serving does).
                with self._pending_lock:
                    self._pending.setdefault(model, item)
                continue
            for v, h in list(versions.items()):
                h.is_aspired = v in wanted
                if not h.is_aspired and h.state is State.NEW:
                    h.cancel()
                    self._publish(h)
            for v, path in sorted(wanted.items()):
                h = versions.get(v)
                if h is None or (h.state is State.DISABLED):
                    h = LoaderHarness(model, v, self._loader_factory(model, v, path))
                    versions[v] = h
                    self._publish(h)
            if not versions:
                del self._harnesses[model]

    def _invoke_policy(self, model: str) -> None:
        versions = self._harnesses.get(model, {})
        snapshots = [VersionSnapshot(v, h.state, h.is_aspired) for v, h in sorted(versions.items())]
        action = self._options.policy(snapshots)
        if action is None:
            return
        h = versions[action.version]
        if action.action is Action.LOAD:
            h.start_loading()
            self._publish(h)
            if self._loader_pool is None:
                self._load(h)
            else:
                self._loader_pool.submit(self._load, h)
        else:
            self._rebuild_serving_map(exclude=h)
            h.start_quiescing()
            self._publish(h)
            self._try_unload(h)

    # --- mechanism ------------------------------------------------------------------------------------
    def _load(self, h: LoaderHarness) -> None:
        started = time.perf_counter()
        try:
            h.loader.load()
        except BaseException as e:  # noqa: BLE001 - any load failure becomes the version's END status
            seconds = time.perf_counter() - started
            log.error("loading %s version %d failed after %.2fs: %s", h.model, h.version, seconds, message_of(e))
            with self._lock:
                h.load_failed(e)
                self._publish(h)
            self._observe_load(h, seconds, False)
            return
        seconds = time.perf_counter() - started
        with self._lock:
            h.loaded()
            self._rebuild_serving_map()
            self._publish(h)
        log.info("loaded %s version %d in %.2fs", h.model, h.version, seconds)
        self._observe_load(h, seconds, True)
        self._wake.set()

    def _observe_load(self, h: LoaderHarness, seconds: float, ok: bool) -> None:
        if self._options.on_load is not None:
            self._options.on_load(h.model, h.version, seconds, ok)

    def _try_unload(self, h: LoaderHarness, force: bool = False) -> None:
        if not h.try_start_unloading():
            if not force:
                return
            log.warning("unloading %s version %d with %d handles still borrowed", h.model, h.version, h.refs)
            h.abandon_handles()  # shutting down: the server has already drained its requests
            h.try_start_unloading()
        try:
            h.loader.unload()
        except Exception:  # noqa: BLE001 - an unload failure must not stop the manager
            log.exception("unloading %s version %d failed", h.model, h.version)
        h.unloaded()
        self._publish(h)
        log.info("unloaded %s version %d", h.model, h.version)

    def _rebuild_serving_map(self, exclude: LoaderHarness | None = None) -> None:
        new: dict[str, _ServingEntry] = {}
        for model, versions in self._harnesses.items():
            ready = {v: h for v, h in versions.items() if h.state is State.READY and h is not exclude}
            if ready:
                new[model] = _ServingEntry(MappingProxyType(ready), max(ready))
        self._serving = MappingProxyType(new)

    def _publish(self, h: LoaderHarness) -> None:
        error_code, error_message = "OK", ""
        if h.state is State.ERROR and h.error is not None:
            error_code, error_message = code_of(h.error), message_of(h.error)
        self._monitor.publish(ServableStateEvent(h.model, h.version, h.public_state, error_code, error_message))
