"""Admin operations on a running stack: move, roll back or remove a version label, set a canary share,
reload the config.

The decisions are `common.labels`' (the same rules and messages as `servectl` on a stopped stack); the
files are edited with `common.label_files.edit_files` (under `RepositoryLock`, the lock exporters and
servectl use); this module adds what only a running stack has: the backend. Every config change is sent to
every backend replica with HandleReloadConfigRequest — the same file TF Serving would re-read, so the two
never disagree; if a replica refuses, the previous file is restored (409).

TF Serving's rule: a label may only point at an AVAILABLE version, so a move is two steps: widen the
version policy (`labels.widen_policy`) and reload, wait until the backend reports the version AVAILABLE,
then set the label (`labels.move_label`, given the backend's AVAILABLE versions) and wait until this
gateway serves it. A rollback is the same two steps towards the top of the label's history.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Callable

from common import label_files
from common import labels
from common import repository as repo
from gateway import errors as E
from gateway.backend import Backend
from gateway.core.config import Settings
from gateway.registry import Registry

POLL_S = 0.1


def domain_error(e: labels.LabelError) -> E.GatewayError:
    """A refused label change as the gateway's error (404 / 409 / 422), message unchanged."""
    if isinstance(e, labels.LabelNotFound):
        return E.ModelNotFound(str(e))
    if isinstance(e, labels.InvalidShare):
        return E.InvalidInput(str(e))
    return E.Conflict(str(e))


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
    def _edit(self, model: str, change: Callable[[label_files.ModelFiles], Any]) -> label_files.Edited[Any]:
        servables = Path(self.settings.servables)
        try:
            return label_files.edit_files(servables, lambda c, s: change(label_files.model_files(servables, c, s, model)))
        except labels.LabelError as e:
            raise domain_error(e) from None

    def _restore(self, text: str) -> None:
        with repo.RepositoryLock(Path(self.settings.servables)):
            repo.atomic_write_text(self.config_path, text)

    async def _apply(self, model: str, change: Callable[[label_files.ModelFiles], Any], *, always_reload: bool = True) -> label_files.Edited[Any]:
        """Edit the files, then send the config to the backend (restoring the old file if it refuses)."""
        edited = await self._run_blocking(self._edit, model, change)
        if always_reload or edited.config_changed:
            problems = await self.backend.reload_config(edited.config)
            if problems:
                await self._run_blocking(self._restore, edited.old_text)
                await self.backend.reload_config(repo.parse_config_text(edited.old_text))
                raise E.Conflict("the backend refused the new config (previous config restored): " + "; ".join(problems))
            await self.registry.refresh()
        return edited

    def _rollback_target(self, model: str, label: str) -> int:
        try:
            files = label_files.read(Path(self.settings.servables), model)
            return labels.rollback_target(files.mc, files.state, label, on_disk=files.on_disk)
        except labels.LabelError as e:
            raise domain_error(e) from None

    # ---- operations
    async def move_label(self, model: str, label: str, version: int) -> dict[str, Any]:
        async with self._lock:
            await self._load(model, version)
            available = await self._available(model)
            change = (await self._apply(model, lambda f: labels.move_label(f.mc, f.state, label, version, on_disk=f.on_disk, available=available))).result
            await self._wait_effective(model, label, version)
            return change.as_dict()

    async def rollback_label(self, model: str, label: str) -> dict[str, Any]:
        async with self._lock:
            target = await self._run_blocking(self._rollback_target, model, label)
            await self._load(model, target)
            available = await self._available(model)
            change = (await self._apply(model, lambda f: labels.rollback_label(f.mc, f.state, label, on_disk=f.on_disk, available=available))).result
            await self._wait_effective(model, label, change.version)
            return change.as_dict()

    async def delete_label(self, model: str, label: str) -> dict[str, Any]:
        async with self._lock:
            change = (await self._apply(model, lambda f: labels.delete_label(f.mc, f.state, label))).result
            return change.as_dict()

    async def set_canary_share(self, model: str, share: float) -> dict[str, Any]:
        try:
            labels.check_share(share)
        except labels.LabelError as e:
            raise domain_error(e) from None
        async with self._lock:
            edited = await self._run_blocking(self._edit, model, lambda f: labels.set_canary_share(f.mc, f.state, share))
            await self.registry.refresh()
            return edited.result

    async def reload(self) -> dict[str, Any]:
        async with self._lock:
            config = await self._run_blocking(repo.read_config, self.config_path)
            problems = await self.backend.reload_config(config)
            if problems:
                raise E.Conflict("the backend refused models.config: " + "; ".join(problems))
            await self.registry.refresh()
            return {"models": [mc.name for mc in config.model_config_list.config]}

    # ---- the backend side of a two-step move
    def _widen_policy(self, config: Any, model: str, version: int) -> bool:
        """Step 1 on a parsed config (the rule, with the gateway's errors)."""
        try:
            mc = labels.model_entry(config, model)
            on_disk = list(repo.list_versions(repo.resolve_base_path(mc.base_path, Path(self.settings.servables))))
            return labels.widen_policy(mc, on_disk, version)
        except labels.LabelError as e:
            raise domain_error(e) from None

    async def _load(self, model: str, version: int) -> None:
        """Step 1: the version into the version policy (a reload only if that changed it), then wait until
        the backend reports it AVAILABLE. Always run, so the files end as the offline path leaves them even
        when the backend already serves the version. If the version fails to load, step 1 is taken back
        (a version that cannot load is not left in the policy); a timeout leaves it loading for a retry."""
        edited = await self._apply(model, lambda f: self._widen_policy(f.config, model, version), always_reload=False)
        try:
            await self._wait_available(model, version)
        except E.Conflict as e:
            if edited.config_changed and await self._run_blocking(self._undo, edited):
                await self.backend.reload_config(repo.parse_config_text(edited.old_text))
                await self.registry.refresh()
                raise E.Conflict(f"{e.message}; the version policy is restored") from None
            raise

    def _undo(self, edited: label_files.Edited[Any]) -> bool:
        """Put back the config before `edited` if nobody changed the file since; True if done."""
        with repo.RepositoryLock(Path(self.settings.servables)):
            if self.config_path.read_text() != repo.format_config(edited.config):
                return False
            repo.atomic_write_text(self.config_path, edited.old_text)
            return True

    async def _available(self, model: str) -> set[int]:
        return {v for v, st in (await self.backend.model_status(model)).items() if st.state == "AVAILABLE"}

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

    async def _wait_effective(self, model: str, label: str, version: int | None) -> None:
        deadline = time.monotonic() + self.settings.admin_load_timeout_s
        while True:
            record = await self.registry.refresh_model(model)
            if record is not None and record.effective_labels.get(label) == version:
                return
            if time.monotonic() > deadline:
                raise E.BackendTimeout(f"label {label!r} of {model!r} set, but version {version} is not served by this gateway yet")
            await asyncio.sleep(POLL_S)
