"""The manager stepped by hand (no thread, loads inside step()): deterministic, no sleeps, no TensorFlow."""

from pathlib import Path

import pytest

from modelserver.errors import ServableNotFound
from modelserver.harness import PublicState, State
from modelserver.manager import AspiredVersionsManager, ManagerOptions, ServableRequest
from modelserver.source import AspiredVersion, AspiredVersions
from modelserver.status import ServableStateMonitor
from tests.utils.fake_loader import FakeLoaderFactory


@pytest.fixture
def fake():
    return FakeLoaderFactory()


@pytest.fixture
def monitor():
    return ServableStateMonitor()


@pytest.fixture
def manager(fake, monitor):
    return AspiredVersionsManager(fake, monitor, ManagerOptions(manage_state_interval_seconds=0, num_load_threads=0))


def aspire(manager, model, *versions):
    manager.set_aspired_versions(AspiredVersions(model, tuple(AspiredVersion(v, Path(f"/x/{v}")) for v in versions)))


def settle(manager, passes=6):
    for _ in range(passes):
        manager.step()


def states(monitor, model):
    return {v: e.state for v, e in monitor.version_states(model).items()}


def test_request_rendering_is_tf_servings_text():
    assert str(ServableRequest.latest("antispam")) == "Latest(antispam)"
    assert str(ServableRequest.specific("antispam", 3)) == "Specific(antispam, 3)"
    assert str(ServableNotFound(ServableRequest.specific("m", 3))) == "Servable not found for request: Specific(m, 3)"


def test_unknown_or_not_yet_loaded_model_is_not_found(manager):
    with pytest.raises(ServableNotFound, match=r"^Servable not found for request: Latest\(m\)$"):
        manager.get_handle(ServableRequest.latest("m"))
    aspire(manager, "m", 1)
    with pytest.raises(ServableNotFound):
        manager.get_handle(ServableRequest.latest("m"))  # aspired but not stepped: not loaded yet


def test_loads_and_serves_latest_and_specific(manager, monitor, fake):
    aspire(manager, "m", 1, 2)
    settle(manager)
    assert fake.loaded == {("m", 1), ("m", 2)}
    with manager.get_handle(ServableRequest.latest("m")) as h:
        assert (h.version, h.servable) == (2, {"model": "m", "version": 2})
    with manager.get_handle(ServableRequest.specific("m", 1)) as h:
        assert h.version == 1
    with pytest.raises(ServableNotFound, match=r"Specific\(m, 3\)"):
        manager.get_handle(ServableRequest.specific("m", 3))
    assert states(monitor, "m") == {2: PublicState.AVAILABLE, 1: PublicState.AVAILABLE}


def test_swap_loads_new_before_unloading_old(manager, monitor, fake):
    aspire(manager, "m", 1)
    settle(manager)
    aspire(manager, "m", 2)
    manager.step()  # takes in the request, loads 2 (inline)
    assert fake.loaded == {("m", 1), ("m", 2)}
    assert manager.serving_versions("m") == [1, 2]
    manager.step()  # now 2 is ready: unload 1
    assert fake.loaded == {("m", 2)}
    assert fake.load_calls == [("m", 1), ("m", 2)] and fake.unload_calls == [("m", 1)]
    assert states(monitor, "m") == {2: PublicState.AVAILABLE, 1: PublicState.END}


def test_in_flight_handle_delays_unload_until_released(manager, monitor, fake):
    aspire(manager, "m", 1)
    settle(manager)
    held = manager.get_handle(ServableRequest.latest("m"))
    aspire(manager, "m", 2)
    settle(manager)
    # 1 is out of the serving map (new requests get 2) but still loaded for the request that holds it.
    assert manager.serving_versions("m") == [2]
    assert fake.loaded == {("m", 1), ("m", 2)}
    assert monitor.state("m", 1).state is PublicState.UNLOADING
    assert held.servable == {"model": "m", "version": 1}
    with manager.get_handle(ServableRequest.latest("m")) as h:
        assert h.version == 2
    held.release()
    held.release()  # idempotent
    manager.step()
    assert fake.loaded == {("m", 2)}
    assert monitor.state("m", 1).state is PublicState.END


