"""Start-up: serving begins before any model exists (models come online when published), and a
models.config that does not parse stops the server with a clear message."""

from __future__ import annotations

import subprocess

import grpc
import pytest

from protos import rpc
from tests.modelserver.conftest import predict_request
from tests.utils.savedmodels import publish_affine
from tests.utils.servers import ModelServerProcess, python_executable, REPO_ROOT, wait_model_available


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
        [python_executable(), "-m", "modelserver", "--port", "0", "--monitoring_port", "0", "--model_config_file", str(config)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "cannot start" in result.stderr and "base_pth" in result.stderr
