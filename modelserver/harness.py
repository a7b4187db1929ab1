"""LoaderHarness: the lifecycle of one version (model, version) around its loader, as a state machine.

Internal states are finer than what clients see, because the manager must tell "taken out of the serving
map, still in use" (QUIESCING) from "being unloaded" (UNLOADING). Each transition is a named method that
refuses an illegal move, so a bookkeeping bug surfaces as an error instead of a silently wrong state.

    NEW -> LOADING -> READY -> QUIESCING -> UNLOADING -> DISABLED
    NEW -> DISABLED (cancelled before loading);  LOADING -> ERROR (load or warm-up failed)

The public vocabulary (what GetModelStatus reports) has five states: START, LOADING, AVAILABLE, UNLOADING,
END; ERROR is END with the error attached.

A harness also counts the request handles borrowed from it. `acquire()` succeeds only while READY, under
the same lock that the QUIESCING -> UNLOADING move takes, so a version is never unloaded under a request.
"""

from __future__ import annotations

import enum
import threading
from typing import Any


class State(enum.Enum):
    NEW = "new"
    LOADING = "loading"
    READY = "ready"
    QUIESCING = "quiescing"
    UNLOADING = "unloading"
    DISABLED = "disabled"
    ERROR = "error"


class PublicState(enum.IntEnum):
    """ModelVersionStatus.State numbers (tensorflow_serving/apis/get_model_status.proto)."""

    START = 10
    LOADING = 20
    AVAILABLE = 30
    UNLOADING = 40
    END = 50


PUBLIC = {
    State.NEW: PublicState.START,
    State.LOADING: PublicState.LOADING,
    State.READY: PublicState.AVAILABLE,
    State.QUIESCING: PublicState.UNLOADING,
    State.UNLOADING: PublicState.UNLOADING,
    State.DISABLED: PublicState.END,
    State.ERROR: PublicState.END,
}


class HarnessStateError(RuntimeError):
    """An illegal transition was requested (a manager bug, never a user error)."""


class LoaderHarness:
    def __init__(self, model: str, version: int, loader: Any) -> None:
        self.model = model
        self.version = version
        self.loader = loader
        self.error: BaseException | None = None
        self.is_aspired = True
        self._state = State.NEW
        self._refs = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LoaderHarness({self.model}, {self.version}, {self._state.name})"

    @property
    def state(self) -> State:
        return self._state

    @property
    def public_state(self) -> PublicState:
        return PUBLIC[self._state]

    @property
    def refs(self) -> int:
        return self._refs

    def _move(self, allowed: tuple[State, ...], target: State) -> None:
        with self._lock:
            if self._state not in allowed:
                raise HarnessStateError(f"{self!r}: cannot move to {target.name}")
            self._state = target

    # --- named transitions ----------------------------------------------------------------------------
    def start_loading(self) -> None:
        self._move((State.NEW,), State.LOADING)

    def loaded(self) -> None:
        self._move((State.LOADING,), State.READY)

    def load_failed(self, error: BaseException) -> None:
        self.error = error
        self._move((State.LOADING,), State.ERROR)

    def cancel(self) -> None:
        """A version that stopped being aspired before it was loaded."""
        self._move((State.NEW,), State.DISABLED)

    def start_quiescing(self) -> None:
        """Taken out of the serving map; requests that already hold a handle finish on it."""
        self._move((State.READY,), State.QUIESCING)

    def try_start_unloading(self) -> bool:
        """QUIESCING -> UNLOADING when no handle is borrowed any more; False while some still are."""
        with self._lock:
            if self._state is not State.QUIESCING:
                raise HarnessStateError(f"{self!r}: cannot move to UNLOADING")
            if self._refs:
                return False
            self._state = State.UNLOADING
            return True

    def unloaded(self) -> None:
        self._move((State.UNLOADING,), State.DISABLED)

    # --- handles --------------------------------------------------------------------------------------
    def acquire(self) -> bool:
        with self._lock:
            if self._state is not State.READY:
                return False
            self._refs += 1
            return True

    def abandon_handles(self) -> None:
        """Forget borrowed handles (only at shutdown, after the server stopped taking requests)."""
        with self._lock:
            self._refs = 0

    def release(self) -> int:
        with self._lock:
            if self._refs <= 0:
                raise HarnessStateError(f"{self!r}: released more handles than acquired")
            self._refs -= 1
            return self._refs
