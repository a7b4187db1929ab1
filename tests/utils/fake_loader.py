"""A Loader for manager tests where TensorFlow is not needed: loads instantly, fails on demand, and counts
what is alive (TF Serving's FakeLoader). The servable is a plain dict naming the version."""

from __future__ import annotations

import threading
from pathlib import Path


class FakeLoaderFactory:
    def __init__(self) -> None:
        self.fail: dict[tuple[str, int], str] = {}  # (model, version) -> error message raised by load()
        self.block: dict[tuple[str, int], threading.Event] = {}  # load() waits on the event when present
        self.loaded: set[tuple[str, int]] = set()
        self.load_calls: list[tuple[str, int]] = []
        self.unload_calls: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def __call__(self, model: str, version: int, path: Path) -> "FakeLoader":
        return FakeLoader(self, model, version, Path(path))


class FakeLoader:
    def __init__(self, factory: FakeLoaderFactory, model: str, version: int, path: Path) -> None:
        self.factory = factory
        self.key = (model, version)
        self.path = path
        self.servable: dict | None = None

    def load(self) -> None:
        with self.factory._lock:
            self.factory.load_calls.append(self.key)
        gate = self.factory.block.get(self.key)
        if gate is not None:
            gate.wait(30)
        if self.key in self.factory.fail:
            raise RuntimeError(self.factory.fail[self.key])
        self.servable = {"model": self.key[0], "version": self.key[1]}
        with self.factory._lock:
            self.factory.loaded.add(self.key)

    def unload(self) -> None:
        with self.factory._lock:
            self.factory.unload_calls.append(self.key)
            self.factory.loaded.discard(self.key)
        self.servable = None
