"""The whole serving stack over one repository for through-the-gateway tests and `scripts/eval_*_gateway.py`:
`python -m modelserver` + `python -m gateway` as real subprocesses on free ports; ready when the gateway's
/readyz answers 200 (every published model served with its assets)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from tests.gateway.gateway_process import GatewayProcess
from tests.utils.servers import ModelServerProcess


class Stack:
    """modelserver + gateway over `repo` (its models.config); `.url` is the gateway."""

    def __init__(self, repo: Path, gateway_env: Mapping[str, str] | None = None, start_timeout: float = 240.0) -> None:
        self.repo = Path(repo)
        self.start_timeout = start_timeout
        self.modelserver = ModelServerProcess(self.repo / "models.config", start_timeout=start_timeout)
        self.gateway = GatewayProcess("", self.repo, env=gateway_env)
        self.url = self.gateway.url

    def __enter__(self) -> "Stack":
        self.modelserver.start()
        try:
            self.gateway.env["GATEWAY_BACKEND"] = self.modelserver.address
            self.gateway.start()
            self.gateway.wait_ready(self.start_timeout)
        except BaseException:
            self.gateway.stop()
            self.modelserver.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.gateway.stop()
        self.modelserver.stop()
