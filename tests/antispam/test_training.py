"""`servectl train antispam` on a small data dir publishes a version that honours the contract."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np

from common.manifest import read_manifest
from common.repository import read_config
from training.export import read_signature_def


def test_servectl_publishes_a_version(trained: tuple[Path, subprocess.CompletedProcess]) -> None:
    repo, proc = trained
    assert "published antispam version 1" in proc.stdout
    assert (repo / "antispam" / "1" / "saved_model.pb").is_file()
    assert "nearest to" in proc.stdout  # the word2vec probe is printed
    names = [c.name for c in read_config(repo / "models.config").model_config_list.config]
    assert "antispam" in names


def test_signature_read_back(version_dir: Path) -> None:
    sig = read_signature_def(version_dir)
    assert sig["inputs"] == {"x": ("float32", (-1, -1, 200))}
    assert sig["outputs"] == {"probabilities": ("float32", (-1, 2))}


def test_manifest_and_assets(version_dir: Path) -> None:
    m = read_manifest(version_dir)
    assert m["family"] == "antispam" and m["preset"] == "tiny"
    held = m["metrics"]["held_out"]
    assert 0.0 <= held["accuracy"] <= 1.0 and len(held["confusion_matrix"]["matrix"]) == 2
    rob = m["metrics"]["robustness"]  # issue 20: the suite, the robust floor and the challenge set in every manifest
    assert set(rob["perturbations"]) == {"punctuation_stripped", "punctuation_added", "digits_written_out", "length_matched",
                                         "digits_masked_everywhere", "spaces_kept"}
    assert rob["robust_floor"] == min(rob["perturbations"][k]["value"] for k in rob["robust_floor_of"])
    assert rob["challenge"]["n"] >= 150 and 0.0 <= rob["challenge"]["accuracy"] <= 1.0
    aug = m["augmentation"]
    assert aug["applied"]["seed"] == aug["requested"]["seed"] and set(aug["added"]) == {"punctuation", "digits", "crop", "join", "register"}
    pre = m["preprocessing"]
    assert pre["policy"]["digits"] == "classes" and pre["policy"]["version"] == 2 and pre["dim"] == 200
    extra = version_dir / "assets.extra"
    vocab = (extra / pre["vocab_file"]).read_text(encoding="utf-8").rstrip("\n").split("\n")
    vectors = np.load(extra / pre["vectors_file"])
    assert vocab[0] == "<unk>" and vectors.shape == (len(vocab), 200) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert json.loads((extra / "preprocessing.json").read_text())["policy"] == pre["policy"]
    assert (extra / "tf_serving_warmup_requests").stat().st_size > 0


def test_same_seed_trains_the_same_version(trained: tuple[Path, subprocess.CompletedProcess], tmp_path: Path) -> None:
    """A second run of the same command gives the same word vectors, weights and figures (op determinism:
    word2vec's scatter-adds otherwise sum duplicate rows in thread order, and runs of one seed differed)."""
    import tensorflow as tf

    repo, proc = trained
    cmd = proc.args[:proc.args.index("--repo") + 1] + [str(tmp_path / "repo")] + proc.args[proc.args.index("--repo") + 2:]
    env = {**os.environ, "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}  # as `trained` ran
    again = subprocess.run(cmd, cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    first, second = repo / "antispam" / "1", tmp_path / "repo" / "antispam" / "1"
    np.testing.assert_array_equal(np.load(first / "assets.extra" / "vectors.npy"), np.load(second / "assets.extra" / "vectors.npy"))
    a, b = (tf.train.load_checkpoint(str(d / "variables" / "variables")) for d in (first, second))
    # the exported variables by their signature position (`_all_variables/…` and the object graph list the same
    # tensors in an order that is not stable between processes)
    names = sorted(n for n in a.get_variable_to_shape_map() if n.startswith("variables/"))
    assert names == sorted(n for n in b.get_variable_to_shape_map() if n.startswith("variables/")) and len(names) >= 5
    for name in names:
        np.testing.assert_array_equal(a.get_tensor(name), b.get_tensor(name), err_msg=name)
    m1, m2 = (read_manifest(d)["metrics"] for d in (first, second))
    assert (m1["held_out"], m1["robustness"], m1["validation"]) == (m2["held_out"], m2["robustness"], m2["validation"])
