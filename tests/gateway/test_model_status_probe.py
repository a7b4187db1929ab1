"""common.model_status_probe against a real modelserver: ready only when every published model of the
models.config it reads is AVAILABLE; a model with no version does not block; an unknown model or an
unreachable server is a reason, reported in the 503 body (the Kubernetes readiness sidecar of TF Serving)."""

from __future__ import annotations

import shutil
from pathlib import Path

import grpc
import httpx

from common import model_status_probe as probe
from common import repository as repo
from protos import rpc
from tests.gateway.version_family import MODEL, PENDING_MODEL
from tests.utils.servers import free_port, wait_model_available


def served(server_address: str, config: Path) -> tuple[int, str]:
    stub = rpc.Stub(grpc.insecure_channel(server_address))
    http = probe.serve(free_port(), lambda: probe.problems(stub, config, timeout=5.0), host="127.0.0.1")
    try:
        url = f"http://127.0.0.1:{http.server_address[1]}"
        assert httpx.get(url + "/live", timeout=10).status_code == 200
        r = httpx.get(url + "/ready", timeout=30)
        return r.status_code, r.text
    finally:
        http.shutdown()


def test_ready_when_every_published_model_is_available(gw_modelserver, gw_repo: Path) -> None:
    config = gw_repo / repo.CONFIG_NAME
    wait_model_available(gw_modelserver.address, MODEL)  # until then the probe says LOADING
    assert probe.published_models(config) == [MODEL]  # the pending model has no version directory
    assert served(gw_modelserver.address, config) == (200, "ready\n")
    assert probe.main(["--address", gw_modelserver.address, "--model-config", str(config)]) == 0


def test_not_ready_when_a_published_model_is_unknown_to_the_server(gw_modelserver, gw_repo: Path, tmp_path: Path) -> None:
    wait_model_available(gw_modelserver.address, MODEL)
    config = tmp_path / repo.CONFIG_NAME
    shutil.copy(gw_repo / repo.CONFIG_NAME, config)
    shutil.copytree(gw_repo / MODEL, tmp_path / MODEL)
    repo.ensure_model(config, "ghost")  # configured here, never loaded by the server
    (tmp_path / "ghost" / "1").mkdir(parents=True)
    status, text = served(gw_modelserver.address, config)
    assert status == 503 and "ghost: NOT_FOUND" in text and MODEL not in text and PENDING_MODEL not in text


def test_not_ready_when_the_server_does_not_answer(gw_repo: Path, capsys) -> None:
    address = f"127.0.0.1:{free_port()}"
    status, text = served(address, gw_repo / repo.CONFIG_NAME)
    assert status == 503 and f"{MODEL}: UNAVAILABLE" in text
    assert probe.main(["--address", address, "--model-config", str(gw_repo / repo.CONFIG_NAME), "--timeout", "1"]) == 1
    assert "UNAVAILABLE" in capsys.readouterr().err


def test_unreadable_config_is_a_reason(tmp_path: Path) -> None:
    (tmp_path / repo.CONFIG_NAME).write_text("model_config_list { config { name: ")
    stub = rpc.Stub(grpc.insecure_channel(f"127.0.0.1:{free_port()}"))
    [reason] = probe.problems(stub, tmp_path / repo.CONFIG_NAME, timeout=1.0)
    assert reason.startswith(f"cannot read {tmp_path / repo.CONFIG_NAME}")
