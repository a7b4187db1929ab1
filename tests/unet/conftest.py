"""One U-Net trained for seconds and published into a tmp repository, shared by the export and gateway tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

MICRO = dict(width="4", train_slices="24", crop="64", epochs="1", batch="8", val_volumes="1", val_shape="64,64,12")


@pytest.fixture(scope="session")
def unet_repo(tmp_path_factory) -> Path:
    from training.unet.train import train

    repo = tmp_path_factory.mktemp("unet-repo")
    published = train(preset="tiny", repo=repo, logdir=str(tmp_path_factory.mktemp("tb")), **MICRO)
    assert published.version == 1
    return repo
