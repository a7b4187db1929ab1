"""Config replacement: HandleReloadConfigRequest (official client and ours) and models.config changes."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from common.repository import read_config, write_config
from protos import model_management_pb2, model_server_config_pb2, rpc
from tests.modelserver.conftest import CHANNEL_OPTIONS, predict_request, status_of, wait_available
from tests.utils.savedmodels import publish_affine
from tests.utils.servers import ModelServerProcess, wait_until

X = np.array([[1.0, 1.0]], np.float32)


@pytest.fixture(scope="module")
def reload_server(tmp_path_factory):
    repo = tmp_path_factory.mktemp("reload-repo")
    publish_affine(repo, 1.0, 0.0, model="a")
    publish_affine(repo, 2.0, 0.0, model="a")
    publish_affine(repo, 3.0, 0.0, model="b")
    publish_affine(repo, 4.0, 0.0, model="c")
    config = read_config(repo / "models.config")
    config.model_config_list.config[0].model_version_policy.all.SetInParent()  # a: versions 1 and 2
    del config.model_config_list.config[2]  # c is on disk but not configured
    write_config(repo / "models.config", config)
    with ModelServerProcess(repo / "models.config") as server:
        channel = grpc.insecure_channel(server.address, options=CHANNEL_OPTIONS)
        stub = rpc.Stub(channel)
        wait_available(stub, "a", [1, 2])
        wait_available(stub, "b", [1])
        yield server, stub, channel, repo
        channel.close()
    assert server.returncode == 0


def ours_config(*models, labels=None):
    config = model_server_config_pb2.ModelServerConfig()
    for name in models:
        mc = config.model_config_list.config.add(name=name, base_path=f"/models/{name}", model_platform="tensorflow")
        mc.model_version_policy.all.SetInParent()
        for label, version in (labels or {}).get(name, {}).items():
            mc.version_labels[label] = version
    return config


def version_of(stub, model, **spec):
    return stub.Predict(predict_request(model, X, **spec), timeout=30).model_spec.version.value


def test_rpc_reload_replaces_the_whole_config(reload_server):
    server, stub, _channel, _repo = reload_server
    reply = stub.HandleReloadConfigRequest(
        model_management_pb2.ReloadConfigRequest(config=ours_config("a", "c", labels={"a": {"stable": 1}})), timeout=60
    )
    assert reply.status.error_code == 0
    assert version_of(stub, "a", label="stable") == 1
    wait_available(stub, "c", [1])  # added: /models/c maps to the directory of models.config
    wait_until(lambda: status_of(stub, "b")[1][0] == "END", timeout=60, message="b dropped from the config is unloaded")
    with pytest.raises(grpc.RpcError) as info:
        version_of(stub, "b")
    assert (info.value.code().name, info.value.details()) == ("NOT_FOUND", "Servable not found for request: Latest(b)")


def test_official_client_label_on_unavailable_version_is_refused(reload_server):
    from tensorflow_serving.apis import model_management_pb2 as official_mm
    from tensorflow_serving.apis import model_service_pb2_grpc

    server, stub, channel, _repo = reload_server
    official = model_service_pb2_grpc.ModelServiceStub(channel)
    request = official_mm.ReloadConfigRequest()
    for name, labels in (("a", {"stable": 2}), ("c", {"canary": 7})):
        mc = request.config.model_config_list.config.add(name=name, base_path=f"/models/{name}", model_platform="tensorflow")
        mc.model_version_policy.all.SetInParent()
        mc.version_labels.update(labels)
    with pytest.raises(grpc.RpcError) as info:
        official.HandleReloadConfigRequest(request, timeout=60)
    assert (info.value.code().name, info.value.details()) == (
        "FAILED_PRECONDITION",
        "Request to assign label to version 7 of model c, which is not currently available for inference",
    )
    # Nothing changed: the previous config (and its labels) still serve.
    assert version_of(stub, "a", label="stable") == 1
    # The same request with an AVAILABLE version is accepted by the official client too.
    request.config.model_config_list.config[1].version_labels["canary"] = 1
    official.HandleReloadConfigRequest(request, timeout=60)
    assert version_of(stub, "a", label="stable") == 2
    assert version_of(stub, "c", label="canary") == 1


def test_unsupported_reload_requests(reload_server):
    from tensorflow_serving.apis import model_management_pb2 as official_mm
    from tensorflow_serving.apis import model_service_pb2_grpc

    _server, stub, channel, _repo = reload_server
    official = model_service_pb2_grpc.ModelServiceStub(channel)
    custom = official_mm.ReloadConfigRequest()
    custom.config.custom_model_config.type_url = "x"
    message = "ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported"
    for call, request in ((official.HandleReloadConfigRequest, custom), (stub.HandleReloadConfigRequest, model_management_pb2.ReloadConfigRequest())):
        with pytest.raises(grpc.RpcError) as info:
            call(request, timeout=30)
        assert (info.value.code().name, info.value.details()) == ("INVALID_ARGUMENT", message)
    bad = ours_config("a", "a")
    with pytest.raises(grpc.RpcError) as info:
        stub.HandleReloadConfigRequest(model_management_pb2.ReloadConfigRequest(config=bad), timeout=30)
    assert (info.value.code().name, info.value.details()) == ("INVALID_ARGUMENT", "Illegal to list model a multiple times in config list")


def test_models_config_file_change_is_applied(reload_server):
    server, stub, _channel, repo = reload_server
    config = ours_config("a", "b")
    config.model_config_list.config[0].model_version_policy.latest.num_versions = 1
    write_config(repo / "models.config", config)
    wait_available(stub, "b", [1])
    wait_available(stub, "a", [2])
    wait_until(lambda: status_of(stub, "c")[1][0] == "END", timeout=60)
    # A file that does not parse is refused; the running config keeps serving.
    (repo / "models.config").write_text("model_config_list { config { name: ")
    assert version_of(stub, "b") == 1
    assert "models.config not applied" in wait_until(lambda: "not applied" in server.log() and server.log(), timeout=30)
