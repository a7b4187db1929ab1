"""Our `tfsplatform` messages against the official TensorFlow / TF Serving ones, in one process."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import descriptor as _d
from google.protobuf import text_format
from tensorflow.core.framework import tensor_pb2 as tf_tensor_pb2
from tensorflow_serving.apis import get_model_metadata_pb2 as off_meta
from tensorflow_serving.apis import get_model_status_pb2 as off_status
from tensorflow_serving.apis import model_management_pb2 as off_mgmt
from tensorflow_serving.apis import predict_pb2 as off_predict
from tensorflow_serving.config import model_server_config_pb2 as off_msc

from protos import codec, generate, get_model_metadata_pb2, get_model_status_pb2, model_management_pb2
from protos import model_server_config_pb2, predict_pb2, rpc, tensor_pb2

PAIRS = [
    (predict_pb2.PredictRequest, off_predict.PredictRequest),
    (predict_pb2.PredictResponse, off_predict.PredictResponse),
    (get_model_metadata_pb2.GetModelMetadataRequest, off_meta.GetModelMetadataRequest),
    (get_model_metadata_pb2.GetModelMetadataResponse, off_meta.GetModelMetadataResponse),
    (get_model_metadata_pb2.SignatureDefMap, off_meta.SignatureDefMap),
    (get_model_status_pb2.GetModelStatusRequest, off_status.GetModelStatusRequest),
    (get_model_status_pb2.GetModelStatusResponse, off_status.GetModelStatusResponse),
    (model_management_pb2.ReloadConfigRequest, off_mgmt.ReloadConfigRequest),
    (model_management_pb2.ReloadConfigResponse, off_mgmt.ReloadConfigResponse),
    (model_server_config_pb2.ModelServerConfig, off_msc.ModelServerConfig),
    (tensor_pb2.TensorProto, tf_tensor_pb2.TensorProto),
]


def _compare(ours: _d.Descriptor, official: _d.Descriptor, seen: set[str]) -> None:
    if ours.full_name in seen:
        return
    seen.add(ours.full_name)
    theirs = {f.number: f for f in official.fields}
    for f in ours.fields:
        assert f.number in theirs, f"{ours.full_name}.{f.name} (#{f.number}) does not exist in {official.full_name}"
        o = theirs[f.number]
        assert f.name == o.name, f"{ours.full_name} #{f.number}: {f.name} != {o.name}"
        assert f.type == o.type, f"{ours.full_name}.{f.name}: type {f.type} != {o.type}"
        assert f.is_repeated == o.is_repeated, f"{ours.full_name}.{f.name}: repeated differs"
        if f.enum_type is not None:
            theirs_values = {v.number: v.name for v in o.enum_type.values}
            for v in f.enum_type.values:
                assert theirs_values.get(v.number) == v.name, f"{f.enum_type.full_name}.{v.name} = {v.number} differs"
        if f.message_type is not None and not f.message_type.full_name.startswith("google.protobuf"):
            _compare(f.message_type, o.message_type, seen)
        elif f.message_type is not None:
            assert f.message_type.full_name == o.message_type.full_name


@pytest.mark.parametrize("ours,official", PAIRS, ids=lambda m: m.DESCRIPTOR.name)
def test_fields_have_official_numbers_names_and_types(ours, official) -> None:
    _compare(ours.DESCRIPTOR, official.DESCRIPTOR, set())


def test_no_name_clash_with_official_descriptors() -> None:
    # Both sets are imported in this process; their files and packages must differ.
    assert predict_pb2.DESCRIPTOR.name == "protos/predict.proto"
    assert predict_pb2.PredictRequest.DESCRIPTOR.full_name.startswith("tfsplatform.")
    assert off_predict.PredictRequest.DESCRIPTOR.full_name == "tensorflow.serving.PredictRequest"


def test_predict_request_round_trips_between_official_and_ours() -> None:
    req = off_predict.PredictRequest()
    req.model_spec.name = "antispam"
    req.model_spec.version.value = 7
    req.model_spec.signature_name = "serving_default"
    req.inputs["x"].CopyFrom(tf.make_tensor_proto(np.arange(12, dtype=np.float32).reshape(1, 3, 4)))
    req.output_filter.append("probabilities")
    ours = predict_pb2.PredictRequest.FromString(req.SerializeToString())
    assert ours.model_spec.version.value == 7
    np.testing.assert_array_equal(codec.make_ndarray(ours.inputs["x"]), tf.make_ndarray(req.inputs["x"]))
    assert off_predict.PredictRequest.FromString(ours.SerializeToString()) == req


def test_signature_def_map_any_uses_tf_serving_type_url() -> None:
    sig_map = get_model_metadata_pb2.SignatureDefMap()
    sig_map.signature_def["serving_default"].method_name = "tensorflow/serving/predict"
    resp = get_model_metadata_pb2.GetModelMetadataResponse()
    resp.metadata["signature_def"].CopyFrom(rpc.pack_signature_def_map(sig_map))
    official = off_meta.GetModelMetadataResponse.FromString(resp.SerializeToString())
    unpacked = off_meta.SignatureDefMap()
    assert official.metadata["signature_def"].Unpack(unpacked)
    assert unpacked.signature_def["serving_default"].method_name == "tensorflow/serving/predict"
    assert rpc.unpack_signature_def_map(resp.metadata["signature_def"]) == sig_map


MODELS_CONFIG = """
model_config_list {
  config {
    name: "antispam"
    base_path: "/models/antispam"
    model_platform: "tensorflow"
    model_version_policy { specific { versions: 1 versions: 2 } }
    version_labels { key: "stable" value: 1 }
    version_labels { key: "canary" value: 2 }
  }
  config {
    name: "srgan"
    base_path: "/models/srgan"
    model_platform: "tensorflow"
    model_version_policy { latest { num_versions: 2 } }
  }
}
"""


def test_models_config_text_parses_identically_with_official_protos() -> None:
    ours = text_format.Parse(MODELS_CONFIG, model_server_config_pb2.ModelServerConfig())
    official = text_format.Parse(MODELS_CONFIG, off_msc.ModelServerConfig())
    assert off_msc.ModelServerConfig.FromString(ours.SerializeToString()) == official
    # and what we write back parses with the official message
    assert text_format.Parse(text_format.MessageToString(ours), off_msc.ModelServerConfig()) == official


def test_generated_code_is_not_stale() -> None:
    assert generate.stale_files() == [], "run `make protos`"
