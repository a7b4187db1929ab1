"""A repository with one tiny version of every served model (all six), and the stack over it.

Why shared: building it trains five small models and takes minutes on two cores; the browser tests (the
playground shows every family) and the real-family API fuzzing (tests/reliability/test_fuzz_families.py)
both need the whole set behind a running gateway, so the session builds it once and starts one stack.
Each family uses the same fast settings as its own gateway tests; anti-spam is trained as a user trains it,
by `servectl train` in a subprocess, while this process trains the others.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.utils.servers import REPO_ROOT

MODELS = ("antispam", "vgg16", "inception_v3", "unet", "srgan", "text2image")
MAX_BODY_BYTES = 1 << 20  # a small body limit, so an oversize upload test sends 1.5 MiB, not 17
STACK_ENV = {"GATEWAY_MAX_BODY_BYTES": str(MAX_BODY_BYTES), "GATEWAY_REFRESH_INTERVAL_S": "0.5"}
REUSE_ENV = "ALL_FAMILIES_REPO"  # a repository built before (a developer's loop; CI builds it)


ANTISPAM_LINES_PER_FILE = 250  # training on these takes seconds


def tiny_antispam_data(out: Path) -> Path:
    """The first lines of each corpus file (real data, corpus format), so training takes seconds."""
    from training.antispam.data import PASS_FILE, SPAM_FILE, default_data_dir

    src = default_data_dir()
    assert (src / SPAM_FILE).is_file(), f"the anti-spam corpus is committed in data/text-antispam, not found at {src}"
    out.mkdir(parents=True, exist_ok=True)
    for name in (SPAM_FILE, PASS_FILE):
        lines = (src / name).read_text(encoding="utf-8").splitlines()[:ANTISPAM_LINES_PER_FILE]
        (out / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def build_all_families_repo(base: Path) -> Path:
    """Train and publish one tiny version of each model under `base/repo` (seconds to a minute each)."""
    from tests.classifier.conftest import FAST
    from tests.text2image.conftest import publish_untrained
    from tests.unet.conftest import MICRO
    from training.classifier.train import train as train_classifier
    from training.srgan.train import train as train_srgan
    from training.unet.train import train as train_unet

    repo = base / "repo"
    data = tiny_antispam_data(base / "antispam-data")
    cmd = [sys.executable, "-m", "servectl", "train", "antispam", "--preset", "tiny", "--data", str(data), "--repo", str(repo),
           "--set", "w2v_epochs=1", "--set", "max_epochs=2", "--set", f"log_dir={base / 'logs'}"]
    env = {**os.environ, "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    antispam = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for model in ("vgg16", "inception_v3"):
            train_classifier(model, preset="tiny", repo=repo, **FAST)
        train_unet(preset="tiny", repo=repo, logdir=str(base / "tb"), **MICRO)
        train_srgan(preset="tiny", repo=repo, mse_steps=3, gan_steps=0, export_phase="mse", logdir=str(base / "srgan-logs"))
        publish_untrained(repo)
        out, _ = antispam.communicate(timeout=900)
    finally:
        if antispam.poll() is None:
            antispam.kill()
            antispam.wait()
    if antispam.returncode != 0:
        raise RuntimeError(f"servectl train antispam failed:\n{out[-3000:]}")
    return repo
