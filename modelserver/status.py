"""The servable state monitor: remembers the last published state of every (model, version) and answers
GetModelStatus from it (TF Serving's ServableStateMonitor + get_model_status_impl).

Why a separate observer: the manager only publishes events; status readers never look at manager
internals, and a version that was unloaded or failed stays visible (END, with its error) after the manager
has forgotten it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from modelserver.errors import NotFound
from modelserver.harness import PublicState


@dataclass(frozen=True)
class ServableStateEvent:
    model: str
    version: int
    state: PublicState
    error_code: str = "OK"  # a status code name; OK unless the version failed
    error_message: str = ""
    time: float = 0.0


class ServableStateMonitor:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._states: dict[str, dict[int, ServableStateEvent]] = {}
        self._listeners: list[Callable[[ServableStateEvent], None]] = []

    def add_listener(self, listener: Callable[[ServableStateEvent], None]) -> None:
        self._listeners.append(listener)

    def publish(self, event: ServableStateEvent) -> None:
        if not event.time:
            event = ServableStateEvent(event.model, event.version, event.state, event.error_code, event.error_message, time.time())
        with self._lock:
            self._states.setdefault(event.model, {})[event.version] = event
            self._lock.notify_all()
        for listener in self._listeners:
            listener(event)

    def state(self, model: str, version: int) -> ServableStateEvent | None:
        with self._lock:
            return self._states.get(model, {}).get(version)

    def version_states(self, model: str) -> dict[int, ServableStateEvent]:
        """All known versions of a model, highest first (TF Serving orders its version map descending)."""
        with self._lock:
            versions = dict(self._states.get(model, {}))
        return dict(sorted(versions.items(), reverse=True))

    def available_versions(self, model: str) -> list[int]:
        return sorted(v for v, e in self.version_states(model).items() if e.state is PublicState.AVAILABLE)

    def get_model_status(self, model: str, version: int | None) -> list[ServableStateEvent]:
        """GetModelStatus semantics: one version, or every known version; NOT_FOUND with TF Serving's text."""
        if version is not None:
            event = self.state(model, version)
            if event is None:
                raise NotFound(f"Could not find version {version} of model {model}")
            return [event]
        states = self.version_states(model)
        if not states:
            raise NotFound(f"Could not find any versions of model {model}")
        return list(states.values())

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until `predicate()` holds after some publish, or `timeout` passes (for tools and tests)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
            return True
