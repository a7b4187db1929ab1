"""The anti-spam model served by `python -m modelserver`: REST predict (TF Serving's JSON, row and columnar)
gives the same probabilities as gRPC Predict, within 1e-6 (issue 26's acceptance)."""

from __future__ import annotations

import grpc
import httpx
import numpy as np

from protos import codec, predict_pb2, rpc
from tests.utils.servers import ModelServerProcess, wait_model_available

TEXTS = ["本店新品上市，全场八折优惠，详询13800138000", "今天下午三点在会议室开会，请大家准时参加并带好材料。", "好的"]


def test_rest_predict_equals_grpc_predict(antispam_repo, family_assets) -> None:
    family, assets = family_assets
    x = family.preprocess(family.Inputs.model_validate({"texts": TEXTS}), assets).arrays["x"].astype(np.float32)  # [B, T, 200]
    with ModelServerProcess(antispam_repo / "models.config") as server:
        version = wait_model_available(server.address, "antispam")
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "antispam"
        request.inputs["x"].CopyFrom(codec.make_tensor_proto(x))
        with grpc.insecure_channel(server.address) as channel:
            reply = rpc.Stub(channel).Predict(request, timeout=60)
        via_grpc = codec.make_ndarray(reply.outputs["probabilities"])
        assert reply.model_spec.version.value == version

        with httpx.Client(base_url=server.rest_url, timeout=60) as client:
            row = client.post("/v1/models/antispam:predict", json={"instances": x.tolist()})
            columnar = client.post(f"/v1/models/antispam/versions/{version}:predict", json={"inputs": {"x": x.tolist()}})
    assert row.status_code == 200 and columnar.status_code == 200, (row.text, columnar.text)
    via_row = np.array(row.json()["predictions"], np.float64)  # single output: no name, one row per text
    via_columnar = np.array(columnar.json()["outputs"], np.float64)
    assert via_grpc.shape == via_row.shape == via_columnar.shape == (len(TEXTS), 2)
    assert np.max(np.abs(via_row - via_grpc)) <= 1e-6
    assert np.max(np.abs(via_columnar - via_grpc)) <= 1e-6
