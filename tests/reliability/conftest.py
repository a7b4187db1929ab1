"""One real stack for the fault matrix: a repository with the version family (tests/gateway/version_family.py:
graph and asset both carry the version's tag, and a negative input makes the graph spin for a while), a
modelserver process that the tests freeze, kill and restart on the same port, and a gateway process that
must ride through all of it without a restart (module-scoped: TensorFlow start-up is the expensive part)."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.gateway.gateway_process import GatewayProcess
from tests.gateway.version_family import MODEL, publish_version
from tests.reliability.figures import Tally
from tests.utils.servers import ModelServerProcess, wait_model_available

BODY = {"model": MODEL, "inputs": {"x": [1.0, 2.0]}}


class Backend:
    """The modelserver, replaceable by a new process on the same port (the gateway's address never changes)."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.current = ModelServerProcess(config)
        self.address = self.current.address

    @property
    def pid(self) -> int:
        assert self.current.proc is not None
        return self.current.proc.pid

    def signal(self, sig: int) -> None:
        assert self.current.proc is not None
        self.current.proc.send_signal(sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        assert self.current.proc is not None
        self.current.proc.wait(timeout=60)

    def restart(self) -> None:
        port = self.current.port
        self.current = ModelServerProcess(self.config)
        self.current.port, self.current.address = port, self.address
        self.current.start()

    def log(self) -> str:
        return self.current.log()


@pytest.fixture(scope="module")
def rel_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("reliability-repo")
    publish_version(repo)
    return repo


@pytest.fixture(scope="module")
def backend(rel_repo: Path) -> Iterator[Backend]:
    b = Backend(rel_repo / "models.config")
    b.current.start()
    wait_model_available(b.address, MODEL, 1)
    try:
        yield b
    finally:
        if b.current.proc is not None and b.current.proc.poll() is None:
            b.signal(signal.SIGCONT)  # a failed freeze test must not leave it stopped
        b.current.stop()


@pytest.fixture(scope="module")
def gateway(backend: Backend, rel_repo: Path) -> Iterator[GatewayProcess]:
    env = {"GATEWAY_ASSET_RETRY_S": "1", "GATEWAY_STATUS_TIMEOUT_S": "1", "GATEWAY_REFRESH_INTERVAL_S": "0.2"}
    with GatewayProcess(backend.address, rel_repo, env=env) as gw:
        gw.wait_ready()
        yield gw


class Load:
    """Client threads sending `body` back to back (own keep-alive client each) until stopped.

    Outcomes are tallied by status code, or by exception name for transport errors; `versions` lists the
    version of every 200 in order, per thread.
    """

    def __init__(self, url: str, body: dict = BODY, threads: int = 3, headers: dict | None = None, check=None) -> None:
        self.url, self.body, self.headers, self.check = url, body, headers or {}, check
        self.tally = Tally()
        self.versions: list[list[int]] = [[] for _ in range(threads)]
        self.problems: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def _run(self, i: int) -> None:
        with httpx.Client(base_url=self.url, timeout=120) as c:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    r = c.post("/predict", json=self.body, headers=self.headers)
                except httpx.HTTPError as e:
                    self.tally.add(type(e).__name__, started)
                    self.problems.append(f"thread {i}: {e!r}")
                    continue
                self.tally.add(str(r.status_code), started)
                if r.status_code != 200:
                    self.problems.append(f"thread {i}: {r.status_code} {r.text[:300]}")
                    continue
                out = r.json()
                if out["outputs"]["graph_tag"] != out["outputs"]["asset_tag"] or out["outputs"]["graph_tag"] != out["version"]:
                    self.problems.append(f"thread {i}: mixed versions {out}")
                self.versions[i].append(out["version"])

    def __enter__(self) -> "Load":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=180)

    def wait_for(self, n: int, timeout: float = 120) -> None:
        from tests.utils.servers import wait_until

        target = self.tally.sent + n
        wait_until(lambda: self.tally.sent >= target, timeout=timeout, message=f"{n} more requests answered")
