"""Serving against the real server: the official TF Serving client and ours agree; TF1 exports serve;
signatures, output_filter, typed values and broadcast, big messages, metrics."""

from __future__ import annotations

import urllib.request

import numpy as np

from protos import codec, get_model_metadata_pb2, get_model_status_pb2, predict_pb2, rpc, tensor_pb2, types_pb2
from tests.modelserver.conftest import predict_request, wait_available
from tests.utils.savedmodels import affine_expected, publish_affine

X = np.array([[1.0, 2.0], [-3.0, 0.5]], np.float32)


def test_official_client_and_ours_get_identical_answers(stub, channel):
    import tensorflow as tf
    from tensorflow_serving.apis import get_model_metadata_pb2 as o_meta
    from tensorflow_serving.apis import get_model_status_pb2 as o_status
    from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc
    from tensorflow_serving.apis import predict_pb2 as o_predict

    official = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    official_models = model_service_pb2_grpc.ModelServiceStub(channel)

    o_req = o_predict.PredictRequest()
    o_req.model_spec.name = "affine"
    o_req.inputs["x"].CopyFrom(tf.make_tensor_proto(X))
    o_reply = official.Predict(o_req, timeout=30)
    ours = stub.Predict(predict_request("affine", X), timeout=30)
    assert predict_pb2.PredictResponse.FromString(o_reply.SerializeToString()) == ours
    assert tf.make_ndarray(o_reply.outputs["y"]).tolist() == affine_expected(X, 2.0, 1.0)["y"].tolist()
    assert (o_reply.model_spec.name, o_reply.model_spec.version.value, o_reply.model_spec.signature_name) == ("affine", 1, "serving_default")
    # Typed *_val fields by default, as TF Serving (clients read float_val directly).
    assert list(o_reply.outputs["total"].float_val) == affine_expected(X, 2.0, 1.0)["total"].tolist()
    assert not o_reply.outputs["total"].tensor_content

    o_meta_req = o_meta.GetModelMetadataRequest(metadata_field=["signature_def"])
    o_meta_req.model_spec.name = "affine"
    o_meta_reply = official.GetModelMetadata(o_meta_req, timeout=30)
    our_meta = stub.GetModelMetadata(
        get_model_metadata_pb2.GetModelMetadataRequest(model_spec={"name": "affine"}, metadata_field=["signature_def"]), timeout=30
    )
    assert get_model_metadata_pb2.GetModelMetadataResponse.FromString(o_meta_reply.SerializeToString()) == our_meta
    sig_map = o_meta.SignatureDefMap()
    assert o_meta_reply.metadata["signature_def"].Unpack(sig_map)  # the official Any type URL
    assert set(sig_map.signature_def) >= {"serving_default", "doubled"}
    sig = sig_map.signature_def["serving_default"]
    assert set(sig.inputs) == {"x"} and set(sig.outputs) == {"y", "total"} and sig.inputs["x"].dtype == types_pb2.DT_FLOAT
    assert rpc.unpack_signature_def_map(our_meta.metadata["signature_def"]).signature_def["doubled"].outputs["y"].dtype == types_pb2.DT_FLOAT

    o_status_req = o_status.GetModelStatusRequest()
    o_status_req.model_spec.name = "affine"
    o_status_reply = official_models.GetModelStatus(o_status_req, timeout=30)
    our_status = stub.GetModelStatus(get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "affine"}), timeout=30)
    assert get_model_status_pb2.GetModelStatusResponse.FromString(o_status_reply.SerializeToString()) == our_status
    assert [(s.version, o_status.ModelVersionStatus.State.Name(s.state)) for s in o_status_reply.model_version_status] == [(1, "AVAILABLE")]


def test_signature_choice_and_output_filter(stub):
    reply = stub.Predict(predict_request("affine", X, signature="doubled"), timeout=30)
    assert reply.model_spec.signature_name == "doubled"
    assert codec.make_ndarray(reply.outputs["y"]).tolist() == (2 * affine_expected(X, 2.0, 1.0)["y"]).tolist()
    reply = stub.Predict(predict_request("affine", X, output_filter=["total"]), timeout=30)
    assert list(reply.outputs) == ["total"]
    reply = stub.Predict(predict_request("affine", X, version=1), timeout=30)
    assert reply.model_spec.version.value == 1


