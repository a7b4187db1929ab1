"""`servectl up` (what `make up` runs): model server + gateway at once, then train what is missing.

Why this order: a newcomer should see the platform answer within minutes. The servers start first; every
implemented family whose models have no version yet is then trained in the background with its `tiny`
preset, one family after another (anti-spam first), and each model comes online as soon as its first
version is published (the model server polls the repository; the gateway follows the server). Models still
training are listed as pending by `GET /models` and answered with 503 + Retry-After. Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

import typer

from common import repository
from servectl.app import app

REPO_ROOT = Path(__file__).resolve().parent.parent


class Stack:
    """Child processes of `up`, stopped in reverse order with SIGTERM (they drain), then SIGKILL."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.stopping = threading.Event()

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None, stream: bool = False, log: Path | None = None) -> subprocess.Popen:
        """`stream`: the caller reads stdout; `log`: stdout+stderr go to this file; neither: inherited."""
        out = open(log, "ab") if log is not None else (subprocess.PIPE if stream else None)  # noqa: SIM115 (the child owns it)
        proc = subprocess.Popen(
            args,
            cwd=REPO_ROOT,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT if (stream or log is not None) else None,
            text=log is None,
            bufsize=1 if log is None else -1,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the children in order
        )
        self.procs.append((name, proc))
        return proc

    def stop(self, timeout: float = 30.0) -> None:
        self.stopping.set()
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, proc in reversed(self.procs):
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                typer.echo(f"{name} did not stop in {timeout:.0f}s; killing it", err=True)
                proc.kill()
                proc.wait()


def missing_families(repo: Path) -> list[str]:
    """Registered training families with at least one model that has no published version."""
    from training import registry

    out = []
    for name, fam in registry.discover().items():
        if any(not repository.list_versions(repo / m) for m in fam.models):
            out.append(name)
    return out


