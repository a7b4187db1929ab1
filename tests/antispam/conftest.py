"""One anti-spam version trained for seconds by `servectl train antispam` on a small data dir in the corpus
format, shared (session scope) by the export, family and gateway tests; and its servable run in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first lines of each corpus file (real data, corpus format), so training takes seconds."""
    from tests.utils.all_families import tiny_antispam_data

    return tiny_antispam_data(tmp_path_factory.mktemp("antispam-data"))


@pytest.fixture(scope="session")
def trained(tiny_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """`servectl train antispam --data <tiny dir> --repo <tmp>` as a user runs it (real subprocess)."""
    repo = tmp_path_factory.mktemp("antispam-repo") / "repo"
    cmd = [sys.executable, "-m", "servectl", "train", "antispam", "--preset", "tiny", "--data", str(tiny_data_dir),
           "--repo", str(repo), "--set", "w2v_epochs=1", "--set", "max_epochs=2",
           "--set", f"log_dir={repo.parent / 'logs'}"]
    env = {**os.environ, "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return repo, proc


@pytest.fixture(scope="session")
def antispam_repo(trained: tuple[Path, subprocess.CompletedProcess]) -> Path:
    return trained[0]


@pytest.fixture(scope="session")
def version_dir(antispam_repo: Path) -> Path:
    return antispam_repo / "antispam" / "1"


@pytest.fixture(scope="session")
def serve_fn(version_dir: Path):
    """The exported `serving_default`, in-process: x [B, T, 200] -> probabilities [B, 2]."""
    import numpy as np
    import tensorflow as tf

    loaded = tf.saved_model.load(str(version_dir))
    fn = loaded.signatures["serving_default"]

    def run(x: np.ndarray) -> np.ndarray:
        return fn(x=tf.constant(x))["probabilities"].numpy()

    run.loaded = loaded  # keep the SavedModel alive
    return run


@pytest.fixture(scope="session")
def family_assets(version_dir: Path):
    from common.manifest import read_manifest
    from gateway.core.config import Settings
    from gateway.families import family_for

    family = family_for("antispam")
    return family, family.load_assets(version_dir, read_manifest(version_dir), Settings())
