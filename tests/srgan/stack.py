"""The real serving stack for SRGAN integration tests and `scripts/eval_srgan_gateway.py`:
`python -m modelserver` + `python -m gateway` as subprocesses on free ports over a given repository."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping

import httpx

from tests.utils.servers import REPO_ROOT, ModelServerProcess, free_port, python_executable, wait_until


class GatewayProcess:
    """`python -m gateway` on a free port; ready when /readyz answers 200 (every published model served)."""

    def __init__(self, backend: str, servables: Path, env: Mapping[str, str] | None = None, start_timeout: float = 180.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.backend, self.servables = backend, Path(servables)
        self.env = dict(env or {})
        self.start_timeout = start_timeout
        self._log = tempfile.NamedTemporaryFile(prefix="gateway-", suffix=".log", delete=False)
        self.proc: subprocess.Popen[bytes] | None = None

    def log(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def start(self) -> "GatewayProcess":
        cmd = [python_executable(), "-m", "gateway", "--port", str(self.port), "--backend", self.backend, "--servables", str(self.servables)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
            return httpx.get(f"{self.url}/readyz", timeout=2.0).status_code == 200

        try:
            wait_until(ready, timeout=self.start_timeout, interval=0.2, message=f"gateway /readyz on {self.url}")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def __enter__(self) -> "GatewayProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Stack:
    """modelserver + gateway over `repo` (its models.config); `.url` is the gateway."""

    def __init__(self, repo: Path, gateway_env: Mapping[str, str] | None = None) -> None:
        self.repo = Path(repo)
        self.modelserver = ModelServerProcess(self.repo / "models.config")
        self.gateway_env = gateway_env
        self.gateway: GatewayProcess | None = None

    @property
    def url(self) -> str:
        assert self.gateway is not None
        return self.gateway.url

    def __enter__(self) -> "Stack":
        self.modelserver.start()
        try:
            self.gateway = GatewayProcess(self.modelserver.address, self.repo, self.gateway_env).start()
        except BaseException:
            self.modelserver.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.gateway is not None:
            self.gateway.stop()
        self.modelserver.stop()
