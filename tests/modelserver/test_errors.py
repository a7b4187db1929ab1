"""Every error of docs/design.md §6, against the real server: TF Serving's status code and exact message."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from common.repository import ensure_model
from protos import codec, get_model_metadata_pb2, get_model_status_pb2, predict_pb2, tensor_pb2, types_pb2
from tests.modelserver.conftest import predict_request

X = [[1.0, 2.0]]


def f32(x=X):
    return codec.make_tensor_proto(np.asarray(x, np.float32))


def short_content():
    p = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_content=b"\0\0\0\0")
    p.tensor_shape.dim.add(size=1)
    p.tensor_shape.dim.add(size=2)
    return p


def no_spec():
    req = predict_pb2.PredictRequest()
    req.inputs["x"].CopyFrom(f32())
    return req


PREDICT_ERRORS = {
    "unknown_model": (predict_request("nope", X), "NOT_FOUND", "Servable not found for request: Latest(nope)"),
    "unknown_version": (predict_request("affine", X, version=99), "NOT_FOUND", "Servable not found for request: Specific(affine, 99)"),
    "missing_model_spec": (no_spec(), "INVALID_ARGUMENT", "Missing ModelSpec"),
    "empty_name": (predict_request("", X), "INVALID_ARGUMENT", "ModelSpec has no name specified."),
    "unknown_label": (predict_request("affine", X, label="nope"), "INVALID_ARGUMENT", "Unrecognized servable version label: nope"),
    "unknown_signature": (predict_request("affine", X, signature="nope"), "FAILED_PRECONDITION", 'Serving signature key "nope" not found.'),
    "missing_input": (
        predict_request("affine", inputs={}),
        "INVALID_ARGUMENT",
        "input size does not match signature: 0!=1 len({}) != len({x}). Sent extra: {}. Missing but required: {x}.",
    ),
    "extra_input": (
        predict_request("affine", inputs={"x": f32(), "z": f32(), "a": f32()}),
        "INVALID_ARGUMENT",
        "input size does not match signature: 3!=1 len({a,x,z}) != len({x}). Sent extra: {a,z}. Missing but required: {}.",
    ),
    "wrong_input_alias": (
        predict_request("affine", inputs={"z": f32()}),
        "INVALID_ARGUMENT",
        "input tensor alias not found in signature: z. Inputs expected to be in the set {x}.",
    ),
    "unknown_output_filter": (
        predict_request("affine", X, output_filter=["nope"]),
        "INVALID_ARGUMENT",
        "output tensor alias not found in signature: nope Outputs expected to be in the set {total,y}.",
    ),
    "duplicate_output_filter": (
        predict_request("affine", X, output_filter=["y", "total", "y"]),
        "INVALID_ARGUMENT",
        "duplicate output tensor alias: y",
    ),
    "wrong_dtype": (
        predict_request("affine", inputs={"x": codec.make_tensor_proto(np.array([[b"a", b"b"]], dtype=object))}),
        "INVALID_ARGUMENT",
        "Expects arg[0] to be float but string is provided",
    ),
    "wrong_dtype_int": (
        predict_request("affine", inputs={"x": codec.make_tensor_proto(np.array([[1, 2]], np.int64))}),
        "INVALID_ARGUMENT",
        "Expects arg[0] to be float but int64 is provided",
    ),
    "tensor_content_length": (predict_request("affine", inputs={"x": short_content()}), "INVALID_ARGUMENT", "tensor parsing error: x"),
    "too_many_typed_values": (
        predict_request("affine", inputs={"x": tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[1, 2, 3], tensor_shape={"dim": [{"size": 1}, {"size": 2}]})}),
        "INVALID_ARGUMENT",
        "tensor parsing error: x",
    ),
}


@pytest.mark.parametrize("case", sorted(PREDICT_ERRORS))
def test_predict_errors(stub, case):
    request, code, message = PREDICT_ERRORS[case]
    with pytest.raises(grpc.RpcError) as info:
        stub.Predict(request, timeout=30)
    assert (info.value.code().name, info.value.details()) == (code, message)


def test_not_loaded_yet_is_not_found(stub, shared_repo, server):
    """A configured model without any version: the server serves others and answers NOT_FOUND for it."""
    ensure_model(shared_repo / "models.config", "pending")
    from tests.utils.servers import wait_until

    def configured_but_not_found():
        try:
            stub.Predict(predict_request("pending", X), timeout=10)
        except grpc.RpcError as e:
            return (e.code().name, e.details()) == ("NOT_FOUND", "Servable not found for request: Latest(pending)")
        return False

    wait_until(configured_but_not_found, timeout=30)
    with pytest.raises(grpc.RpcError) as info:
        stub.GetModelStatus(get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "pending"}), timeout=10)
    assert (info.value.code().name, info.value.details()) == ("NOT_FOUND", "Could not find any versions of model pending")


STATUS_ERRORS = {
    "unknown_model": ({"model_spec": {"name": "nope"}}, "NOT_FOUND", "Could not find any versions of model nope"),
    "unknown_version": ({"model_spec": {"name": "affine", "version": {"value": 99}}}, "NOT_FOUND", "Could not find version 99 of model affine"),
    "missing_model_spec": ({}, "INVALID_ARGUMENT", "Missing ModelSpec"),
}


@pytest.mark.parametrize("case", sorted(STATUS_ERRORS))
def test_get_model_status_errors(stub, case):
    fields, code, message = STATUS_ERRORS[case]
    with pytest.raises(grpc.RpcError) as info:
        stub.GetModelStatus(get_model_status_pb2.GetModelStatusRequest(**fields), timeout=10)
    assert (info.value.code().name, info.value.details()) == (code, message)


METADATA_ERRORS = {
    "missing_model_spec": ({"metadata_field": ["signature_def"]}, "INVALID_ARGUMENT", "Missing ModelSpec"),
    "empty_name": ({"model_spec": {"name": ""}, "metadata_field": ["signature_def"]}, "INVALID_ARGUMENT", "ModelSpec has no name specified."),
    "no_field": ({"model_spec": {"name": "affine"}}, "INVALID_ARGUMENT", "GetModelMetadataRequest must specify at least one metadata_field"),
    "bad_field": ({"model_spec": {"name": "affine"}, "metadata_field": ["nope"]}, "INVALID_ARGUMENT", "Metadata field nope is not supported"),
    "unknown_model": ({"model_spec": {"name": "nope"}, "metadata_field": ["signature_def"]}, "NOT_FOUND", "Servable not found for request: Latest(nope)"),
    "unknown_version": (
        {"model_spec": {"name": "affine", "version": {"value": 7}}, "metadata_field": ["signature_def"]},
        "NOT_FOUND",
        "Servable not found for request: Specific(affine, 7)",
    ),
}


@pytest.mark.parametrize("case", sorted(METADATA_ERRORS))
def test_get_model_metadata_errors(stub, case):
    fields, code, message = METADATA_ERRORS[case]
    with pytest.raises(grpc.RpcError) as info:
        stub.GetModelMetadata(get_model_metadata_pb2.GetModelMetadataRequest(**fields), timeout=10)
    assert (info.value.code().name, info.value.details()) == (code, message)


def test_bad_requests_leave_the_server_up(stub):
    reply = stub.Predict(predict_request("affine", X), timeout=30)
    assert codec.make_ndarray(reply.outputs["y"]).tolist() == [[3.0, 5.0]]