def test_typed_values_and_single_value_broadcast(stub):
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[1.5])
    proto.tensor_shape.dim.add(size=3)
    proto.tensor_shape.dim.add(size=2)
    reply = stub.Predict(predict_request("affine", inputs={"x": proto}), timeout=30)
    assert codec.make_ndarray(reply.outputs["y"]).tolist() == [[4.0, 4.0]] * 3
    typed = codec.make_tensor_proto(X, as_content=False)
    assert typed.float_val and not typed.tensor_content
    assert stub.Predict(predict_request("affine", inputs={"x": typed}), timeout=30) == stub.Predict(predict_request("affine", X), timeout=30)


def test_messages_beyond_grpcs_4mib_default(stub):
    x = np.ones((1_000_000, 2), np.float32)  # 8 MB in, ~12 MB out
    reply = stub.Predict(predict_request("affine", x, output_filter=["total"]), timeout=120)
    total = codec.make_ndarray(reply.outputs["total"])
    assert total.shape == (1_000_000,) and float(total[0]) == 6.0


def test_tf1_savedmodelbuilder_export_serves(stub, shared_repo):
    publish_affine(shared_repo, 4.0, -1.0, model="tf1affine", tf1=True)
    wait_available(stub, "tf1affine", [1])
    reply = stub.Predict(predict_request("tf1affine", X), timeout=30)
    assert codec.make_ndarray(reply.outputs["y"]).tolist() == affine_expected(X, 4.0, -1.0)["y"].tolist()
    meta = stub.GetModelMetadata(
        get_model_metadata_pb2.GetModelMetadataRequest(model_spec={"name": "tf1affine"}, metadata_field=["signature_def"]), timeout=30
    )
    sig = rpc.unpack_signature_def_map(meta.metadata["signature_def"]).signature_def["serving_default"]
    assert sig.inputs["x"].name == "input_x:0" and sig.outputs["y"].name == "output_y:0"


def test_metrics_endpoint(stub, server):
    stub.Predict(predict_request("affine", X), timeout=30)
    text = urllib.request.urlopen(server.metrics_url, timeout=30).read().decode()
    assert 'modelserver_requests_total{code="OK",method="Predict",model="affine",version="1"}' in text
    assert 'modelserver_request_latency_seconds_count{method="Predict",model="affine",version="1"}' in text
    assert 'modelserver_version_available{model="affine",version="1"} 1.0' in text
    assert 'modelserver_load_latency_seconds_count{model="affine",outcome="ok"}' in text
    assert "modelserver_inflight_requests" in text


def test_health_service(server):
    from tests.utils.servers import grpc_health_status

    assert grpc_health_status(server.address) == "SERVING"
    assert grpc_health_status(server.address, "tensorflow.serving.PredictionService") == "SERVING"


def test_tensorflow_thread_flags_serve_the_same_answers(shared_repo, stub):
    """`--tensorflow_inter_op_parallelism -1` runs every op in the RPC thread, `--tensorflow_intra_op_parallelism 1`
    keeps each op on one thread: a real server started so answers exactly as the default one."""
    import grpc

    from tests.modelserver.conftest import CHANNEL_OPTIONS
    from tests.utils.servers import ModelServerProcess

    flags = ["--tensorflow_intra_op_parallelism", "1", "--tensorflow_inter_op_parallelism", "-1"]
    default = stub.Predict(predict_request("affine", X), timeout=30)
    with ModelServerProcess(shared_repo / "models.config", extra_args=flags) as server:
        with grpc.insecure_channel(server.address, options=CHANNEL_OPTIONS) as ch:
            tuned = rpc.Stub(ch)
            wait_available(tuned, "affine", [1])
            reply = tuned.Predict(predict_request("affine", X), timeout=30)
    assert reply == default
    assert codec.make_ndarray(reply.outputs["y"]).tolist() == affine_expected(X, 2.0, 1.0)["y"].tolist()
