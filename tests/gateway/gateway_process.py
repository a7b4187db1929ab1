"""`python -m gateway` as a real subprocess on a free port (the gateway side of tests/utils/servers.py).

Waits until /healthz answers; stops with SIGTERM (uvicorn drains, then the lifespan closes the channel).
The test family is loaded through GATEWAY_FAMILY_MODULES, the way any out-of-tree family would be.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping

import httpx

from tests.utils.servers import REPO_ROOT, free_port, python_executable, wait_until

ADMIN_TOKEN = "test-admin-token-0123456789"
FAMILY_MODULE = "tests.gateway.version_family"


class GatewayProcess:
    def __init__(self, backend: str, servables: Path, *, env: Mapping[str, str] | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            "GATEWAY_BACKEND": backend,
            "GATEWAY_SERVABLES": str(servables),
            "GATEWAY_FAMILY_MODULES": FAMILY_MODULE,
            "GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN,
            "GATEWAY_REFRESH_INTERVAL_S": "0.2",
            "GATEWAY_SHUTDOWN_TIMEOUT_S": "10",
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="gateway-", suffix=".log", delete=False)
        self.log_path = Path(self._log.name)
        self.returncode: int | None = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def start(self) -> "GatewayProcess":
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        cmd = [python_executable(), "-m", "gateway", "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

        def alive() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
            return httpx.get(self.url + "/healthz", timeout=2).status_code == 200

        try:
            wait_until(alive, timeout=120, interval=0.1, message=f"gateway on {self.url}")
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float = 180) -> None:
        wait_until(lambda: httpx.get(self.url + "/readyz", timeout=5).status_code == 200, timeout=timeout, interval=0.2, message="gateway /readyz")

    def stop(self) -> int | None:
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.returncode = self.proc.wait()
        self._log.close()
        self.proc = None
        return self.returncode

    def __enter__(self) -> "GatewayProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
