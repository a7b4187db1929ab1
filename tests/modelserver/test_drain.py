"""--enable_serialization_as_tensor_content, and SIGTERM: in-flight requests finish, then exit 0."""

from __future__ import annotations

import threading
import urllib.request

import grpc
import numpy as np
import pytest

from protos import codec, predict_pb2, rpc
from tests.modelserver.conftest import CHANNEL_OPTIONS, predict_request, wait_available
from tests.utils.savedmodels import publish_affine, publish_sleepy
from tests.utils.servers import ModelServerProcess, wait_until


def sleepy_request(micros: int) -> predict_pb2.PredictRequest:
    return predict_request(
        "sleepy",
        inputs={
            "x": codec.make_tensor_proto(np.array([[1.0, 2.0]], np.float32)),
            "micros": codec.make_tensor_proto(np.array([micros], np.int64)),
        },
    )


def inflight(server) -> float:
    text = urllib.request.urlopen(server.metrics_url, timeout=10).read().decode()
    line = next(l for l in text.splitlines() if l.startswith("modelserver_inflight_requests "))
    return float(line.split()[1])


def test_tensor_content_responses_and_sigterm_drain(tmp_path):
    publish_affine(tmp_path, 2.0, 0.0)
    publish_sleepy(tmp_path)
    server = ModelServerProcess(tmp_path / "models.config", extra_args=["--enable_serialization_as_tensor_content"])
    with server:
        channel = grpc.insecure_channel(server.address, options=CHANNEL_OPTIONS)
        stub = rpc.Stub(channel)
        wait_available(stub, "affine", [1])
        wait_available(stub, "sleepy", [1])

        reply = stub.Predict(predict_request("affine", [[1.0, 2.0]]), timeout=30)
        assert reply.outputs["y"].tensor_content and not reply.outputs["y"].float_val
        assert codec.make_ndarray(reply.outputs["y"]).tolist() == [[2.0, 4.0]]

        result: dict[str, object] = {}

        def slow_call() -> None:
            try:
                result["reply"] = stub.Predict(sleepy_request(4_000_000), timeout=120)
            except grpc.RpcError as e:
                result["error"] = f"{e.code().name}: {e.details()}"

        caller = threading.Thread(target=slow_call)
        caller.start()
        wait_until(lambda: inflight(server) >= 1, timeout=60, message="the slow request is in flight")
        server.terminate()  # SIGTERM while the request runs
        caller.join(timeout=120)
        assert "error" not in result, result
        assert codec.make_ndarray(result["reply"].outputs["y"]).tolist() == [[1.0, 2.0]]
        assert server.proc.wait(timeout=120) == 0
        with pytest.raises(grpc.RpcError) as info:  # gone: new requests are refused
            stub.Predict(predict_request("affine", [[1.0, 2.0]]), timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        channel.close()
    assert server.returncode == 0
    assert "received SIGTERM: draining" in server.log()


def test_sigterm_drains_rest_requests_too(tmp_path):
    """A REST predict in flight when SIGTERM arrives still gets its answer; then the REST port is closed."""
    import httpx

    publish_sleepy(tmp_path)
    server = ModelServerProcess(tmp_path / "models.config")
    with server:
        with grpc.insecure_channel(server.address) as channel:
            wait_available(rpc.Stub(channel), "sleepy", [1])
        result: dict[str, object] = {}

        def slow_call() -> None:
            try:
                result["reply"] = httpx.post(
                    f"{server.rest_url}/v1/models/sleepy:predict",
                    json={"inputs": {"x": [[1.0, 2.0]], "micros": [4_000_000]}},
                    timeout=120,
                )
            except httpx.HTTPError as e:
                result["error"] = repr(e)

        caller = threading.Thread(target=slow_call)
        caller.start()
        wait_until(lambda: inflight(server) >= 1, timeout=60, message="the slow REST request is in flight")
        server.terminate()
        caller.join(timeout=120)
        assert "error" not in result, result
        reply = result["reply"]
        assert reply.status_code == 200 and reply.json() == {"outputs": [[1.0, 2.0]]}
        assert server.proc.wait(timeout=120) == 0
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{server.rest_url}/v1/models/sleepy", timeout=10)
    assert server.returncode == 0
