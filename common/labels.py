"""THE version-label rules (TF Serving's): pure functions on a parsed models.config entry and the admin
state, used by the gateway's admin API (`gateway/admin.py`, running stack) and by the offline path
(`common/label_files.py`, what `servectl` does on a stopped stack), so both end in the same files.

- A label points only at an AVAILABLE version. Who knows what is AVAILABLE differs, the rule does not:
  the caller passes `available` — the backend's AVAILABLE versions on a running stack, the versions on disk
  within the version policy (`offline_available`) on a stopped one.
- A move is two steps: `widen_policy` brings the target into the version policy (`latest {n}` grows to reach
  it, `specific` gains it, `all` has it), the server loads it, then `move_label` sets the label. The gateway
  waits between the steps; the offline path has no server to wait for and runs both in one edit.
- Every move remembers the label's previous target on the admin state's history; `rollback_label` moves
  the label to the top of that history and pops it (it pushes nothing: a rollback undoes the last move).
  No history is a refusal, never a guess.
- A canary share is a fraction of unpinned requests within 0..1 (`check_share`), everywhere: admin API,
  `GATEWAY_CANARY_SHARES`, the admin state file, the CLI, history records, the `gateway_canary_share` gauge.

Functions mutate the `ModelConfig` entry and `AdminState` they are given (the caller reads and writes the
files under the repository lock) and raise `LabelError` subclasses whose message says what was wrong and
what is possible; the HTTP edge maps `LabelNotFound` to 404, `LabelConflict` to 409, `InvalidShare` to 422.
No I/O, no TensorFlow.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Iterable

from common.admin_state import AdminState

STABLE, CANARY = "stable", "canary"
SHARE_UNIT = "a fraction of unpinned requests within 0..1 (0.1 = 10 %)"


class LabelError(ValueError):
    """A refused label change; the message says what was wrong and what is possible."""


class LabelNotFound(LabelError):
    """The model, version or label does not exist."""


class LabelConflict(LabelError):
    """The change is well-formed but the current state forbids it (no history, version not AVAILABLE)."""


class InvalidShare(LabelError):
    """A canary share outside 0..1 (or not a number)."""


@dataclass(frozen=True)
class LabelChange:
    """What a label edit did; `version` None = the label was removed."""

    model: str
    label: str
    version: int | None
    previous: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- looking up
def model_entry(config: Any, model: str) -> Any:
    """The model's `ModelConfig` in a parsed models.config."""
    for mc in config.model_config_list.config:
        if mc.name == model:
            return mc
    known = [mc.name for mc in config.model_config_list.config]
    raise LabelNotFound(f"model {model!r} is not in models.config; models: {known}")


def label_target(mc: Any, label: str) -> int | None:
    return mc.version_labels[label] if label in mc.version_labels else None


def versions_in_policy(mc: Any, on_disk: Iterable[int]) -> list[int]:
    """The versions a server loads under the model's version policy (TF Serving's default: latest 1)."""
    on_disk = sorted(on_disk)
    policy = mc.model_version_policy
    which = policy.WhichOneof("policy_choice")
    if which == "all":
        return on_disk
    if which == "specific":
        wanted = set(policy.specific.versions)
        return [v for v in on_disk if v in wanted]
    n = policy.latest.num_versions if which == "latest" and policy.latest.num_versions else 1
    return on_disk[-n:]


def offline_available(mc: Any, on_disk: Iterable[int]) -> set[int]:
    """What "AVAILABLE" means without a server: on disk and within the version policy."""
    return set(versions_in_policy(mc, on_disk))


def _require_on_disk(mc: Any, on_disk: Iterable[int], version: int) -> None:
    on_disk = sorted(on_disk)
    if version not in on_disk:
        raise LabelNotFound(f"model {mc.name!r} has no version {version} on disk; versions: {on_disk}")


# ---------------------------------------------------------------- label moves
def widen_policy(mc: Any, on_disk: Iterable[int], version: int) -> bool:
    """Step 1 of a move: bring `version` into the version policy so the server loads it; True if changed.
    `latest {n}` grows just enough to reach it (and keeps following new publishes)."""
    on_disk = sorted(on_disk)
    _require_on_disk(mc, on_disk, version)
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
    if need <= (policy.latest.num_versions or 1):
        return False
    policy.latest.num_versions = need
    return True


def _require_available(mc: Any, version: int, available: Iterable[int]) -> None:
    available = sorted(available)
    if version not in available:
        raise LabelConflict(
            f"version {version} of model {mc.name!r} is not AVAILABLE (available: {available}); a label may only "
            f"point at an AVAILABLE version: bring it into the version policy and let the server load it first"
        )


def move_label(mc: Any, state: AdminState, label: str, version: int, *, on_disk: Iterable[int], available: Iterable[int]) -> LabelChange:
    """Step 2 of a move: point `label` at `version`, which must be AVAILABLE; the previous target (if another
    version) is pushed on the label's history for `rollback_label`."""
    _require_on_disk(mc, on_disk, version)
    _require_available(mc, version, available)
    previous = label_target(mc, label)
    mc.version_labels[label] = version
    if previous is not None and previous != version:
        state.push_label(mc.name, label, previous)
    return LabelChange(mc.name, label, version, previous)


