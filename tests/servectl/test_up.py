"""`servectl up` (what `make up` runs): both servers come up on real ports, models without a version are
listed as pending, and Ctrl-C (SIGINT) stops every child cleanly, even when `up` inherited SIGINT ignored."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx

from common import repository
from tests.utils.servers import free_port, python_executable, wait_until


def test_up_serves_lists_pending_models_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port, grpc_port, rest_port = free_port(), free_port(), free_port()
    proc = subprocess.Popen(
        [python_executable(), "-m", "servectl", "up", "--no-train", "--repo", str(tmp_path),
         "--port", str(port), "--grpc-port", str(grpc_port), "--rest-port", str(rest_port),
         "--intra-op-threads", "1", "--inter-op-threads", "-1"],  # modelserver's TF thread flags, passed through
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        # as a script's background job starts it: with SIGINT inherited ignored, Ctrl-C must still stop it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{base}/healthz", timeout=2).status_code == 200, timeout=240, message="gateway up")
        # the model server took the thread flags (it would exit on an unknown flag): its REST API and its
        # metrics (on the REST port, as TF Serving serves them) answer
        rest = f"http://127.0.0.1:{rest_port}"
        wait_until(lambda: httpx.get(f"{rest}/monitoring/prometheus/metrics", timeout=2).status_code == 200, timeout=120, message="modelserver up")
        assert httpx.get(f"{rest}/v1/models/antispam", timeout=5).json() == {"error": "Could not find any versions of model antispam"}
        # every registered family's models are in models.config, and without versions they are pending
        config = repository.read_config(tmp_path / "models.config")
        names = {c.name for c in config.model_config_list.config}
        assert "antispam" in names
        models = wait_until(lambda: httpx.get(f"{base}/models", timeout=5).json(), timeout=60)
        listed = {m["name"]: m for m in models["models"]}
        assert "antispam" in listed
        reply = httpx.post(f"{base}/predict", json={"model": "antispam", "inputs": {"text": "你好"}}, timeout=10)
        assert reply.status_code == 503 and "retry-after" in reply.headers
        # the playground is served where the first URL printed points
        page = httpx.get(f"{base}/", timeout=10)
        assert page.status_code == 200 and "Model playground" in page.text
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert "[up] stopped" in out
    urls = [line.split()[1] for line in out.splitlines() if line.strip().startswith(("playground", "gateway"))]
    assert urls[:2] == [f"{base}/", base], out  # the playground's URL is the first thing printed
    # nothing is left listening
    wait_until(lambda: _refused(base), timeout=30, message="gateway port closed")


def _refused(base: str) -> bool:
    try:
        httpx.get(f"{base}/healthz", timeout=1)
    except httpx.TransportError:
        return True
    return False
