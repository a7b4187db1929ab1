"""The tfserving service: its flags are real flags of the pinned release, its config files parse with
TF Serving's own protos, and its healthcheck passes only once every published model is AVAILABLE."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from google.protobuf import text_format

from tests.docker import stack

BASE = stack.compose(stack.COMPOSE)
CPU = stack.compose(stack.COMPOSE, stack.COMPOSE_CPU)
TFS = BASE["services"]["tfserving"]
FLAGS = stack.flags(TFS["command"])
HEALTHCHECK = stack.REPO / "docker" / "tfserving" / "healthcheck.sh"


def host_path(container_path: str, service: dict = TFS) -> Path:
    """The host file behind a path inside the container, through the service's bind mounts."""
    for source, target, _ro in stack.bind_mounts(service):
        if container_path == target or container_path.startswith(target + "/"):
            return (stack.REPO / source / container_path[len(target):].lstrip("/")).resolve()
    raise AssertionError(f"{container_path} is not on a bind mount")


@pytest.mark.parametrize("model", [BASE, CPU], ids=["gpu", "cpu"])
def test_every_flag_is_a_real_tf_serving_flag(model: dict) -> None:
    command = model["services"]["tfserving"]["command"]
    unknown = sorted(set(stack.flags(command)) - stack.tf_serving_flags())
    assert not unknown, f"not flags of tensorflow_model_server (tests/docker/fixtures/tf_serving_flags.txt): {unknown}"


def test_flag_fixture_is_not_a_blank_check() -> None:
    known = stack.tf_serving_flags()
    assert len(known) > 40 and "model_config_file" in known
    assert "enable_warmup" not in known and "rest_port" not in known  # plausible-looking names that do not exist


def test_the_flags_the_stack_relies_on() -> None:
    assert TFS["entrypoint"] == ["/usr/bin/tensorflow_model_server"]
    assert FLAGS["model_config_file"] == f"{stack.CONTAINER_REPO}/models.config"
    assert int(FLAGS["model_config_file_poll_wait_seconds"]) > 0, "0 = read models.config once: new models need a restart"
    assert int(FLAGS["file_system_poll_wait_seconds"]) > 0, "0 = no polling: new versions need a restart"
    assert FLAGS["enable_model_warmup"] == "true"
    assert FLAGS["enable_serialization_as_tensor_content"] == "true"
    assert int(FLAGS["port"]) != int(FLAGS["rest_api_port"]) > 0
    assert "grpc.max_receive_message_length" in FLAGS["grpc_channel_arguments"]


def test_monitoring_config_parses_with_tf_servings_proto(tmp_path: Path) -> None:
    """MonitoringConfig is not in the tensorflow-serving-api wheel: compile the vendored official .proto."""
    proto = stack.FIXTURES / "monitoring_config.proto"
    shutil.copy(proto, tmp_path / proto.name)
    # protoc in a child process: grpc_tools' compiler crashes a process that already imported TensorFlow.
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{tmp_path}", f"--python_out={tmp_path}", proto.name], check=True)
    sys.path.insert(0, str(tmp_path))
    try:
        import monitoring_config_pb2 as mc
    finally:
        sys.path.remove(str(tmp_path))
    config = text_format.Parse(host_path(FLAGS["monitoring_config_file"]).read_text(), mc.MonitoringConfig())
    assert config.prometheus_config.enable
    assert config.prometheus_config.path.startswith("/")


def _official_config(text: str):
    from tensorflow_serving.config import model_server_config_pb2

    return text_format.Parse(text, model_server_config_pb2.ModelServerConfig())


def test_committed_models_config_parses_with_the_official_protos() -> None:
    path = host_path(FLAGS["model_config_file"])
    if not path.exists():
        pytest.skip("servables/models.config is not in this checkout (it is written by the first publish)")
    config = _official_config(path.read_text())
    for mc in config.model_config_list.config:
        assert mc.base_path.startswith(stack.CONTAINER_REPO + "/"), f"{mc.name}: {mc.base_path} is outside the mount"


def test_models_config_written_by_publish_parses_with_the_official_protos(tmp_path: Path) -> None:
    """The file `training.export.publish` maintains (common.repository), for every model of docs/design.md §3."""
    from common import repository
    from common.signatures import CONTRACTS

    path = tmp_path / "models.config"
    for name in CONTRACTS:
        assert repository.ensure_model(path, name)
    config = _official_config(path.read_text())
    assert [mc.name for mc in config.model_config_list.config] == list(CONTRACTS)
    for mc in config.model_config_list.config:
        assert mc.base_path == f"{stack.CONTAINER_REPO}/{mc.name}" and mc.model_platform == "tensorflow"
    assert oct(path.stat().st_mode & 0o777) == "0o644", "the non-root gateway container must be able to read it"


# ---------------------------------------------------------------- the healthcheck script, against a REST API


