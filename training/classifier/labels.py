"""Class names: the ImageNet class index from the shared data directory, or the folder names of a user's data.

The labels asset (`assets.extra/labels.json`) written with each version is the only place the gateway learns
what output index i means, so a 1001-way TF-Slim head (index 0 = "background") and a 1000-way Keras head
never get mixed up.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

LABELS_ASSET = "labels.json"
REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path:
    """`$SHARED_DATA_DIR`, else `../shared/data` relative to the repository (where CI puts it)."""
    env = os.environ.get("SHARED_DATA_DIR")
    return Path(env) if env else (REPO_ROOT / ".." / "shared" / "data").resolve()


def imagenet_class_index_path() -> Path:
    env = os.environ.get("IMAGENET_CLASS_INDEX")
    return Path(env) if env else shared_data_dir() / "imagenet" / "imagenet_class_index.json"


def imagenet_labels(num_classes: int = 1000) -> list[str]:
    """1000 short ImageNet names in index order; with 1001, "background" is prepended (TF-Slim convention)."""
    path = imagenet_class_index_path()
    try:
        index = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"ImageNet class index not found at {path}; set SHARED_DATA_DIR or IMAGENET_CLASS_INDEX") from None
    names = [index[str(i)][1] for i in range(len(index))]
    if num_classes == len(names):
        return names
    if num_classes == len(names) + 1:
        return ["background", *names]
    raise ValueError(f"an ImageNet head has 1000 or 1001 classes, not {num_classes}")


def labels_asset(labels: list[str], head: str) -> bytes:
    """`head`: imagenet-1000 | imagenet-1001 (index 0 = background) | custom."""
    return json.dumps({"head": head, "labels": labels}, ensure_ascii=False, indent=1).encode()
