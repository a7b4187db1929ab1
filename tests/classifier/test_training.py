"""Tiny training end to end: train for seconds, publish, read the signature back, check manifest and assets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from common.manifest import read_manifest
from training.export import read_signature_def


@pytest.mark.parametrize("model,size,outputs", [
    ("vgg16", 224, {"probabilities", "features"}),
    pytest.param("inception_v3", 299, {"probabilities"}, marks=pytest.mark.slow),
])
def test_export_signature_manifest_and_labels(request: pytest.FixtureRequest, model: str, size: int, outputs: set) -> None:
    repo = request.getfixturevalue("cls_repo" if model == "vgg16" else "inception_repo")
    version = repo / model / "1"
    sig = read_signature_def(version)
    assert sig["inputs"] == {"images": ("float32", (-1, size, size, 3))}
    assert set(sig["outputs"]) == outputs
    assert sig["outputs"]["probabilities"] == ("float32", (-1, 10))
    if model == "vgg16":
        assert sig["outputs"]["features"] == ("float32", (-1, 256))  # fc2 at width 1/16
    m = read_manifest(version)
    assert m["family"] == "classifier" and m["preset"] == "tiny"
    assert 0.0 <= m["metrics"]["held_out_top1"] <= m["metrics"]["held_out_top5"] <= 1.0
    assert m["metrics"]["held_out_size"] == 24
    assert m["preprocessing"]["resize"]["size"] == size
    labels = json.loads((version / "assets.extra" / "labels.json").read_text())
    assert labels == {"head": "custom", "labels": [str(i) for i in range(10)]}
    assert (version / "assets.extra" / "tf_serving_warmup_requests").stat().st_size > 0
    assert 'name: "' + model + '"' in (repo / "models.config").read_text()


def test_saved_model_runs_and_matches_in_graph_preprocessing(cls_repo: Path) -> None:
    """The exported graph takes raw 0..255 pixels: probabilities are a distribution for black and white input."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(cls_repo / "vgg16" / "1"))
    fn = loaded.signatures["serving_default"]
    out = fn(images=tf.constant(np.stack([np.zeros((224, 224, 3)), np.full((224, 224, 3), 255.0)]).astype(np.float32)))
    probs = out["probabilities"].numpy()
    assert probs.shape == (2, 10) and np.allclose(probs.sum(1), 1.0, atol=1e-5)
    assert out["features"].numpy().shape == (2, 256)


def test_transfer_learning_from_npz_on_folders(tmp_path: Path, cls_repo: Path) -> None:
    """`--data DIR` + book-format weights: head replaced with N classes, backbone frozen (weights unchanged)."""
    from PIL import Image

    from tests.classifier.test_weights import synthetic_npz
    from training.classifier.train import train

    arrays = synthetic_npz(tmp_path / "vgg16_weights.npz", 1 / 16, 1000)
    rng = np.random.default_rng(0)
    for cls, colour in (("cats", (200, 40, 40)), ("dogs", (40, 40, 200)), ("owls", (40, 200, 40))):
        (tmp_path / "data" / cls).mkdir(parents=True)
        for i in range(5):
            noise = rng.integers(0, 30, (20, 30, 3))
            Image.fromarray((np.asarray(colour) + noise).clip(0, 255).astype(np.uint8)).save(tmp_path / "data" / cls / f"{i}.png")
    published = train("vgg16", preset="tiny", data=tmp_path / "data", repo=tmp_path / "repo",
                      weights=str(tmp_path / "vgg16_weights.npz"), epochs="1", batch_size="8")
    m = read_manifest(published.path)
    assert m["metrics"]["backbone_frozen"] is True and m["metrics"]["weights"] == "npz:vgg16_weights.npz"
    assert m["architecture"]["num_classes"] == 3
    labels = json.loads((published.path / "assets.extra" / "labels.json").read_text())["labels"]
    assert labels == ["cats", "dogs", "owls"]
    import tensorflow as tf

    loaded = tf.saved_model.load(str(published.path))
    kernel = {v.name: v.numpy() for v in loaded.variables if v.shape == arrays["conv1_1_W"].shape}
    assert any(np.array_equal(k, arrays["conv1_1_W"]) for k in kernel.values())  # frozen: unchanged by training
