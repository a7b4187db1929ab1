"""The repository carries its training data (issue 23): a fresh clone trains anti-spam with nothing beside it,
and a job that cannot find its data says so in one line, not a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _env(pythonpath: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ANTISPAM_DATA_DIR", "TRAIN_DATA_DIR", "IMAGENET_CLASS_INDEX")}
    env.update(PYTHONPATH=str(pythonpath), TF_NUM_INTEROP_THREADS="1", TF_CPP_MIN_LOG_LEVEL="2")
    return env


def test_missing_data_is_one_clear_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "servectl", "train", "antispam", "--data", "/nonexistent", "--repo", str(tmp_path / "repo")],
        cwd=REPO_ROOT, env=_env(REPO_ROOT), capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr  # no traceback
    line = lines[0]
    assert "Traceback" not in proc.stderr and "Error" not in line.split(":")[0]
    for part in ("msgspam.log.seg", "/nonexistent", "--data", "ANTISPAM_DATA_DIR"):
        assert part in line, line
    assert not (tmp_path / "repo" / "antispam").exists()  # nothing published


def test_no_reference_outside_the_repository() -> None:
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    outside = "/".join(("..", "shared"))  # spelled in pieces so that this file does not match itself
    for pattern in ("/".join(("shared", "data")), outside):
        out = subprocess.run(["git", "grep", "-n", "-F", pattern],
                             cwd=REPO_ROOT, capture_output=True, text=True)
        assert out.stdout == "", f"paths outside the repository:\n{out.stdout}"


@pytest.mark.timeout(900)
def test_a_fresh_clone_trains_antispam_with_nothing_beside_it(tmp_path: Path) -> None:
    """`git clone` of the committed HEAD into an empty directory, then `servectl train antispam` there."""
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.strip()
    empty = tmp_path / "empty"
    empty.mkdir()
    clone = empty / "project"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(REPO_ROOT), str(clone)], check=True, timeout=300)
    subprocess.run(["git", "checkout", "-q", head], cwd=clone, check=True, timeout=300)
    assert sorted(p.name for p in empty.iterdir()) == ["project"]  # nothing beside the clone
    assert (clone / "data" / "text-antispam" / "msgspam.log.seg").is_file()

    env = _env(clone)
    where = subprocess.run([sys.executable, "-c", "import training, servectl; print(training.__file__, servectl.__file__)"],
                           cwd=clone, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(p).is_relative_to(clone) for p in where), where  # the clone's code, not this checkout's

    proc = subprocess.run(
        [sys.executable, "-m", "servectl", "train", "antispam", "--preset", "tiny", "--no-compare",
         "--set", "limit=120", "--set", "w2v_epochs=1", "--set", "max_epochs=1"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    manifest = json.loads((clone / "servables" / "antispam" / "1" / "assets.extra" / "manifest.json").read_text())
    assert manifest["family"] == "antispam"
    assert manifest["metrics"]["held_out"]["n"] > 0
