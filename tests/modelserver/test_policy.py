"""The availability-preserving policy as a table: version snapshots in, at most one action out."""

import pytest

from modelserver.harness import State
from modelserver.policy import Action, PolicyAction, VersionSnapshot, availability_preserving, resource_preserving

N, L, R, Q, U, D, E = State.NEW, State.LOADING, State.READY, State.QUIESCING, State.UNLOADING, State.DISABLED, State.ERROR


def snaps(*rows):
    return [VersionSnapshot(v, s, a) for v, s, a in rows]


CASES = {
    # name: (snapshots (version, state, aspired), expected action or None)
    "loads_new_aspired": ([(1, N, True)], PolicyAction(Action.LOAD, 1)),
    "loads_highest_new_aspired_first": ([(1, N, True), (3, N, True), (2, N, True)], PolicyAction(Action.LOAD, 3)),
    "keeps_old_until_new_ready": ([(1, R, False), (2, L, True)], None),
    "loads_new_while_old_serves": ([(1, R, False), (2, N, True)], PolicyAction(Action.LOAD, 2)),
    "unloads_old_once_new_ready": ([(1, R, False), (2, R, True)], PolicyAction(Action.UNLOAD, 1)),
    "unloads_non_aspired_first": ([(1, R, False), (2, R, True), (3, N, True)], PolicyAction(Action.UNLOAD, 1)),
    "unloads_when_nothing_aspired": ([(1, R, False)], PolicyAction(Action.UNLOAD, 1)),
    "unloads_lowest_of_several_unaspired": ([(2, R, False), (1, R, False), (3, L, True)], PolicyAction(Action.UNLOAD, 1)),
    "failed_new_version_does_not_unload_old": ([(1, R, False), (2, E, True)], None),
    "failed_version_is_not_retried": ([(2, E, True)], None),
    "does_nothing_while_unloading": ([(1, Q, False), (2, R, True)], None),
    "ignores_disabled": ([(1, D, False), (2, R, True)], None),
    "steady_state": ([(2, R, True)], None),
    "empty": ([], None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_availability_preserving(name):
    rows, expected = CASES[name]
    assert availability_preserving(snaps(*rows)) == expected


def test_policy_is_pure_and_idempotent():
    rows = snaps((1, R, False), (2, N, True))
    assert availability_preserving(rows) == availability_preserving(rows) == PolicyAction(Action.LOAD, 2)
    assert [s.state for s in rows] == [R, N]


RESOURCE_CASES = {
    "unloads_before_loading": ([(1, R, False), (2, N, True)], PolicyAction(Action.UNLOAD, 1)),
    "loads_when_nothing_else_busy": ([(1, D, False), (2, N, True)], PolicyAction(Action.LOAD, 2)),
    "waits_while_unloading": ([(1, Q, False), (2, N, True)], None),
}


@pytest.mark.parametrize("name", sorted(RESOURCE_CASES))
def test_resource_preserving(name):
    rows, expected = RESOURCE_CASES[name]
    assert resource_preserving(snaps(*rows)) == expected