def test_failed_load_keeps_previous_version_serving(manager, monitor, fake):
    aspire(manager, "m", 1)
    settle(manager)
    fake.fail[("m", 2)] = "corrupt saved_model.pb"
    aspire(manager, "m", 2)
    settle(manager)
    assert manager.serving_versions("m") == [1]
    event = monitor.state("m", 2)
    assert event.state is PublicState.END and event.error_message == "corrupt saved_model.pb" and event.error_code == "UNKNOWN"
    assert fake.load_calls.count(("m", 2)) == 1  # not retried on every pass
    # A good newer version replaces both.
    aspire(manager, "m", 3)
    settle(manager)
    assert manager.serving_versions("m") == [3]
    assert states(monitor, "m") == {3: PublicState.AVAILABLE, 2: PublicState.END, 1: PublicState.END}
    assert manager.harness_states("m") == {3: State.READY}


def test_version_removed_before_loading_is_cancelled(fake, monitor):
    manager = AspiredVersionsManager(fake, monitor, ManagerOptions(manage_state_interval_seconds=0, num_load_threads=0))
    aspire(manager, "m", 1, 2)
    manager.step()  # loads only the highest (one action per pass)
    assert fake.load_calls == [("m", 2)]
    aspire(manager, "m", 2)
    settle(manager)
    assert fake.load_calls == [("m", 2)]
    assert monitor.state("m", 1).state is PublicState.END


def test_empty_aspired_set_unloads_everything(manager, monitor, fake):
    aspire(manager, "m", 1)
    settle(manager)
    aspire(manager, "m")
    settle(manager)
    assert fake.loaded == set() and manager.serving_versions("m") == []
    with pytest.raises(ServableNotFound):
        manager.get_handle(ServableRequest.latest("m"))
    assert manager.harness_states("m") == {}


def test_newer_request_replaces_pending_one(manager, fake):
    aspire(manager, "m", 1)
    aspire(manager, "m", 5)
    settle(manager)
    assert fake.load_calls == [("m", 5)]


def test_source_error_item_keeps_current_versions(manager, fake):
    aspire(manager, "m", 1)
    settle(manager)
    manager.set_aspired_versions(AspiredVersions("m", error="cannot list"))
    settle(manager)
    assert manager.serving_versions("m") == [1]


def test_reaspired_after_unload_loads_again(manager, fake):
    aspire(manager, "m", 1)
    settle(manager)
    aspire(manager, "m")
    settle(manager)
    aspire(manager, "m", 1)
    settle(manager)
    assert manager.serving_versions("m") == [1]
    assert fake.load_calls == [("m", 1), ("m", 1)]


def test_threaded_loop_and_loader_pool(fake, monitor):
    """The same behaviour with the real loop thread and a load thread (waits on the monitor, no sleeps)."""
    import threading

    gate = threading.Event()
    fake.block[("m", 2)] = gate
    manager = AspiredVersionsManager(fake, monitor, ManagerOptions(manage_state_interval_seconds=0.01, num_load_threads=1))
    manager.start()
    try:
        aspire(manager, "m", 1)
        assert monitor.wait_for(lambda: monitor.available_versions("m") == [1], 30)
        aspire(manager, "m", 2)
        assert monitor.wait_for(lambda: getattr(monitor.state("m", 2), "state", None) is PublicState.LOADING, 30)
        with manager.get_handle(ServableRequest.latest("m")) as h:  # requests never wait for a load
            assert h.version == 1
        gate.set()
        assert monitor.wait_for(lambda: monitor.available_versions("m") == [2], 30)
        assert monitor.wait_for(lambda: monitor.state("m", 1).state is PublicState.END, 30)
    finally:
        manager.stop()
    assert fake.loaded == set()