def rollback_target(mc: Any, state: AdminState, label: str, *, on_disk: Iterable[int]) -> int:
    """The version a rollback of `label` moves to: the top of its history (which must still be on disk)."""
    stack = state.history(mc.name, label)
    if not stack:
        raise LabelConflict(f"label {label!r} of model {mc.name!r} has no earlier version recorded; move it explicitly")
    target = stack[-1]
    on_disk = sorted(on_disk)
    if target not in on_disk:
        raise LabelNotFound(
            f"label {label!r} of model {mc.name!r} would roll back to version {target}, which is no longer on disk "
            f"(versions: {on_disk}); move it explicitly"
        )
    return target


def rollback_label(mc: Any, state: AdminState, label: str, *, on_disk: Iterable[int], available: Iterable[int]) -> LabelChange:
    """Step 2 of a rollback: move `label` to the top of its history and pop it, in one edit (no push)."""
    target = rollback_target(mc, state, label, on_disk=on_disk)
    _require_available(mc, target, available)
    previous = label_target(mc, label)
    mc.version_labels[label] = target
    state.pop_label(mc.name, label)
    return LabelChange(mc.name, label, target, previous)


def delete_label(mc: Any, state: AdminState, label: str) -> LabelChange:
    """Remove `label` (its history stays: a later move pushes onto it as usual)."""
    if label not in mc.version_labels:
        raise LabelNotFound(f"model {mc.name!r} has no version label {label!r}; labels: {sorted(mc.version_labels)}")
    previous = mc.version_labels[label]
    del mc.version_labels[label]
    return LabelChange(mc.name, label, None, previous)


# ---------------------------------------------------------------- canary share
def check_share(share: Any) -> float:
    """`share` as a float within 0..1, else InvalidShare naming the unit."""
    if isinstance(share, bool) or not isinstance(share, (int, float)) or math.isnan(share) or not 0.0 <= share <= 1.0:
        shown = f"{share:g}" if isinstance(share, (int, float)) and not isinstance(share, bool) else repr(share)
        raise InvalidShare(f"canary share must be {SHARE_UNIT}, got {shown}")
    return float(share)


def set_canary_share(mc: Any, state: AdminState, share: Any) -> dict[str, Any]:
    """The share of unpinned requests sent to the `canary` label (0 = none); kept in the admin state."""
    value = check_share(share)
    state.set_canary_share(mc.name, value)
    return {"model": mc.name, "share": value}


# ---------------------------------------------------------------- publishing and garbage collection
def keep_labelled_loaded(mc: Any, on_disk: Iterable[int]) -> int | None:
    """Before a new version is published: grow `latest {n}` by what it takes for every labelled version to
    stay in the policy once version max+1 appears (else the server would unload a labelled version).
    Returns the new n, None if nothing changed (or the policy is `specific`/`all`, which a publish leaves alone)."""
    labelled = set(mc.version_labels.values())
    policy = mc.model_version_policy
    if not labelled or policy.WhichOneof("policy_choice") not in (None, "latest"):
        return None
    on_disk = list(on_disk)
    future = on_disk + [max(on_disk, default=0) + 1]
    need = len([v for v in future if v >= min(labelled)])
    if need <= (policy.latest.num_versions or 1):
        return None
    policy.latest.num_versions = need
    return need


def rollback_targets(state: AdminState, model: str) -> set[int]:
    """The version each label of `model` would roll back to (gc keeps them)."""
    return {stack[-1] for stack in state.data["label_history"].get(model, {}).values() if stack}


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


def narrow_policy(mc: Any, on_disk: Iterable[int], drop: set[int]) -> bool:
    """Take `drop` out of the version policy so the server unloads them (step 1 of gc); `latest {n}` shrinks
    when the dropped versions are the oldest in it, else it becomes `specific` with the remaining versions."""
    if set(mc.version_labels.values()) & drop:
        raise LabelConflict(f"versions {sorted(set(mc.version_labels.values()) & drop)} of model {mc.name!r} are labelled; move the labels first")
    on_disk = sorted(on_disk)
    loaded = versions_in_policy(mc, on_disk)
    remaining = [v for v in loaded if v not in drop]
    if remaining == loaded:
        return False
    which = mc.model_version_policy.WhichOneof("policy_choice")
    if which in (None, "latest") and remaining and remaining == on_disk[-len(remaining):]:
        mc.model_version_policy.latest.num_versions = len(remaining)
        return True
    mc.model_version_policy.specific.Clear()
    mc.model_version_policy.specific.SetInParent()
    mc.model_version_policy.specific.versions.extend(remaining)  # setting `specific` clears the oneof's other member
    return True


def forget_versions(state: AdminState, model: str, removed: Iterable[int]) -> None:
    """Drop deleted versions from every label history of `model` (a rollback must never target them)."""
    gone = set(removed)
    for stack in state.data["label_history"].get(model, {}).values():
        stack[:] = [v for v in stack if v not in gone]