class FakeRestApi(http.server.ThreadingHTTPServer):
    """Answers GET /v1/models/<name> the way TF Serving's REST API does (GetModelStatus as JSON);
    `states` maps model name -> list of version states, a missing name answers 404."""

    daemon_threads = True

    def __init__(self) -> None:
        self.states: dict[str, list[str]] = {}
        self.requests: list[str] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FakeRestApi

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.requests.append(self.path)
        name = self.path.removeprefix("/v1/models/")
        if name not in self.server.states:
            body = {"error": f"Servable not found for request: Latest({name})"}
            code = 404
        else:
            body = {"model_version_status": [
                {"version": str(i + 1), "state": s, "status": {"error_code": "OK", "error_message": ""}}
                for i, s in enumerate(self.server.states[name])
            ]}
            code = 200
        data = json.dumps(body, indent=1).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def rest_api():
    server = FakeRestApi()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def make_repo(root: Path, models: dict[str, list[int]]) -> Path:
    """A repository whose models.config uses `root` as the container prefix (the script reads base paths)."""
    from common import repository

    config = root / "models.config"
    config.write_text("model_config_list {\n}\n")  # what TF Serving accepts for "no models yet"
    for name, versions in models.items():
        repository.ensure_model(config, name)
        (root / name).mkdir()
        for v in versions:
            (root / name / str(v)).mkdir(parents=True)
    text = config.read_text().replace(f'"{stack.CONTAINER_REPO}/', f'"{root}/')
    config.write_text(text)
    return config


def run_healthcheck(config: Path, port: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "TFS_REST_PORT": str(port), "TFS_MODEL_CONFIG": str(config), "TFS_HEALTH_TIMEOUT_S": "5"}
    return subprocess.run(["bash", str(HEALTHCHECK)], env=env, capture_output=True, text=True, timeout=60)


def test_healthcheck_passes_once_every_published_model_is_available(rest_api: FakeRestApi, tmp_path: Path) -> None:
    config = make_repo(tmp_path, {"antispam": [1, 2], "vgg16": [1], "unet": []})
    rest_api.states = {"antispam": ["END", "LOADING"], "vgg16": ["AVAILABLE"]}
    result = run_healthcheck(config, rest_api.server_address[1])
    assert result.returncode == 1 and "antispam: no AVAILABLE version yet" in result.stderr

    rest_api.states["antispam"] = ["END", "AVAILABLE"]
    result = run_healthcheck(config, rest_api.server_address[1])
    assert result.returncode == 0, result.stderr
    # unet has no version yet (being trained): not asked, not blocking
    assert "/v1/models/unet" not in rest_api.requests and "/v1/models/vgg16" in rest_api.requests


def test_healthcheck_fails_while_a_published_model_is_unknown_to_the_server(rest_api: FakeRestApi, tmp_path: Path) -> None:
    config = make_repo(tmp_path, {"antispam": [3]})
    result = run_healthcheck(config, rest_api.server_address[1])
    assert result.returncode == 1 and "antispam" in result.stderr


def test_healthcheck_ignores_non_version_directories(rest_api: FakeRestApi, tmp_path: Path) -> None:
    """A publish in progress (.tmp-export-*) is not a version: nothing to wait for yet."""
    config = make_repo(tmp_path, {"antispam": []})
    (tmp_path / "antispam" / ".tmp-export-123-abcd").mkdir()
    (tmp_path / "antispam" / "notes").mkdir()
    assert run_healthcheck(config, rest_api.server_address[1]).returncode == 0


def test_healthcheck_fails_when_the_rest_api_is_down(tmp_path: Path) -> None:
    config = make_repo(tmp_path, {})
    server = FakeRestApi()
    port = server.server_address[1]
    server.server_close()  # the port is now closed
    result = run_healthcheck(config, port)
    assert result.returncode == 1 and "does not answer" in result.stderr


# ---------------------------------------------------------------- the gateway image's healthcheck


def test_gateway_healthcheck_follows_readyz(tmp_path: Path) -> None:
    status = {"code": 503}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            assert self.path == "/readyz"
            self.send_response(status["code"])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script = stack.REPO / "docker" / "gateway" / "healthcheck.py"
    env = {**os.environ, "GATEWAY_PORT": str(server.server_address[1])}
    try:
        run = lambda: subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)  # noqa: E731
        assert run().returncode == 1
        status["code"] = 200
        assert run().returncode == 0
    finally:
        server.shutdown()
        server.server_close()
    assert run().returncode == 1  # nothing listening


def test_healthcheck_reads_hand_written_configs(rest_api: FakeRestApi, tmp_path: Path) -> None:
    """Single quotes, one line, labels and policies: whatever text format TF Serving itself accepts."""
    (tmp_path / "antispam" / "7").mkdir(parents=True)
    (tmp_path / "srgan" / "2").mkdir(parents=True)
    config = tmp_path / "models.config"
    config.write_text(
        f"model_config_list {{ config {{ name: 'antispam' base_path: '{tmp_path}/antispam' model_platform: 'tensorflow' "
        "model_version_policy { specific { versions: 7 } } version_labels { key: 'stable' value: 7 } } "
        f'config {{ name: "srgan" base_path: "{tmp_path}/srgan" model_platform: "tensorflow" }} }}\n'
    )
    _official_config(config.read_text())  # the fixture itself is valid
    rest_api.states = {"antispam": ["AVAILABLE"], "srgan": ["LOADING"]}
    result = run_healthcheck(config, rest_api.server_address[1])
    assert result.returncode == 1 and "srgan: no AVAILABLE" in result.stderr and "antispam" not in result.stderr
    rest_api.states["srgan"] = ["AVAILABLE"]
    assert run_healthcheck(config, rest_api.server_address[1]).returncode == 0