def _train_in_background(stack: Stack, families: list[str], repo: Path) -> None:
    for family in families:
        if stack.stopping.is_set():
            return
        typer.echo(f"[up] training {family} (tiny preset) in the background ...")
        started = time.monotonic()
        proc = stack.start(
            f"train {family}",
            [sys.executable, "-m", "servectl", "train", family, "--preset", "tiny", "--repo", str(repo)],
            stream=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            typer.echo(f"[train {family}] {line.rstrip()}")
        rc = proc.wait()
        if stack.stopping.is_set():
            return
        took = time.monotonic() - started
        if rc == 0:
            typer.echo(f"[up] {family} published after {took:.0f}s; it comes online at the next poll")
        else:
            typer.echo(f"[up] training {family} failed (exit {rc}) after {took:.0f}s; see the log above", err=True)


# TF Serving's way to serve Prometheus: on the REST port, at the path of a MonitoringConfig file (the same
# text as docker/tfserving/monitoring.config, which the compose stack gives TF Serving).
PROMETHEUS_PATH = "/monitoring/prometheus/metrics"
MONITORING_CONFIG = f'prometheus_config {{\n  enable: true\n  path: "{PROMETHEUS_PATH}"\n}}\n'


def tf_thread_flags(intra_op: int, inter_op: int) -> list[str]:
    """modelserver's TensorFlow thread flags (TF Serving's names), for the commands that start it."""
    return ["--tensorflow_intra_op_parallelism", str(intra_op), "--tensorflow_inter_op_parallelism", str(inter_op)]


@app.command()
def up(
    repo: Optional[Path] = typer.Option(None, help="model repository (models.config + versions) (default: $SERVABLES_DIR, else the checkout's servables/)"),
    host: str = typer.Option("127.0.0.1", help="interface the gateway listens on"),
    port: int = typer.Option(8000, help="gateway HTTP port"),
    grpc_port: int = typer.Option(8500, help="model server gRPC port"),
    rest_port: int = typer.Option(8501, help=f"model server REST port (TF Serving's REST API, Prometheus at {PROMETHEUS_PATH}); 0: off"),
    monitoring_port: int = typer.Option(0, help="extra model server port serving Prometheus /metrics (0: off; metrics are on the REST port)"),
    backend: Optional[str] = typer.Option(None, help="use an external TF Serving at HOST:PORT instead of starting modelserver"),
    train: bool = typer.Option(True, help="train families that have no version yet (tiny preset, in the background)"),
    intra_op_threads: int = typer.Option(0, help="modelserver --tensorflow_intra_op_parallelism (0: TF picks; 1 suits small models)"),
    inter_op_threads: int = typer.Option(0, help="modelserver --tensorflow_inter_op_parallelism (0: TF picks; -1: each op in the RPC's thread)"),
) -> None:
    """Start the model server and the gateway, print the URLs, train what is missing; Ctrl-C stops all."""
    from training import registry

    repo = (repo or repository.default_repository()).resolve()
    repo.mkdir(parents=True, exist_ok=True)
    families = registry.discover()
    with repository.RepositoryLock(repo):
        for fam in families.values():
            for model in fam.models:
                repository.ensure_model(repo / repository.CONFIG_NAME, model)
    stack = Stack()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    # Why set SIGINT explicitly: a process started as a background job of a non-interactive shell (`make up &`
    # in a script, a CI runner) inherits SIGINT *ignored*, and Python then leaves it ignored; `kill -INT` and
    # the test's Ctrl-C were silently dropped and `up` never stopped (CI, 2026-12-04).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    scratch = tempfile.TemporaryDirectory(prefix="servectl-up-")
    try:
        backend_address = backend
        if backend_address is None:
            backend_address = f"127.0.0.1:{grpc_port}"
            monitoring = Path(scratch.name) / "monitoring.config"
            monitoring.write_text(MONITORING_CONFIG)
            rest_flags = ["--rest_api_port", str(rest_port), "--monitoring_config_file", str(monitoring)] if rest_port else []
            stack.start(
                "modelserver",
                [
                    sys.executable, "-m", "modelserver",
                    "--port", str(grpc_port),
                    "--model_config_file", str(repo / repository.CONFIG_NAME),
                    *rest_flags,
                    "--monitoring_port", str(monitoring_port),
                    *tf_thread_flags(intra_op_threads, inter_op_threads),
                ],
            )
        stack.start(
            "gateway",
            [sys.executable, "-m", "gateway", "--host", host, "--port", str(port), "--backend", backend_address, "--servables", str(repo)],
        )
        typer.echo(
            f"\n  playground  http://{host}:{port}/   (try every model in the browser)\n"
            f"  gateway   http://{host}:{port}   (API docs http://{host}:{port}/docs, metrics /metrics)\n"
            f"  backend   {backend_address} (gRPC, TF Serving API)"
            + (f"\n  REST      http://127.0.0.1:{rest_port}/v1/models/<name>   metrics http://127.0.0.1:{rest_port}{PROMETHEUS_PATH}"
               if rest_port and not backend else "")
            + (f"\n  metrics   http://127.0.0.1:{monitoring_port}/metrics" if monitoring_port and not backend else "")
            + "\n  Ctrl-C stops everything.\n"
        )
        todo = missing_families(repo) if train else []
        if todo:
            typer.echo(f"[up] no version yet for: {', '.join(todo)}; they come online one by one as training finishes")
            threading.Thread(target=_train_in_background, args=(stack, todo, repo), daemon=True).start()
        while True:
            for name, proc in list(stack.procs):
                if not name.startswith("train") and proc.poll() is not None:
                    typer.echo(f"[up] {name} exited with {proc.returncode}; stopping", err=True)
                    raise typer.Exit(1)
            time.sleep(0.5)
    except KeyboardInterrupt:
        typer.echo("\n[up] stopping ...")
    finally:
        stack.stop()
        scratch.cleanup()
        typer.echo("[up] stopped")
