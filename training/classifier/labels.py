"""Class names: the ImageNet class index from the repository's `data/imagenet/`, or the folder names of a user's data.

The labels asset (`assets.extra/labels.json`) written with each version is the only place the gateway learns
what output index i means, so a 1001-way TF-Slim head (index 0 = "background") and a 1000-way Keras head
never get mixed up.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from training.datasets import DATA_ROOT_ENV, DataNotFound, dataset_dir

LABELS_ASSET = "labels.json"
CLASS_INDEX_ENV = "IMAGENET_CLASS_INDEX"


def imagenet_class_index_path() -> Path:
    """`$IMAGENET_CLASS_INDEX`, else `imagenet/imagenet_class_index.json` under `training.datasets.data_root()`
    (the repository's `data/`, or `$TRAIN_DATA_DIR`)."""
    env = os.environ.get(CLASS_INDEX_ENV)
    return Path(env) if env else dataset_dir("imagenet") / "imagenet_class_index.json"


def imagenet_labels(num_classes: int = 1000) -> list[str]:
    """1000 short ImageNet names in index order; with 1001, "background" is prepended (TF-Slim convention)."""
    path = imagenet_class_index_path()
    try:
        index = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataNotFound("ImageNet class index imagenet_class_index.json", path,
                           f"set {CLASS_INDEX_ENV} (the file) or {DATA_ROOT_ENV} (a directory holding imagenet/)") from None
    names = [index[str(i)][1] for i in range(len(index))]
    if num_classes == len(names):
        return names
    if num_classes == len(names) + 1:
        return ["background", *names]
    raise ValueError(f"an ImageNet head has 1000 or 1001 classes, not {num_classes}")


def labels_asset(labels: list[str], head: str) -> bytes:
    """`head`: imagenet-1000 | imagenet-1001 (index 0 = background) | custom."""
    return json.dumps({"head": head, "labels": labels}, ensure_ascii=False, indent=1).encode()
