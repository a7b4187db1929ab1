"""Admin operations: move or roll back a version label, set a canary share, reload the config.

Each change is written to models.config atomically (`common.repository.write_config` under
`RepositoryLock`, the lock exporters and servectl use) and sent to every backend replica with
HandleReloadConfigRequest — the same file TF Serving would re-read, so the two never disagree.

TF Serving's rule: a label may only point at an AVAILABLE version. Moving a label to a version the
backend does not serve (say a rollback to an older version under `latest {1}`) is therefore two steps:
first widen the version policy so the backend loads it (`latest {n}` grows to reach it, `specific` gains it,
`all` already has it), wait until it is AVAILABLE and its assets are loaded here, then set the label.
The previous target of every moved label is remembered (`.gateway-admin.json`) for rollback.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Callable

from common import labels
from common import repository as repo
from gateway import errors as E
from common.admin_state import AdminState
from gateway.backend import Backend
from gateway.core.config import Settings
from gateway.registry import Registry

POLL_S = 0.1


class Admin:
    def __init__(self, settings: Settings, backend: Backend, registry: Registry, run_blocking: Callable[..., Any]) -> None:
        self.settings = settings
        self.backend = backend
        self.registry = registry
        self._run_blocking = run_blocking
        self._lock = asyncio.Lock()  # one admin change at a time in this process; RepositoryLock across processes

    @property
    def config_path(self) -> Path:
        return self.settings.config_path

    # ---- file edits (run in the thread pool: flock and fsync block)
    def _edit(self, change: Callable[[Any, Any], Any]) -> tuple[Any, str, Any]:
        """Under the repository lock: read config, apply change(config, admin_state), write if changed.
        Returns (result, previous config text, new config)."""
        with repo.RepositoryLock(Path(self.settings.servables)):
            old_text = self.config_path.read_text()
            config = repo.parse_config_text(old_text)
            state = AdminState(Path(self.settings.servables))  # our own copy: the registry's is read on the loop
            state.reload()
            result = change(config, state)
            repo.write_config(self.config_path, config)
            state.save()
            return result, old_text, config

    def _restore(self, text: str) -> None:
        with repo.RepositoryLock(Path(self.settings.servables)):
            repo.atomic_write_text(self.config_path, text)

    async def _apply(self, change: Callable[[Any, Any], Any]) -> Any:
        result, old_text, config = await self._run_blocking(self._edit, change)
        problems = await self.backend.reload_config(config)
        if problems:
            await self._run_blocking(self._restore, old_text)
            await self.backend.reload_config(repo.parse_config_text(old_text))
            raise E.Conflict("the backend refused the new config (previous config restored): " + "; ".join(problems))
        await self.registry.refresh()
        return result

    # ---- operations
    def _model_config(self, config: Any, model: str) -> Any:
        mc = repo.model_config(config, model)
        if mc is None:
            raise E.ModelNotFound(f"model {model!r} is not in models.config")
        return mc

    def _versions_on_disk(self, mc: Any) -> list[int]:
        return list(repo.list_versions(repo.resolve_base_path(mc.base_path, Path(self.settings.servables))))

    async def move_label(self, model: str, label: str, version: int, *, remember: bool = True) -> dict[str, Any]:
        async with self._lock:
            self.registry.get(model)
            states = await self.backend.model_status(model)
            if states.get(version) is None or states[version].state != "AVAILABLE":
                await self._apply(lambda c, _s: self._widen_policy(c, model, version))
                await self._wait_available(model, version)

            def set_label(config: Any, state: Any) -> int | None:
                mc = self._model_config(config, model)
                if version not in self._versions_on_disk(mc):
                    raise E.ModelNotFound(f"model {model!r} has no version {version} on disk")
                previous = mc.version_labels.get(label)
                mc.version_labels[label] = version
                if remember and previous is not None and previous != version:
                    state.push_label(model, label, previous)
                return previous

            previous = await self._apply(set_label)
            await self._wait_effective(model, label, version)
            return {"model": model, "label": label, "version": version, "previous": previous}

    async def rollback_label(self, model: str, label: str) -> dict[str, Any]:
        self.registry.admin.reload()
        history = self.registry.admin.history(model, label)
        if not history:
            raise E.Conflict(f"label {label!r} of model {model!r} has no earlier version recorded; move it explicitly")
        target = history[-1]
        result = await self.move_label(model, label, target, remember=False)

        def pop(config: Any, state: Any) -> None:
            state.pop_label(model, label)

        async with self._lock:
            await self._run_blocking(self._edit, pop)
        return result

    async def delete_label(self, model: str, label: str) -> dict[str, Any]:
        async with self._lock:

            def drop(config: Any, _state: Any) -> int | None:
                mc = self._model_config(config, model)
                if label not in mc.version_labels:
                    raise E.ModelNotFound(f"model {model!r} has no version label {label!r}")
                previous = mc.version_labels[label]
                del mc.version_labels[label]
                return previous

            previous = await self._apply(drop)
            return {"model": model, "label": label, "version": None, "previous": previous}

    async def set_canary_share(self, model: str, share: float) -> dict[str, Any]:
        async with self._lock:
            self.registry.get(model)

            def put(config: Any, state: Any) -> None:
                self._model_config(config, model)
                state.set_canary_share(model, share)

            await self._run_blocking(self._edit, put)
            await self.registry.refresh()
            return {"model": model, "share": share}

    async def reload(self) -> dict[str, Any]:
        async with self._lock:
            config = await self._run_blocking(repo.read_config, self.config_path)
            problems = await self.backend.reload_config(config)
            if problems:
                raise E.Conflict("the backend refused models.config: " + "; ".join(problems))
            await self.registry.refresh()
            return {"models": [mc.name for mc in config.model_config_list.config]}

    # ---- helpers
    def _widen_policy(self, config: Any, model: str, version: int) -> None:
        mc = self._model_config(config, model)
        try:
            labels.widen_policy(mc, self._versions_on_disk(mc), version)
        except labels.LabelError as e:
            raise E.ModelNotFound(str(e)) from None

    async def _wait_available(self, model: str, version: int) -> None:
        deadline = time.monotonic() + self.settings.admin_load_timeout_s
        while True:
            states = await self.backend.model_status(model)
            st = states.get(version)
            if st is not None and st.state == "AVAILABLE":
                return
            if st is not None and st.state == "END" and st.error:
                raise E.Conflict(f"version {version} of model {model!r} failed to load on the backend: {st.error}")
            if time.monotonic() > deadline:
                raise E.BackendTimeout(f"version {version} of model {model!r} did not become AVAILABLE within {self.settings.admin_load_timeout_s:g} s")
            await asyncio.sleep(POLL_S)

    async def _wait_effective(self, model: str, label: str, version: int) -> None:
        deadline = time.monotonic() + self.settings.admin_load_timeout_s
        while True:
            record = await self.registry.refresh_model(model)
            if record is not None and record.effective_labels.get(label) == version:
                return
            if time.monotonic() > deadline:
                raise E.BackendTimeout(f"label {label!r} of {model!r} set, but version {version} is not served by this gateway yet")
            await asyncio.sleep(POLL_S)
