"""The real serving stack over a repository: `python -m modelserver` + `python -m gateway` as subprocesses on
free ports. Used by the through-gateway tests and by `scripts/eval_text2image_gateway.py`."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping

import httpx

from tests.utils.servers import REPO_ROOT, ModelServerProcess, free_port, python_executable, wait_until


class Stack:
    """modelserver + gateway over `repo`; `.url` is the gateway, ready when /readyz answers 200."""

    def __init__(self, repo: Path, gateway_env: Mapping[str, str] | None = None, start_timeout: float = 240.0) -> None:
        self.repo = Path(repo)
        self.modelserver = ModelServerProcess(self.repo / "models.config", start_timeout=start_timeout)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.gateway_env = dict(gateway_env or {})
        self.start_timeout = start_timeout
        self._log = tempfile.NamedTemporaryFile(prefix="gateway-t2i-", suffix=".log", delete=False)
        self.gateway: subprocess.Popen[bytes] | None = None

    def gateway_log(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def start(self) -> "Stack":
        self.modelserver.start()
        cmd = [python_executable(), "-m", "gateway", "--port", str(self.port), "--backend", self.modelserver.address, "--servables", str(self.repo)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.gateway_env}
        self.gateway = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

        def ready() -> bool:
            if self.gateway is not None and self.gateway.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.gateway.returncode}:\n{self.gateway_log()[-4000:]}")
            return httpx.get(f"{self.url}/readyz", timeout=5.0).status_code == 200

        try:
            wait_until(ready, timeout=self.start_timeout, interval=0.2, message=f"gateway /readyz on {self.url}")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.gateway is not None and self.gateway.poll() is None:
            self.gateway.send_signal(signal.SIGTERM)
            try:
                self.gateway.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.gateway.kill()
                self.gateway.wait()
        self._log.close()
        self.modelserver.stop()

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
