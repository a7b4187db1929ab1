"""One real stack for the fault matrix: a repository with the version family (tests/gateway/version_family.py:
graph and asset both carry the version's tag, and a negative input makes the graph spin for a while), a
modelserver process that the tests freeze, kill and restart on the same port, and a gateway process that
must ride through all of it without a restart (package-scoped, shared by the fault cases and the short soak: TensorFlow start-up is the expensive part)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Iterator

import pytest

from tests.gateway.gateway_process import GatewayProcess
from tests.gateway.version_family import MODEL, publish_version
from tests.utils.servers import ModelServerProcess, wait_model_available


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


@pytest.fixture(scope="package")
def rel_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("reliability-repo")
    publish_version(repo)
    return repo


@pytest.fixture(scope="package")
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


@pytest.fixture(scope="package")
def gateway(backend: Backend, rel_repo: Path) -> Iterator[GatewayProcess]:
    env = {"GATEWAY_ASSET_RETRY_S": "1", "GATEWAY_STATUS_TIMEOUT_S": "1", "GATEWAY_REFRESH_INTERVAL_S": "0.2"}
    with GatewayProcess(backend.address, rel_repo, env=env) as gw:
        gw.wait_ready()
        yield gw
