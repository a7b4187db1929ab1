"""`servectl validate`: finds what would break serving before a server loads it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import tensorflow as tf
from typer.testing import CliRunner

from common import manifest as mf
from common import repository
from common.signatures import Signature, f32
from servectl.app import app
from servectl.status import validate_repository
from training.export import ExportSpec, publish

import servectl.status  # noqa: F401  (registers the commands)


def _publish(repo: Path) -> Path:
    def write(path: Path) -> None:
        m = tf.Module()

        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
        def serve(x):
            return {"y": x + 1.0}

        tf.saved_model.save(m, str(path), signatures={"serving_default": serve})

    spec = ExportSpec(
        model="toy", family="toy", preset="tiny", write_savedmodel=write, warmup_inputs={"x": np.zeros((1, 2), np.float32)},
        training_data_hash="sha256:0", signature=Signature({"x": f32(-1, 2)}, {"y": f32(-1, 2)}),
    )
    return publish(spec, repo).path


def test_valid_repository_passes_and_each_defect_is_named(tmp_path: Path) -> None:
    version = _publish(tmp_path)
    assert validate_repository(tmp_path) == []
    result = CliRunner().invoke(app, ["validate", "--repo", str(tmp_path)])
    assert result.exit_code == 0, result.output

    config = repository.read_config(tmp_path / "models.config")
    config.model_config_list.config[0].version_labels["stable"] = 9
    repository.write_config(tmp_path / "models.config", config)
    (mf.assets_dir(version) / mf.WARMUP_NAME).unlink()
    broken = tmp_path / "toy" / "2"
    shutil.copytree(version, broken)
    mf.manifest_path(broken).unlink()
    problems = validate_repository(tmp_path)
    assert any("label 'stable' points at version 9" in p for p in problems)
    assert any("toy/1: warm-up records missing" in p for p in problems)
    assert any("toy/2: manifest unreadable" in p for p in problems)
    result = CliRunner().invoke(app, ["validate", "--repo", str(tmp_path)])
    assert result.exit_code == 1


def test_unparsable_config_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "models.config").write_text("model_config_list { config { nam: 'x' } }")
    [problem] = validate_repository(tmp_path)
    assert "does not parse" in problem
