"""Aspired-version policies: a pure function from one model's version snapshots to at most one action.

Why pure and one action at a time: the manager calls the policy on every pass and executes what it returns,
so a policy that keeps no state and is idempotent cannot get out of step with reality; each pass sees the
effect of the previous action.

The availability-preserving policy (TF Serving's default) never leaves a model with nothing to serve when
it can avoid it: a version that is no longer aspired is unloaded only once an aspired version is ready (or
when nothing is aspired at all, or when more than one non-aspired version is still ready); new aspired
versions are loaded highest first. A version that failed to load is neither retried nor allowed to push the
working one out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable, Sequence

from modelserver.harness import State


class Action(enum.Enum):
    LOAD = "load"
    UNLOAD = "unload"


@dataclass(frozen=True)
class VersionSnapshot:
    version: int
    state: State
    is_aspired: bool


@dataclass(frozen=True)
class PolicyAction:
    action: Action
    version: int


Policy = Callable[[Sequence[VersionSnapshot]], "PolicyAction | None"]


def availability_preserving(versions: Sequence[VersionSnapshot]) -> PolicyAction | None:
    has_aspired = any(v.is_aspired for v in versions)
    has_aspired_ready = any(v.is_aspired and v.state is State.READY for v in versions)
    unaspired_ready = sorted((v for v in versions if not v.is_aspired and v.state is State.READY), key=lambda v: v.version)
    if unaspired_ready and (not has_aspired or has_aspired_ready or len(unaspired_ready) > 1):
        return PolicyAction(Action.UNLOAD, unaspired_ready[0].version)
    new_aspired = [v.version for v in versions if v.is_aspired and v.state is State.NEW]
    if new_aspired:
        return PolicyAction(Action.LOAD, max(new_aspired))
    return None


def resource_preserving(versions: Sequence[VersionSnapshot]) -> PolicyAction | None:
    """Unload first, then load: for models too large to hold two versions (a gap in availability)."""
    unaspired_ready = sorted((v for v in versions if not v.is_aspired and v.state is State.READY), key=lambda v: v.version)
    if unaspired_ready:
        return PolicyAction(Action.UNLOAD, unaspired_ready[0].version)
    busy = any(v.state in (State.LOADING, State.QUIESCING, State.UNLOADING) for v in versions)
    new_aspired = [v.version for v in versions if v.is_aspired and v.state is State.NEW]
    if new_aspired and not busy:
        return PolicyAction(Action.LOAD, max(new_aspired))
    return None
