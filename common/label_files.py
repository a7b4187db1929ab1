"""The files the label rules (`common.labels`) edit: models.config and the admin state
(`<servables>/.gateway-admin.json`), read, changed and written back under the repository lock.

`edit_files` is the one transaction both callers use — the gateway's admin API between its backend steps,
and the offline path below (what `servectl` does on a stopped stack) — so a stopped and a running stack end
in byte-identical files. Each file is written only when the change changed it (TF Serving polls
models.config; an unchanged file is not a new config). The offline operations run a move's two steps in
one edit: without a server "AVAILABLE" is "on disk and within the version policy", true as soon as the
policy is widened. TF-free.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Generic, TypeVar

from common import labels
from common import repository as repo
from common.admin_state import AdminState

T = TypeVar("T")


@dataclass
class ModelFiles:
    """What one edit of one model sees: the parsed config, the model's entry, its directory, the admin state."""

    config: Any
    mc: Any
    model_dir: Path
    state: AdminState

    @property
    def on_disk(self) -> list[int]:
        return list(repo.list_versions(self.model_dir))


@dataclass
class Edited(Generic[T]):
    """The outcome of `edit_files`: the change's result, the config text before, the config after."""

    result: T
    old_text: str
    config: Any
    config_changed: bool


def model_files(servables: Path, config: Any, state: AdminState, model: str) -> ModelFiles:
    mc = labels.model_entry(config, model)
    return ModelFiles(config, mc, repo.resolve_base_path(mc.base_path, Path(servables)), state)


def edit_files(servables: Path, change: Callable[[Any, AdminState], T]) -> Edited[T]:
    """Under the repository lock: read models.config + admin state, apply `change(config, state)`, write what
    changed (atomically). A `LabelError` from `change` leaves both files untouched."""
    servables = Path(servables)
    config_path = servables / repo.CONFIG_NAME
    with repo.RepositoryLock(servables):
        old_text = config_path.read_text()
        config, before = repo.parse_config_text(old_text), repo.parse_config_text(old_text)
        state = AdminState(servables)
        state.reload()
        old_state = json.dumps(state.data, sort_keys=True)
        result = change(config, state)
        config_changed = config != before
        if config_changed:
            repo.write_config(config_path, config)
        if json.dumps(state.data, sort_keys=True) != old_state:
            state.save()
        return Edited(result, old_text, config, config_changed)


def edit(servables: Path, model: str, change: Callable[[ModelFiles], T]) -> T:
    """`edit_files` for one model (LabelNotFound if it is not in models.config)."""
    return edit_files(servables, lambda config, state: change(model_files(servables, config, state, model))).result


def read(servables: Path, model: str) -> ModelFiles:
    """A read-only snapshot (no lock needed: both files are replaced atomically)."""
    servables = Path(servables)
    config = repo.read_config(servables / repo.CONFIG_NAME)
    state = AdminState(servables)
    state.reload()
    return model_files(servables, config, state, model)


# ---------------------------------------------------------------- the offline path (stopped stack)
def move_label(servables: Path, model: str, label: str, version: int) -> dict[str, Any]:
    def change(f: ModelFiles) -> dict[str, Any]:
        labels.widen_policy(f.mc, f.on_disk, version)
        return labels.move_label(f.mc, f.state, label, version, on_disk=f.on_disk,
                                 available=labels.offline_available(f.mc, f.on_disk)).as_dict()

    return edit(servables, model, change)


def rollback_label(servables: Path, model: str, label: str = labels.STABLE) -> dict[str, Any]:
    def change(f: ModelFiles) -> dict[str, Any]:
        labels.widen_policy(f.mc, f.on_disk, labels.rollback_target(f.mc, f.state, label, on_disk=f.on_disk))
        return labels.rollback_label(f.mc, f.state, label, on_disk=f.on_disk,
                                     available=labels.offline_available(f.mc, f.on_disk)).as_dict()

    return edit(servables, model, change)


def delete_label(servables: Path, model: str, label: str) -> dict[str, Any]:
    return edit(servables, model, lambda f: labels.delete_label(f.mc, f.state, label).as_dict())


def set_canary_share(servables: Path, model: str, share: float) -> dict[str, Any]:
    labels.check_share(share)  # before taking the lock: a refused value touches nothing
    return edit(servables, model, lambda f: labels.set_canary_share(f.mc, f.state, share))
