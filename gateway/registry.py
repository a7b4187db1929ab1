"""The model registry: which versions the gateway serves, with whose assets, and which version a request gets.

It follows two sources and keeps no other state:
- `models.config` (read with `common.repository`): the models, their base paths and version labels;
- the backend's GetModelStatus: which versions are AVAILABLE.

Per model it holds one immutable `ModelRecord`, replaced as a whole on every change (the serving-map idea
of TF Serving). A request takes the record current when it starts and keeps it to the end, so the assets
it preprocesses with always belong to the version it pins on the backend, and old assets are freed by
reference counting only once the last request holding them finishes (`gateway_assets_loaded` shows it).

A version becomes *served* only when it is AVAILABLE on the backend AND its assets are loaded (loading
runs in the thread pool, never on the event loop, never on a request path). Labels resolve to served
versions only: while a label's new target is still loading, the label keeps its previous served target.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
import weakref
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Literal, Mapping

from common import manifest as mf
from common import repository as repo
from gateway import errors as E
from common.admin_state import AdminState
from gateway.backend import Backend, VersionStatus
from gateway.core import heap
from gateway.core.config import Settings
from gateway.families import FAMILIES, AnyFamily

log = logging.getLogger("gateway.registry")

Status = Literal["available", "loading", "pending", "unsupported"]
STABLE, CANARY = "stable", "canary"


@dataclass(eq=False)
class ServedVersion:
    """One version the gateway can serve: its number, directory, manifest and loaded assets (the handle)."""

    model: str
    version: int
    path: Path
    manifest: dict[str, Any]
    assets: Any


@dataclass(frozen=True)
class ModelRecord:
    name: str
    family: AnyFamily | None
    status: Status
    served: Mapping[int, ServedVersion]
    labels: Mapping[str, int]  # as configured in models.config
    effective_labels: Mapping[str, int]  # label -> served version actually used now
    backend_states: Mapping[int, VersionStatus]
    on_disk: tuple[int, ...]
    canary_share: float
    message: str
    generation: int
    backend_down: bool = False  # placeholder record: the backend never answered for this model yet
    asset_failures: Mapping[int, str] = field(default_factory=dict)  # version -> why its assets did not load

    @property
    def default_version(self) -> int | None:
        """`stable` when the model has that label (even while its version loads: never fall back to a
        version the operator moved away from), else the newest served version."""
        if STABLE in self.labels:
            return self.effective_labels.get(STABLE)
        return max(self.served) if self.served else None

    def resolve(self, version: int | None, label: str | None, request_id: str) -> ServedVersion:
        """explicit version > version_label > `stable` > latest served; canary share of unpinned requests."""
        if self.status == "unsupported":
            raise E.ModelNotFound(f"model {self.name!r} is configured but this gateway has no family for it")
        if version is not None:
            if version in self.served:
                return self.served[version]
            self._raise_version_missing(version, f"version {version}")
        if label is not None:
            if label in self.effective_labels:
                return self.served[self.effective_labels[label]]
            if label in self.labels:
                raise E.ModelNotReady(
                    f"version label {label!r} of model {self.name!r} points to version {self.labels[label]}, which is still loading"
                )
            known = ", ".join(f"{k} -> {v}" for k, v in sorted(self.labels.items())) or "none"
            raise E.ModelNotFound(f"model {self.name!r} has no version label {label!r}; labels: {known}")
        if not self.served:
            self._raise_not_ready()
        canary = self.effective_labels.get(CANARY)
        if canary is not None and self.canary_share > 0 and in_share(request_id, self.canary_share):
            return self.served[canary]
        default = self.default_version
        if default is None:
            raise E.ModelNotReady(
                f"version label 'stable' of model {self.name!r} points to version {self.labels[STABLE]}, which is still loading"
            )
        return self.served[default]

    def _raise_version_missing(self, version: int, what: str) -> None:
        if version in self.asset_failures:
            raise E.ModelNotReady(
                f"{what} of model {self.name!r} is loaded on the backend but the gateway cannot serve it: "
                f"{self.asset_failures[version]} (retried every GATEWAY_ASSET_RETRY_S)"
            )
        state = self.backend_states.get(version)
        if state is not None and state.state in ("START", "LOADING", "AVAILABLE"):
            raise E.ModelNotReady(f"{what} of model {self.name!r} is still loading")
        served = sorted(self.served) or "none"
        raise E.ModelNotFound(f"model {self.name!r} has no served {what}; served versions: {served}")

    def _raise_not_ready(self) -> None:
        if self.backend_down:
            raise E.BackendUnavailable(f"model {self.name!r}: the model backend is unavailable; retry shortly")
        if self.status == "pending":
            raise E.ModelNotReady(f"model {self.name!r} has no version yet (it may be training); retry later")
        raise E.ModelNotReady(f"model {self.name!r} is loading{': ' + self.message if self.message else ''}; retry later")


def in_share(request_id: str, share: float) -> bool:
    """Deterministic by request id: the same id always lands on the same side."""
    return (zlib.crc32(request_id.encode()) % 10_000) < share * 10_000


class Registry:
    def __init__(self, settings: Settings, backend: Backend, run_blocking: Callable[..., Any], on_change: Callable[[ModelRecord], None] | None = None, assets_gauge: Any = None) -> None:
        self.settings = settings
        self.backend = backend
        self._run_blocking = run_blocking  # (fn, *args) -> awaitable, in the hook thread pool
        self._on_change = on_change
        self._assets_gauge = assets_gauge
        self.records: dict[str, ModelRecord] = {}
        self.admin = AdminState(Path(settings.servables))
        self._config: list[Any] = []  # ModelConfig protos
        self._config_key: tuple[int, int, int] | None = None
        self.config_error: str = ""
        self.backend_error: str = ""
        self.last_refresh: float | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._asset_failures: dict[tuple[str, int], tuple[float, str]] = {}
        self._generation = 0
        self._task: asyncio.Task[None] | None = None
        self._changed: dict[str, asyncio.Event] = {}  # set (and dropped) when the model's record is replaced
        self._background: set[asyncio.Task[Any]] = set()  # refreshes requested by requests (kept alive here)
        self._live_asset_sets = 0  # ServedVersions alive: served ones, plus retired ones still held
        self._live_lock = threading.Lock()  # loads run in the thread pool, frees wherever the last holder ends

    # ---- lifecycle
    async def start(self) -> None:
        await self.refresh()
        gc.collect()  # once, so start-up garbage is not frozen with the rest
        self._freeze_if_settled()
        self._task = asyncio.create_task(self._loop(), name="registry-refresh")

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.refresh_interval_s)
            try:
                await self.refresh()
            except Exception:  # never let the refresher die
                log.exception("registry refresh failed")
            self._freeze_if_settled()

    def assets_settled(self) -> bool:
        """Are the served versions' asset sets the only ones alive (no retired version still held)?"""
        served = sum(len(r.served) for r in self.records.values())
        with self._live_lock:
            return self._live_asset_sets == served

    def _freeze_if_settled(self) -> None:
        if not heap.is_frozen() and self.assets_settled():
            heap.freeze()

    # ---- lookups (request path: no I/O)
    def get(self, name: str) -> ModelRecord:
        record = self.records.get(name)
        if record is None:
            known = ", ".join(sorted(r.name for r in self.records.values() if r.status != "unsupported")) or "none"
            raise E.ModelNotFound(f"model {name!r} not found; available models: {known}")
        return record

    def model_config(self, name: str) -> Any | None:
        """The model's entry of the last good models.config (a ModelConfig proto), if any."""
        return next((c for c in self._config if c.name == name), None)

    def ready(self) -> tuple[bool, list[str]]:
        """The backend answers, and every model with a published version is served with its assets."""
        reasons = []
        fresh = self.backend.last_ok is not None and time.monotonic() - self.backend.last_ok < max(
            5.0, 4 * self.settings.refresh_interval_s + self.settings.status_timeout_s
        )
        if self.backend_error or not fresh:
            reasons.append(f"backend {self.settings.backend} not answering: {self.backend_error or 'no recent status'}")
        if self.config_error:
            reasons.append(self.config_error)
        for r in self.records.values():
            if r.status == "loading":
                reasons.append(f"model {r.name!r} has published versions but none is served yet{': ' + r.message if r.message else ''}")
        return not reasons, reasons

    # ---- refresh
    def _read_config(self) -> None:
        path = self.settings.config_path
        try:
            st = path.stat()
        except FileNotFoundError:
            self._config, self._config_key = [], None
            self.config_error = f"{path} does not exist"
            return
        key = (st.st_ino, st.st_mtime_ns, st.st_size)  # atomic replace = new inode
        if key == self._config_key:
            return
        try:
            config = repo.read_config(path)
        except Exception as e:  # keep the last good config
            self.config_error = f"{path} cannot be parsed: {e}"
            log.error(self.config_error)
            return
        self._config = list(config.model_config_list.config)
        self._config_key = key
        self.config_error = ""

    async def refresh(self) -> None:
        self._read_config()
        self.admin.reload()
        names = [mc.name for mc in self._config]
        results = await asyncio.gather(*(self.refresh_model(n) for n in names), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        backend_down = [r for r in errors if isinstance(r, E.BackendUnavailable | E.BackendTimeout)]
        self.backend_error = str(backend_down[0]) if backend_down else ""
        for r in errors:
            if not isinstance(r, E.GatewayError):
                log.error("refresh of a model failed: %r", r)
        if not names:  # no models: probe the backend with an unknown name so readiness still reflects it
            try:
                await self.backend.model_status("__gateway_probe__")
                self.backend_error = ""
            except E.GatewayError as e:
                self.backend_error = str(e)
        for gone in set(self.records) - set(names):
            del self.records[gone]
        self.last_refresh = time.monotonic()

    async def refresh_model(self, name: str, *, seen_generation: int | None = None) -> ModelRecord | None:
        """Rebuild one model's record. With `seen_generation`, skip if another refresh replaced that record
        meanwhile (many requests failing at a swap wait for one refresh, not one each)."""
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            current = self.records.get(name)
            if seen_generation is not None and current is not None and current.generation != seen_generation:
                return current
            mc = next((c for c in self._config if c.name == name), None)
            if mc is None:
                return None
            try:
                record = await self._build(mc, current)
            except (E.BackendUnavailable, E.BackendTimeout) as e:
                if current is None:  # known model, backend down: answer 503 (not 404) until it is back
                    self._install(self._placeholder(mc, f"backend unavailable: {e}"))
                raise
            if current is None or _changed(current, record):
                self._install(record)
            return self.records[name]

    def request_refresh(self, name: str, seen_generation: int) -> None:
        """A request saw NOT_FOUND for the version its record pinned: refresh that model in the background
        (coalesced: one refresh for all the requests that saw the same record, see `refresh_model`)."""
        task = asyncio.get_running_loop().create_task(self._refresh_quietly(name, seen_generation))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _refresh_quietly(self, name: str, seen_generation: int) -> None:
        try:
            await self.refresh_model(name, seen_generation=seen_generation)
        except E.GatewayError:
            pass  # backend down: the periodic refresh records it; the waiting requests answer 503
        except Exception:
            log.exception("background refresh of model %s failed", name)

    async def wait_for_change(self, name: str, generation: int, timeout: float) -> ModelRecord | None:
        """The model's record once it is newer than `generation`, or None after `timeout` seconds."""
        current = self.records.get(name)
        if current is not None and current.generation != generation:
            return current
        event = self._changed.setdefault(name, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            return None
        return self.records.get(name)

    def _install(self, record: ModelRecord) -> None:
        self._generation += 1
        record = replace(record, generation=self._generation)
        self.records[record.name] = record
        event = self._changed.pop(record.name, None)
        if event is not None:
            event.set()
        heap.thaw()  # until the versions this change retired are freed (gateway.core.heap says why)
        if self._on_change is not None:
            self._on_change(record)

    def _placeholder(self, mc: Any, message: str) -> ModelRecord:
        family = FAMILIES.get(mc.name)
        share = self.admin.canary_share(mc.name, self.settings.canary_shares.get(mc.name, 0.0))
        status: Status = "loading" if family is not None else "unsupported"
        return ModelRecord(mc.name, family, status, {}, dict(mc.version_labels), {}, {}, (), share, message, 0, backend_down=True)

    async def _build(self, mc: Any, prev: ModelRecord | None) -> ModelRecord:
        name = mc.name
        family = FAMILIES.get(name)
        labels = dict(mc.version_labels)
        base = repo.resolve_base_path(mc.base_path, Path(self.settings.servables))
        on_disk = tuple(repo.list_versions(base))
        share = self.admin.canary_share(name, self.settings.canary_shares.get(name, 0.0))
        if family is None:
            return ModelRecord(name, None, "unsupported", {}, labels, {}, {}, on_disk, share, "no gateway family for this model", 0)
        # backend down: raises, and the previous record stays (Predict answers 503 by itself meanwhile)
        states = await self.backend.model_status(name)
        served: dict[int, ServedVersion] = {}
        problems = []
        asset_failures: dict[int, str] = {}
        for v, st in states.items():
            if st.state != "AVAILABLE":
                if st.state == "END" and st.error:
                    problems.append(f"version {v} failed to load on the backend: {st.error}")
                continue
            if prev is not None and v in prev.served:
                served[v] = prev.served[v]
                continue
            version_dir = base / str(v)
            failure = self._asset_failures.get((name, v))
            if failure and time.monotonic() - failure[0] < self.settings.asset_retry_s:
                problems.append(failure[1])
                asset_failures[v] = failure[1]
                continue
            try:
                served[v] = await self._run_blocking(self._load_version, family, name, v, version_dir)
                self._asset_failures.pop((name, v), None)
            except Exception as e:
                msg = f"assets of version {v} failed to load: {e}"
                log.error("model %s: %s", name, msg)
                self._asset_failures[(name, v)] = (time.monotonic(), msg)
                problems.append(msg)
                asset_failures[v] = msg
        effective: dict[str, int] = {}
        for label, target in labels.items():
            if target in served:
                effective[label] = target
            elif prev is not None and label in prev.effective_labels and prev.effective_labels[label] in served:
                effective[label] = prev.effective_labels[label]  # keep the old target until the new one is served
        if served:
            status: Status = "available"
        elif not on_disk and not states:
            status = "pending"
        else:
            status = "loading"
        return ModelRecord(name, family, status, served, labels, effective, states, on_disk, share, "; ".join(problems), 0,
                           asset_failures=asset_failures)

    def _load_version(self, family: AnyFamily, name: str, version: int, version_dir: Path) -> ServedVersion:
        """In the thread pool: read the manifest and the family's assets of exactly this version."""
        manifest = mf.read_manifest(version_dir)
        assets = family.load_assets(version_dir, manifest, self.settings)
        sv = ServedVersion(name, version, version_dir, manifest, assets)
        with self._live_lock:
            self._live_asset_sets += 1
        weakref.finalize(sv, self._asset_set_freed)
        if self._assets_gauge is not None:
            gauge = self._assets_gauge.labels(name, str(version))
            gauge.inc()
            weakref.finalize(sv, gauge.dec)
        log.info("model %s: assets of version %d loaded", name, version)
        return sv


    def _asset_set_freed(self) -> None:
        with self._live_lock:
            self._live_asset_sets -= 1


def _changed(a: ModelRecord, b: ModelRecord) -> bool:
    return (
        a.status != b.status
        or dict(a.served) != dict(b.served)
        or dict(a.labels) != dict(b.labels)
        or dict(a.effective_labels) != dict(b.effective_labels)
        or dict(a.backend_states) != dict(b.backend_states)
        or a.on_disk != b.on_disk
        or a.canary_share != b.canary_share
        or a.message != b.message
        or a.family is not b.family
    )
