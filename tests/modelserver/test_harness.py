"""LoaderHarness: named transitions, illegal moves refused, handles counted, public states."""

import pytest

from modelserver.harness import HarnessStateError, LoaderHarness, PublicState, State


def make():
    return LoaderHarness("m", 1, loader=object())


def test_full_lifecycle_and_public_states():
    h = make()
    seen = [h.public_state]
    h.start_loading(); seen.append(h.public_state)
    h.loaded(); seen.append(h.public_state)
    h.start_quiescing(); seen.append(h.public_state)
    assert h.try_start_unloading(); seen.append(h.public_state)
    h.unloaded(); seen.append(h.public_state)
    assert seen == [PublicState.START, PublicState.LOADING, PublicState.AVAILABLE, PublicState.UNLOADING, PublicState.UNLOADING, PublicState.END]
    assert h.state is State.DISABLED


def test_load_failure_is_end_with_error():
    h = make()
    h.start_loading()
    err = RuntimeError("boom")
    h.load_failed(err)
    assert h.state is State.ERROR and h.public_state is PublicState.END and h.error is err


@pytest.mark.parametrize(
    "moves",
    [
        ["loaded"],  # NEW -> READY skips LOADING
        ["start_quiescing"],
        ["start_loading", "start_loading"],
        ["start_loading", "cancel"],
        ["unloaded"],
    ],
)
def test_illegal_transitions_raise(moves):
    h = make()
    with pytest.raises(HarnessStateError):
        for m in moves:
            getattr(h, m)()


def test_handles_block_unloading_until_released():
    h = make()
    assert not h.acquire()  # not READY yet
    h.start_loading(); h.loaded()
    assert h.acquire() and h.acquire()
    h.start_quiescing()
    assert not h.acquire()  # no new borrowers once out of the serving map
    assert not h.try_start_unloading()
    assert h.release() == 1
    assert not h.try_start_unloading()
    assert h.release() == 0
    assert h.try_start_unloading()
    with pytest.raises(HarnessStateError):
        h.release()


def test_cancel_before_load():
    h = make()
    h.cancel()
    assert h.state is State.DISABLED and h.public_state is PublicState.END
