"""Version-label rules shared by `servectl` when no gateway runs (a stopped stack): move a label, roll it
back, set a canary share, choose versions to garbage-collect — on models.config and the gateway's admin
state file (`common.admin_state.AdminState`, `<servables>/.gateway-admin.json`) directly.

Same rules as the gateway's admin API (`gateway/admin.py`), so a stopped and a running stack end in the
same files: a label may only point at a version that would be AVAILABLE, which without a server means
"exists on disk and is within the version policy"; a version outside the policy is first brought into it
(`latest {n}` grows to reach it, `specific` gains it, `all` has it) — the two-step move collapses into one
write because there is no server to wait for. The label's previous target is pushed on the admin state's
label history, which `rollback` pops. TF-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from common import repository as repo
from common.admin_state import AdminState

STABLE, CANARY = "stable", "canary"


class LabelError(ValueError):
    """A refused label change; the message says what was wrong and what is possible."""


@dataclass
class ModelFiles:
    """What one edit sees: the parsed config, the model's entry, its directory and the admin state."""

    config: Any
    mc: Any
    model_dir: Path
    state: AdminState

    @property
    def on_disk(self) -> list[int]:
        return list(repo.list_versions(self.model_dir))


def edit(servables: Path, model: str, change: Callable[[ModelFiles], Any]) -> Any:
    """Under the repository lock: read models.config + admin state, apply `change`, write both atomically."""
    servables = Path(servables)
    config_path = servables / repo.CONFIG_NAME
    with repo.RepositoryLock(servables):
        config = repo.read_config(config_path)
        mc = repo.model_config(config, model)
        if mc is None:
            known = [m.name for m in config.model_config_list.config]
            raise LabelError(f"model {model!r} is not in {config_path}; models: {known}")
        state = AdminState(servables)
        state.reload()
        files = ModelFiles(config, mc, repo.resolve_base_path(mc.base_path, servables), state)
        result = change(files)
        repo.write_config(config_path, config)
        state.save()
        return result


def read(servables: Path, model: str) -> ModelFiles:
    """A read-only snapshot (no lock needed: both files are replaced atomically)."""
    servables = Path(servables)
    config = repo.read_config(servables / repo.CONFIG_NAME)
    mc = repo.model_config(config, model)
    if mc is None:
        raise LabelError(f"model {model!r} is not in {servables / repo.CONFIG_NAME}")
    state = AdminState(servables)
    state.reload()
    return ModelFiles(config, mc, repo.resolve_base_path(mc.base_path, servables), state)


def versions_in_policy(mc: Any, on_disk: list[int]) -> list[int]:
    """The versions a server would load under the model's version policy (TF Serving's default: latest 1)."""
    policy = mc.model_version_policy
    which = policy.WhichOneof("policy_choice")
    if which == "all":
        return sorted(on_disk)
    if which == "specific":
        return sorted(v for v in on_disk if v in set(policy.specific.versions))
    n = policy.latest.num_versions if which == "latest" and policy.latest.num_versions else 1
    return sorted(on_disk)[-n:]


def widen_policy(mc: Any, on_disk: list[int], version: int) -> bool:
    """Bring `version` into the policy so the server loads it (the first step of a two-step label move, used
    by the gateway's admin API and by servectl on a stopped stack); True if changed."""
    if version not in on_disk:
        raise LabelError(f"model {mc.name!r} has no version {version} on disk; versions: {on_disk}")
    policy = mc.model_version_policy
    which = policy.WhichOneof("policy_choice")
    if which == "all":
        return False
    if which == "specific":
        if version in policy.specific.versions:
            return False
        policy.specific.versions.append(version)
        return True
    need = len([v for v in on_disk if v >= version])
    current = policy.latest.num_versions or 1
    if need <= current:
        return False
    policy.latest.num_versions = need
    return True


def move_label(servables: Path, model: str, label: str, version: int, *, remember: bool = True) -> dict[str, Any]:
    def change(f: ModelFiles) -> dict[str, Any]:
        widen_policy(f.mc, f.on_disk, version)
        previous = f.mc.version_labels[label] if label in f.mc.version_labels else None
        f.mc.version_labels[label] = version
        if remember and previous is not None and previous != version:
            f.state.push_label(model, label, previous)
        return {"model": model, "label": label, "version": version, "previous": previous}

    return edit(servables, model, change)


def rollback_label(servables: Path, model: str, label: str = STABLE) -> dict[str, Any]:
    def change(f: ModelFiles) -> dict[str, Any]:
        stack = f.state.history(model, label)
        if not stack:
            raise LabelError(f"label {label!r} of model {model!r} has no earlier version recorded; move it explicitly")
        target = stack[-1]
        widen_policy(f.mc, f.on_disk, target)
        previous = f.mc.version_labels[label] if label in f.mc.version_labels else None
        f.mc.version_labels[label] = target
        f.state.pop_label(model, label)
        return {"model": model, "label": label, "version": target, "previous": previous}

    return edit(servables, model, change)


def delete_label(servables: Path, model: str, label: str) -> dict[str, Any]:
    def change(f: ModelFiles) -> dict[str, Any]:
        if label not in f.mc.version_labels:
            raise LabelError(f"model {model!r} has no version label {label!r}")
        previous = f.mc.version_labels[label]
        del f.mc.version_labels[label]
        return {"model": model, "label": label, "version": None, "previous": previous}

    return edit(servables, model, change)


def set_canary_share(servables: Path, model: str, share: float) -> dict[str, Any]:
    if not 0.0 <= share <= 1.0:
        raise LabelError(f"canary share must be within 0..1, got {share}")

    def change(f: ModelFiles) -> dict[str, Any]:
        f.state.set_canary_share(model, share)
        return {"model": model, "share": share}

    return edit(servables, model, change)


def gc_plan(on_disk: list[int], labelled: set[int], keep: int, in_use: set[int], rollback_targets: set[int]) -> tuple[list[int], dict[int, str]]:
    """Which versions to delete: all but the newest `keep`, minus any a label points at, any the label
    history could roll back to, and any in use. Returns (delete, {kept version: why})."""
    newest = set(sorted(on_disk)[-keep:]) if keep > 0 else set()
    delete, kept = [], {}
    for v in sorted(on_disk):
        if v in labelled:
            kept[v] = "labelled"
        elif v in newest:
            kept[v] = f"among the newest {keep}"
        elif v in in_use:
            kept[v] = "loaded / in use"
        elif v in rollback_targets:
            kept[v] = "rollback target"
        else:
            delete.append(v)
    return delete, kept
