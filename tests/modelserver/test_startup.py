"""Start-up: serving begins before any model exists (models come online when published), a models.config
that does not parse stops the server with a clear message, and only --port is opened unless more is asked
for (two servers on different --port start side by side)."""

from __future__ import annotations

import subprocess

import grpc
import pytest

from protos import rpc
from tests.modelserver.conftest import predict_request
from tests.utils.savedmodels import publish_affine
from tests.utils.servers import ModelServerProcess, REPO_ROOT, free_port, grpc_health_status, python_executable, wait_model_available, wait_until


def test_serves_before_any_model_and_picks_up_the_first_publish(tmp_path):
    config = tmp_path / "models.config"  # does not exist yet (a fresh clone before the first training)
    with ModelServerProcess(config) as server:
        with grpc.insecure_channel(server.address) as channel:
            stub = rpc.Stub(channel)
            with pytest.raises(grpc.RpcError) as info:
                stub.Predict(predict_request("affine", [[1.0, 2.0]]), timeout=10)
            assert (info.value.code().name, info.value.details()) == ("NOT_FOUND", "Servable not found for request: Latest(affine)")
            publish_affine(tmp_path, 2.0, 0.0)  # writes models.config and version 1
            assert wait_model_available(server.address, "affine") == 1
            assert stub.Predict(predict_request("affine", [[1.0, 2.0]]), timeout=30).model_spec.version.value == 1
    assert server.returncode == 0


def test_unparsable_config_stops_start_up(tmp_path):
    config = tmp_path / "models.config"
    config.write_text('model_config_list { config { name: "a" base_pth: "/models/a" } }')
    result = subprocess.run(
        [python_executable(), "-m", "modelserver", "--port", "0", "--model_config_file", str(config)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "cannot start" in result.stderr and "base_pth" in result.stderr


def test_two_servers_on_different_ports_start_side_by_side_with_no_other_flags(tmp_path):
    """No second port by default (the old default metrics port 8502 made the second server fail with
    "Address already in use"): REST and metrics ports are opt-in, as in TF Serving."""
    config = tmp_path / "models.config"
    procs, addresses = [], []
    try:
        for _ in range(2):
            port = free_port()
            addresses.append(f"127.0.0.1:{port}")
            procs.append(subprocess.Popen(
                [python_executable(), "-m", "modelserver", "--port", str(port), "--model_config_file", str(config)],
                cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            ))  # fmt: skip
        for proc, address in zip(procs, addresses):
            wait_until(lambda: proc.poll() is None and grpc_health_status(address, timeout=1.0) == "SERVING", timeout=120, message=address)
        assert all(proc.poll() is None for proc in procs)
    finally:
        for proc in procs:
            proc.terminate()
        outputs = [proc.communicate(timeout=60)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    assert not any("Address already in use" in out for out in outputs)


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--rest_api_port", "{port}"], "cannot be the same as --port"),
        (["--rest_api_port", "{rest}", "--monitoring_config_file", "{bad}"], "--monitoring_config_file"),
    ],
)
def test_bad_rest_or_monitoring_flags_stop_start_up(tmp_path, flags, words):
    port, rest = free_port(), free_port()
    bad = tmp_path / "monitoring.config"
    bad.write_text("prometheus_config { enabled: true }")  # the field is `enable`
    args = [f.format(port=port, rest=rest, bad=bad) for f in flags]
    result = subprocess.run(
        [python_executable(), "-m", "modelserver", "--port", str(port), "--model_config_file", str(tmp_path / "models.config"), *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "cannot start" in result.stderr and words in result.stderr
