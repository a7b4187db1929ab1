"""Fixtures for the model server tests: one shared repository and one real server process for the whole
session (TensorFlow start-up is the expensive part), plus client helpers."""

from __future__ import annotations

from pathlib import Path

import grpc
import numpy as np
import pytest

from common.repository import read_config, write_config
from protos import codec, get_model_status_pb2, predict_pb2, rpc
from tests.utils.savedmodels import publish_affine
from tests.utils.servers import ModelServerProcess, wait_until

BIG = 64 * 1024 * 1024
CHANNEL_OPTIONS = [("grpc.max_send_message_length", BIG), ("grpc.max_receive_message_length", BIG)]


def predict_request(model: str, x=None, *, version=None, label=None, signature="", output_filter=(), inputs=None):
    req = predict_pb2.PredictRequest()
    req.model_spec.name = model
    if version is not None:
        req.model_spec.version.value = version
    if label is not None:
        req.model_spec.version_label = label
    if signature:
        req.model_spec.signature_name = signature
    if inputs is None:
        inputs = {"x": codec.make_tensor_proto(np.asarray(x, np.float32))}
    for alias, proto in inputs.items():
        req.inputs[alias].CopyFrom(proto)
    req.output_filter.extend(output_filter)
    return req


def status_of(stub, model: str, version: int | None = None) -> dict[int, tuple[str, str]]:
    """{version: (state name, error message)} from GetModelStatus."""
    req = get_model_status_pb2.GetModelStatusRequest()
    req.model_spec.name = model
    if version is not None:
        req.model_spec.version.value = version
    reply = stub.GetModelStatus(req, timeout=10)
    return {
        s.version: (get_model_status_pb2.ModelVersionStatus.State.Name(s.state), s.status.error_message)
        for s in reply.model_version_status
    }


def wait_available(stub, model: str, versions: list[int], timeout: float = 180.0) -> None:
    def ok():
        st = status_of(stub, model)
        return sorted(v for v, (s, _) in st.items() if s == "AVAILABLE") == sorted(versions)

    wait_until(ok, timeout=timeout, interval=0.1, message=f"{model} versions {versions} AVAILABLE")


def set_model_config(config_path: Path, name: str, *, policy: str | None = None, versions=(), num_versions=1, labels=None) -> None:
    """Edit one model's entry of models.config in place (atomically), leaving the others alone."""
    config = read_config(config_path)
    for mc in config.model_config_list.config:
        if mc.name == name:
            if policy == "all":
                mc.model_version_policy.all.SetInParent()
            elif policy == "specific":
                mc.model_version_policy.specific.versions[:] = list(versions)
            elif policy == "latest":
                mc.model_version_policy.latest.num_versions = num_versions
            if labels is not None:
                mc.version_labels.clear()
                mc.version_labels.update(labels)
            break
    else:
        raise KeyError(name)
    write_config(config_path, config)


@pytest.fixture(scope="session")
def shared_repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("servables")
    publish_affine(repo, 2.0, 1.0)  # affine v1: y = 2x + 1
    return repo


@pytest.fixture(scope="session")
def server(shared_repo):
    with ModelServerProcess(shared_repo / "models.config") as proc:
        yield proc


@pytest.fixture(scope="session")
def channel(server):
    ch = grpc.insecure_channel(server.address, options=CHANNEL_OPTIONS)
    yield ch
    ch.close()


@pytest.fixture(scope="session")
def stub(channel, server):
    s = rpc.Stub(channel)
    wait_available(s, "affine", [1])
    return s
