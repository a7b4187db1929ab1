"""Shared real stack for the gateway tests: a repository with the version family's first version, and a
real modelserver on it (session-scoped: loading a version costs seconds on a busy 2-core machine)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from common.repository import ensure_model
from tests.gateway.version_family import PENDING_MODEL, publish_version
from tests.utils.servers import ModelServerProcess


@pytest.fixture(scope="session")
def gw_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("gateway-repo")
    publish_version(repo)
    ensure_model(repo / "models.config", PENDING_MODEL)  # in models.config, no version ever
    return repo


class RestartableModelServer:
    """A modelserver that can be stopped and started again on the same address (backend-down tests),
    so the session's gateways recover on their own instead of each test paying a new server."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.current = ModelServerProcess(config)
        self.address = self.current.address

    def start(self) -> None:
        self.current.start()

    def stop(self) -> None:
        self.current.stop()

    def restart(self) -> None:
        port = self.current.port
        self.current = ModelServerProcess(self.config)
        self.current.port, self.current.address = port, self.address
        self.current.start()


@pytest.fixture(scope="session")
def gw_modelserver(gw_repo: Path) -> Iterator[RestartableModelServer]:
    server = RestartableModelServer(gw_repo / "models.config")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def gw_gateway(gw_modelserver: RestartableModelServer, gw_repo: Path) -> Iterator["GatewayProcess"]:
    from tests.gateway.gateway_process import GatewayProcess

    env = {"GATEWAY_CORS_ORIGINS": "http://example.test", "GATEWAY_MAX_BODY_BYTES": str(1 << 20)}
    with GatewayProcess(gw_modelserver.address, gw_repo, env=env) as gateway:
        gateway.wait_ready()
        yield gateway
