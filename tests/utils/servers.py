"""Real server processes for integration tests: start, wait until they answer, stop with SIGTERM.

Why a subprocess and not an in-process server: the acceptance tests are about the real thing (flags, signal
handling, a separate TensorFlow runtime, real sockets), and a hung server must never hang the test process.
Waits go through :func:`wait_until` (a condition with a timeout), never a bare sleep.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence, TypeVar

REPO_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def free_port() -> int:
    """A TCP port that was free a moment ago (bind to port 0 and let the kernel choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], T], timeout: float = 60.0, interval: float = 0.05, message: str = "") -> T:
    """Call `predicate` until it returns something truthy (returned) or `timeout` passes (AssertionError).

    Exceptions raised by the predicate count as "not yet"; the last one is reported on timeout.
    """
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            result = predicate()
            if result:
                return result
        except Exception as e:  # noqa: BLE001 - "not yet" is any failure
            last_exc = e
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_exc!r})" if last_exc else ""
            raise AssertionError(f"condition not met within {timeout}s: {message or predicate}{detail}")
        time.sleep(interval)


def python_executable() -> str:
    venv = REPO_ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def grpc_health_status(address: str, service: str = "", timeout: float = 2.0) -> str:
    """The standard health service's answer ("SERVING", "NOT_SERVING", ...); raises when unreachable."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def model_version_states(address: str, model: str, timeout: float = 10.0) -> dict[int, str]:
    """{version: state name} of a model from GetModelStatus (raises grpc.RpcError, e.g. NOT_FOUND)."""
    import grpc

    from protos import get_model_status_pb2, rpc

    with grpc.insecure_channel(address) as channel:
        reply = rpc.Stub(channel).GetModelStatus(
            get_model_status_pb2.GetModelStatusRequest(model_spec={"name": model}), timeout=timeout
        )
    return {s.version: get_model_status_pb2.ModelVersionStatus.State.Name(s.state) for s in reply.model_version_status}


def wait_model_available(address: str, model: str, version: int | None = None, timeout: float = 180.0) -> int:
    """Wait until `model` has an AVAILABLE version (`version` itself when given); returns the highest one."""

    def available() -> int | None:
        versions = [v for v, s in model_version_states(address, model).items() if s == "AVAILABLE"]
        if version is not None:
            return version if version in versions else None
        return max(versions) if versions else None

    return wait_until(available, timeout=timeout, interval=0.1, message=f"{model} AVAILABLE on {address}")


PROMETHEUS_PATH = "/monitoring/prometheus/metrics"  # TF Serving's default, as in docker/tfserving/monitoring.config


class ModelServerProcess:
    """`python -m modelserver` as a real subprocess on free ports: gRPC on `.port`, TF Serving's REST API on
    `.rest_port` (`.rest_url`), and Prometheus on the REST port as TF Serving serves it (`.metrics_url`,
    enabled by a `--monitoring_config_file`); no other port.

    Usage::

        with ModelServerProcess(repo / "models.config") as server:
            channel = grpc.insecure_channel(server.address)

    On exit the process gets SIGTERM (it drains in-flight requests and exits 0); `.returncode` holds the exit
    status afterwards. Output goes to `.log_path` (read it with `.log()` when a test fails).
    """

    def __init__(
        self,
        config_path: Path,
        *,
        extra_args: Sequence[str] = (),
        poll_seconds: float = 0.2,
        env: Mapping[str, str] | None = None,
        start_timeout: float = 120.0,
        stop_timeout: float = 60.0,
    ) -> None:
        self.config_path = Path(config_path)
        self.extra_args = list(extra_args)
        self.poll_seconds = poll_seconds
        self.env = dict(env or {})
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.port = free_port()
        self.rest_port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None
        self._log_file = tempfile.NamedTemporaryFile(prefix="modelserver-", suffix=".log", delete=False)
        self.log_path = Path(self._log_file.name)
        self.monitoring_config = self.log_path.with_suffix(".monitoring.config")
        self.monitoring_config.write_text(f'prometheus_config {{ enable: true path: "{PROMETHEUS_PATH}" }}\n')

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def metrics_url(self) -> str:
        return self.rest_url + PROMETHEUS_PATH

    def command(self) -> list[str]:
        return [
            python_executable(),
            "-m",
            "modelserver",
            "--port",
            str(self.port),
            "--rest_api_port",
            str(self.rest_port),
            "--monitoring_config_file",
            str(self.monitoring_config),
            "--model_config_file",
            str(self.config_path),
            "--file_system_poll_wait_seconds",
            str(self.poll_seconds),
            "--model_config_file_poll_wait_seconds",
            str(self.poll_seconds),
            *self.extra_args,
        ]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def start(self) -> "ModelServerProcess":
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "TF_NUM_INTEROP_THREADS": "1", **self.env}
        self.proc = subprocess.Popen(
            self.command(),
            cwd=REPO_ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # No preexec_fn (it was used for PR_SET_PDEATHSIG): it forces a Python-level fork() of this process,
            # which holds live gRPC threads, and gRPC's fork handlers occasionally aborted the child before exec
            # ("Epoll1Poller ... epoll_wait error: Bad file descriptor", exit -6). Without it CPython spawns with
            # vfork/exec and no atfork handler runs. Teardown and the fixtures' finalisers stop the servers.
        )

        def answering() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"modelserver exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
            return grpc_health_status(self.address, timeout=1.0) == "SERVING"

        try:
            wait_until(answering, timeout=self.start_timeout, interval=0.1, message=f"modelserver on {self.address}")
        except BaseException:
            self.stop()
            raise
        return self

    def terminate(self) -> None:
        """Send SIGTERM without waiting (tests of the drain use this)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> int | None:
        if self.proc is None:
            return self.returncode
        self.terminate()
        try:
            self.returncode = self.proc.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.returncode = self.proc.wait()
        self._log_file.close()
        return self.returncode

    def __enter__(self) -> "ModelServerProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
