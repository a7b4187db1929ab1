"""training.export: atomic, contract-checked, never reuses a version number."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from common import manifest as mf
from common import repository
from common.signatures import Signature, f32
from training.export import TMP_PREFIX, ExportError, ExportSpec, publish, read_signature_def

SIG = Signature({"x": f32(-1, 3)}, {"y": f32(-1, 3)})


def _writer(scale: float, out_alias: str = "y"):
    def write(path: Path) -> None:
        module = tf.Module()
        module.scale = tf.Variable(scale)

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def serve(x):
            return {out_alias: x * module.scale}

        tf.saved_model.save(module, str(path), signatures={"serving_default": serve})

    return write


def _spec(scale: float = 2.0, **kw) -> ExportSpec:
    defaults = dict(
        model="toy", family="toy", preset="tiny", write_savedmodel=_writer(scale),
        warmup_inputs={"x": np.ones((2, 3), np.float32)}, training_data_hash="sha256:test",
        metrics={"accuracy": 0.5}, preprocessing={"p": 1}, assets={"vocab.txt": b"a\nb\n"}, signature=SIG,
    )
    defaults.update(kw)
    return ExportSpec(**defaults)


def test_publish_numbers_versions_and_writes_contract(tmp_path: Path) -> None:
    first = publish(_spec(), tmp_path)
    second = publish(_spec(3.0), tmp_path)
    assert (first.version, second.version) == (1, 2)
    assert sorted(repository.list_versions(tmp_path / "toy")) == [1, 2]
    manifest = mf.read_manifest(second.path)
    assert manifest["version"] == 2 and manifest["family"] == "toy" and manifest["metrics"] == {"accuracy": 0.5}
    assert manifest["signature"]["inputs"] == {"x": {"dtype": "float32", "shape": [-1, 3]}}
    assert (mf.assets_dir(second.path) / "vocab.txt").read_bytes() == b"a\nb\n"
    # aliases are read back from saved_model.pb, not assumed
    assert read_signature_def(second.path) == {"inputs": {"x": ("float32", (-1, 3))}, "outputs": {"y": ("float32", (-1, 3))}}
    # warm-up: one record with the whole batch plus one per row, readable as TF Serving reads them
    from tensorflow_serving.apis import prediction_log_pb2

    records = [prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in tf.data.TFRecordDataset(str(mf.assets_dir(second.path) / mf.WARMUP_NAME))]
    assert len(records) == 3 and records[0].predict_log.request.model_spec.name == "toy"
    config = repository.read_config(tmp_path / "models.config")
    assert [c.name for c in config.model_config_list.config] == ["toy"]
    assert config.model_config_list.config[0].base_path == "/models/toy"


def test_contract_violation_publishes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="aliases"):
        publish(_spec(write_savedmodel=_writer(1.0, out_alias="wrong")), tmp_path)
    assert list((tmp_path / "toy").iterdir()) == []
    assert not (tmp_path / "models.config").exists()


def test_version_numbers_are_never_reused(tmp_path: Path) -> None:
    publish(_spec(), tmp_path)
    second = publish(_spec(), tmp_path)
    shutil.rmtree(second.path)  # e.g. a bad version removed for rollback
    assert publish(_spec(), tmp_path).version == 3


def test_leftover_temporary_of_a_dead_process_is_removed(tmp_path: Path) -> None:
    dead = tmp_path / "toy" / f"{TMP_PREFIX}999999999-deadbeef"
    dead.mkdir(parents=True)
    publish(_spec(), tmp_path)
    assert not dead.exists()


def test_manifest_is_plain_json(tmp_path: Path) -> None:
    pub = publish(_spec(metrics={"acc": np.float32(0.25), "cm": np.eye(2, dtype=np.int64)}), tmp_path)
    data = json.loads(mf.manifest_path(pub.path).read_text())
    assert data["metrics"] == {"acc": 0.25, "cm": [[1, 0], [0, 1]]}


def test_keras_model_must_run_as_tf_serving_runs_it(tmp_path: Path) -> None:
    import keras

    from training.export import keras_writer

    inp = keras.Input((3,))
    model = keras.Model(inp, keras.layers.Dense(3)(inp))

    def untracked(path: Path) -> None:  # the trap: Keras 3 variables are invisible to a TF1 session restore
        module = tf.Module()
        module.model = model

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def serve(x):
            return {"y": module.model(x)}

        tf.saved_model.save(module, str(path), signatures={"serving_default": serve})

    with pytest.raises(ExportError, match="does not run the way TF Serving runs it"):
        publish(_spec(write_savedmodel=untracked), tmp_path)
    assert repository.list_versions(tmp_path / "toy") == {}

    tracked = keras_writer(model, {"serving_default": (lambda x: {"y": model(x)}, [tf.TensorSpec([None, 3], tf.float32, name="x")])})

    assert publish(_spec(write_savedmodel=tracked), tmp_path).version == 1


def test_version_whose_gateway_assets_do_not_load_publishes_nothing(tmp_path: Path) -> None:
    """TF Serving unloads the previous version once a new one loads: a version the gateway cannot read would
    take the model offline, so publish refuses it (here the unet family's normalisation asset, read by the
    same `common.assets` reader the gateway serves with)."""
    from common import mri

    good = json.dumps(mri.Stats(mean=(1.0, 2.0, 3.0, 4.0), std=(1.0, 1.0, 1.0, 1.0)).as_dict()).encode()
    spec = _spec(family="unet", assets={"normalization.json": b"{not json"})
    with pytest.raises(ExportError, match="the gateway cannot load this version's assets"):
        publish(spec, tmp_path)
    assert repository.list_versions(tmp_path / "toy") == {}
    spec = _spec(family="unet", assets={"normalization.json": good})
    assert publish(spec, tmp_path).version == 1
