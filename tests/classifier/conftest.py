import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

from pathlib import Path

import pytest

FAST = {"epochs": "1", "limit": "16", "batch_size": "16", "eval_limit": "24"}


@pytest.fixture(scope="session")
def cls_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository with one tiny vgg16 version, trained for seconds on digits (the pipeline end to end;
    accuracy is the acceptance script's business, not the tests')."""
    from training.classifier.train import train

    repo = tmp_path_factory.mktemp("classifier-repo")
    train("vgg16", preset="tiny", repo=repo, **FAST)
    return repo


@pytest.fixture(scope="session")
def inception_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny Inception V3, trained for one step: slow only because tracing and saving its ~300-layer graph take
    minutes on a loaded 2-core machine (tests that need it are marked slow)."""
    from training.classifier.train import train

    repo = tmp_path_factory.mktemp("inception-repo")
    train("inception_v3", preset="tiny", repo=repo, **FAST)
    return repo
