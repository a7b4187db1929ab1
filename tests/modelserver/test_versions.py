"""Versions on the real server: hot swap under load, corrupt and half-copied versions, a failed warm-up,
policies and labels from models.config."""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from pathlib import Path

import grpc
import numpy as np
import pytest

from common.manifest import ASSETS_EXTRA, WARMUP_NAME
from protos import codec
from tests.modelserver.conftest import predict_request, set_model_config, status_of, wait_available
from tests.utils.savedmodels import affine_expected, publish_affine
from tests.utils.servers import wait_until

X = np.array([[1.0, 2.0]], np.float32)


def outputs(stub, model, **spec):
    reply = stub.Predict(predict_request(model, X, **spec), timeout=30)
    return reply.model_spec.version.value, codec.make_ndarray(reply.outputs["y"]).tolist()


def test_hot_swap_under_load_loses_no_request(stub, shared_repo):
    params = {1: (1.0, 0.0), 2: (5.0, -2.0)}
    publish_affine(shared_repo, *params[1], model="swap")
    wait_available(stub, "swap", [1])

    stop = threading.Event()
    seen: Counter[int] = Counter()
    failures: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        while not stop.is_set():
            try:
                version, y = outputs(stub, "swap")
                expected = affine_expected(X, *params[version])["y"].tolist()
                with lock:
                    seen[version] += 1
                    if y != expected:  # every answer comes whole from the version it names
                        failures.append(f"version {version} answered {y}, expected {expected}")
            except grpc.RpcError as e:
                with lock:
                    failures.append(f"{e.code().name}: {e.details()}")

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: seen[1] >= 20, timeout=60)
        publish_affine(shared_repo, *params[2], model="swap")
        wait_until(lambda: seen[2] >= 20, timeout=180, message="responses move to version 2")
        wait_until(lambda: status_of(stub, "swap").get(1, ("",))[0] == "END", timeout=60, message="version 1 unloaded")
        count_at_end = seen[1]
        wait_until(lambda: seen[2] >= 40, timeout=60)
        assert seen[1] == count_at_end  # nothing served by the unloaded version
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    assert status_of(stub, "swap") == {2: ("AVAILABLE", ""), 1: ("END", "")}


def copy_as_version(model_dir: Path, source: int, target: int, damage) -> Path:
    """Copy a good version to a temporary name, damage it, then rename to the integer (what a broken
    copy tool or disk would leave, appearing at once)."""
    tmp = model_dir / f".tmp-damaged-{target}"
    shutil.copytree(model_dir / str(source), tmp)
    damage(tmp)
    final = model_dir / str(target)
    tmp.rename(final)
    return final


def truncate_saved_model(d: Path) -> None:
    pb = d / "saved_model.pb"
    pb.write_bytes(pb.read_bytes()[: pb.stat().st_size // 3])


def drop_variables_data(d: Path) -> None:
    for f in (d / "variables").glob("variables.data-*"):
        f.unlink()


def corrupt_warmup(d: Path) -> None:
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

    req = predict_pb2.PredictRequest()
    req.model_spec.name = "broken"
    req.inputs["not_x"].CopyFrom(tf.make_tensor_proto(X))
    with tf.io.TFRecordWriter(str(d / ASSETS_EXTRA / WARMUP_NAME)) as w:
        w.write(prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=req)).SerializeToString())


@pytest.mark.parametrize(
    "damage, words",
    [
        (truncate_saved_model, ""),
        (drop_variables_data, ""),
        (corrupt_warmup, "warm-up record 0 failed: INVALID_ARGUMENT: input tensor alias not found in signature: not_x"),
    ],
    ids=["truncated_saved_model_pb", "half_copied_variables", "failing_warmup"],
)
def test_broken_version_never_replaces_a_working_one(stub, shared_repo, damage, words):
    model = f"broken_{damage.__name__}"
    publish_affine(shared_repo, 3.0, 0.0, model=model)
    wait_available(stub, model, [1])
    copy_as_version(shared_repo / model, 1, 2, damage)

    wait_until(lambda: status_of(stub, model).get(2, ("",))[0] == "END", timeout=120, message="version 2 fails")
    state, error = status_of(stub, model, 2)[2]
    assert error, "GetModelStatus carries the load error"
    assert words in error
    assert status_of(stub, model)[1] == ("AVAILABLE", "")
    assert outputs(stub, model) == (1, affine_expected(X, 3.0, 0.0)["y"].tolist())
    # A good version published after the broken one still comes online and replaces version 1.
    publish_affine(shared_repo, 6.0, 0.0, model=model)
    wait_available(stub, model, [3])
    assert outputs(stub, model) == (3, affine_expected(X, 6.0, 0.0)["y"].tolist())
    assert status_of(stub, model)[2][0] == "END"


def test_policies_from_models_config(stub, shared_repo):
    model = "policies"
    for a in (1.0, 2.0, 3.0):
        publish_affine(shared_repo, a, 0.0, model=model)
    wait_available(stub, model, [3])  # default policy: latest 1
    config = shared_repo / "models.config"
    set_model_config(config, model, policy="all")
    wait_available(stub, model, [1, 2, 3])
    assert [outputs(stub, model, version=v)[0] for v in (1, 2, 3)] == [1, 2, 3]
    assert outputs(stub, model)[0] == 3  # unpinned = latest
    set_model_config(config, model, policy="latest", num_versions=2)
    wait_available(stub, model, [2, 3])
    assert status_of(stub, model, 1)[1][0] == "END"
    set_model_config(config, model, policy="specific", versions=[1])
    wait_available(stub, model, [1])
    assert outputs(stub, model) == (1, affine_expected(X, 1.0, 0.0)["y"].tolist())


def test_labels_from_models_config(stub, shared_repo):
    model = "labelled"
    for a in (1.0, 2.0):
        publish_affine(shared_repo, a, 0.0, model=model)
    config = shared_repo / "models.config"
    set_model_config(config, model, policy="all", labels={"stable": 1, "canary": 2})
    wait_available(stub, model, [1, 2])
    wait_until(lambda: outputs(stub, model, label="stable")[0] == 1, timeout=30)
    assert outputs(stub, model, label="canary")[0] == 2
    # Rollback: move the label back without restarting anything.
    set_model_config(config, model, labels={"stable": 1, "canary": 1})
    wait_until(lambda: outputs(stub, model, label="canary")[0] == 1, timeout=30)
    # A label on a version that is not AVAILABLE does not resolve (the old target, if any, stays).
    set_model_config(config, model, labels={"stable": 2, "canary": 1, "future": 9})
    wait_until(lambda: outputs(stub, model, label="stable")[0] == 2, timeout=30)  # this config is applied
    with pytest.raises(grpc.RpcError) as info:
        outputs(stub, model, label="future")
    assert (info.value.code().name, info.value.details()) == ("INVALID_ARGUMENT", "Unrecognized servable version label: future")
