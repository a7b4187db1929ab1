"""ImageNet labels from the repository's class index (data/imagenet): 1000-way (Keras) and 1001-way with background (TF-Slim)."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.classifier import labels


def test_imagenet_heads() -> None:
    thousand = labels.imagenet_labels(1000)
    assert len(thousand) == 1000 and thousand[0] == "tench" and thousand[356] == "weasel"
    slim = labels.imagenet_labels(1001)
    assert slim[0] == "background" and slim[1:] == thousand
    with pytest.raises(ValueError, match="1000 or 1001"):
        labels.imagenet_labels(10)


def test_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMAGENET_CLASS_INDEX", raising=False)
    monkeypatch.setenv("TRAIN_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="TRAIN_DATA_DIR") as err:
        labels.imagenet_labels(1000)
    assert str(tmp_path / "imagenet" / "imagenet_class_index.json") in str(err.value) and "\n" not in str(err.value)
    assert labels.imagenet_class_index_path() == tmp_path / "imagenet" / "imagenet_class_index.json"


def test_default_is_the_repository_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMAGENET_CLASS_INDEX", raising=False)
    monkeypatch.delenv("TRAIN_DATA_DIR", raising=False)
    repo = Path(__file__).resolve().parents[2]
    assert labels.imagenet_class_index_path() == repo / "data" / "imagenet" / "imagenet_class_index.json"
