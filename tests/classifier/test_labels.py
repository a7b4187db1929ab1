"""ImageNet labels from the shared class index: 1000-way (Keras) and 1001-way with background (TF-Slim)."""

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
    monkeypatch.setenv("SHARED_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="SHARED_DATA_DIR"):
        labels.imagenet_labels(1000)
    assert labels.shared_data_dir() == tmp_path
