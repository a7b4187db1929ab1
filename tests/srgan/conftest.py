"""One SRGAN version trained for seconds (a few steps of both phases) into a session tmp repository,
shared by the export, family and gateway tests; and the served signature loaded in-process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def srgan_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.srgan.train import train

    repo = tmp_path_factory.mktemp("srgan") / "repo"
    # gan_steps=0 keeps the suite in budget (tracing the adversarial step doubles the fixture time); the
    # adversarial phase is exercised by real training runs (docs/srgan.md) and `servectl train srgan`.
    published = train(preset="tiny", repo=repo, mse_steps=3, gan_steps=0, export_phase="mse", logdir=str(repo.parent / "logs"))
    assert published.version == 1
    return repo


@pytest.fixture(scope="session")
def srgan_version(srgan_repo: Path) -> Path:
    return srgan_repo / "srgan" / "1"


@pytest.fixture(scope="session")
def serve_fn(srgan_version: Path):
    """The exported `serving_default` signature, run in-process: images [B,H,W,3] -> [B,4H,4W,3]."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(srgan_version))
    fn = loaded.signatures["serving_default"]

    def run(images):
        return fn(images=tf.constant(images))["images"].numpy()

    run.loaded = loaded  # keep the SavedModel alive
    return run
