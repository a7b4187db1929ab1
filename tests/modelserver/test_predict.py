"""Predict's request checks without TensorFlow: a fake servable with two inputs shows the order of checks,
the argument numbering and the response encoding."""

from __future__ import annotations

import numpy as np
import pytest

from modelserver.errors import FailedPrecondition, Internal, InvalidArgument
from modelserver.predict import RuntimeFailure, model_metadata, run_predict
from protos import codec, meta_graph_pb2, predict_pb2, rpc, types_pb2


class FakeServable:
    def __init__(self, method="tensorflow/serving/predict", fail=None):
        sig = meta_graph_pb2.SignatureDef(method_name=method)
        sig.inputs["a"].name, sig.inputs["a"].dtype = "in_a:0", types_pb2.DT_FLOAT
        sig.inputs["b"].name, sig.inputs["b"].dtype = "in_b:0", types_pb2.DT_INT64
        sig.outputs["sum"].name, sig.outputs["sum"].dtype = "out_sum:0", types_pb2.DT_FLOAT
        sig.outputs["label"].name, sig.outputs["label"].dtype = "out_label:0", types_pb2.DT_STRING
        self.signatures = {"serving_default": sig}
        self.calls = []
        self.fail = fail

    def run(self, feeds, fetches, timeout_ms=None):
        self.calls.append(([name for name, _ in feeds], list(fetches)))
        if self.fail:
            raise self.fail
        values = dict(feeds)
        out = {"out_sum:0": (values["in_a:0"] + values["in_b:0"]).astype(np.float32), "out_label:0": np.array([b"ok"] * len(values["in_a:0"]), dtype=object)}
        return [out[f] for f in fetches]


def request(a=np.array([1.5], np.float32), b=np.array([2], np.int64), **spec):
    req = predict_pb2.PredictRequest()
    req.model_spec.name = "m"
    for k, v in spec.items():
        setattr(req.model_spec, k, v) if k != "output_filter" else req.output_filter.extend(v)
    if a is not None:
        req.inputs["a"].CopyFrom(codec.make_tensor_proto(a))
    if b is not None:
        req.inputs["b"].CopyFrom(codec.make_tensor_proto(b))
    return req


def test_runs_by_tensor_names_and_echoes_the_resolved_spec():
    servable = FakeServable()
    reply = run_predict(servable, 7, request())
    assert servable.calls == [(["in_a:0", "in_b:0"], ["out_label:0", "out_sum:0"])]
    assert (reply.model_spec.name, reply.model_spec.version.value, reply.model_spec.signature_name) == ("m", 7, "serving_default")
    assert list(reply.outputs["sum"].float_val) == [3.5] and list(reply.outputs["label"].string_val) == [b"ok"]
    content = run_predict(FakeServable(), 7, request(), as_content=True)
    assert content.outputs["sum"].tensor_content and not content.outputs["sum"].float_val


def test_second_argument_wrong_dtype_is_arg_1():
    with pytest.raises(InvalidArgument, match=r"^Expects arg\[1\] to be int64 but float is provided$"):
        run_predict(FakeServable(), 1, request(b=np.array([2.0], np.float32)))


def test_checks_come_in_tf_servings_order():
    # Unknown signature beats everything else.
    with pytest.raises(FailedPrecondition):
        run_predict(FakeServable(), 1, request(a=None, signature_name="x"))
    # Input count beats output_filter.
    with pytest.raises(InvalidArgument, match="input size"):
        run_predict(FakeServable(), 1, request(a=None, output_filter=["nope"]))
    # A parse error beats output_filter and dtype.
    bad = request(output_filter=["nope"], b=np.array([2.0], np.float32))
    bad.inputs["a"].tensor_content = b"\0"
    with pytest.raises(InvalidArgument, match="^tensor parsing error: a$"):
        run_predict(FakeServable(), 1, bad)
    # output_filter beats dtype.
    with pytest.raises(InvalidArgument, match="output tensor alias not found"):
        run_predict(FakeServable(), 1, request(b=np.array([2.0], np.float32), output_filter=["nope"]))


def test_signature_method_must_be_a_prediction_method():
    with pytest.raises(Internal, match="Was: tensorflow/serving/other"):
        run_predict(FakeServable(method="tensorflow/serving/other"), 1, request())


def test_runtime_errors_keep_their_code():
    class OpError(Exception):
        error_code = 3  # INVALID_ARGUMENT, as tf.errors.OpError carries it
        message = "Incompatible shapes"

    with pytest.raises(RuntimeFailure) as info:
        run_predict(FakeServable(fail=OpError()), 1, request())
    assert (info.value.code, info.value.message) == ("INVALID_ARGUMENT", "Incompatible shapes")


def test_metadata_packs_every_signature():
    reply = model_metadata(FakeServable(), "m", 3)
    assert reply.model_spec.version.value == 3
    assert set(rpc.unpack_signature_def_map(reply.metadata["signature_def"]).signature_def) == {"serving_default"}
