"""Where training jobs find their data: `data/` inside the repository, unless a flag or variable says otherwise.

Why in the repository: a user has only the clone. The anti-spam corpus and the ImageNet class index are small
(2 MB together) and are committed under `data/<set>/`, each with its PROVENANCE.md and LICENSE, so
`servectl train` and `make up` work on a fresh clone with nothing beside it. Nothing here refers to a path
outside the repository.

Why `DataNotFound`: a job that cannot find its data must say so in one line — what is missing, where it
looked, which flag or variable sets it — and `servectl` prints exactly that line and exits non-zero instead of
a traceback. It subclasses FileNotFoundError so existing callers that catch that keep working.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
REPO_DATA_DIR = REPO_ROOT / "data"
DATA_ROOT_ENV = "TRAIN_DATA_DIR"  # a directory holding the sets (text-antispam/, imagenet/, ...)


class DataNotFound(FileNotFoundError):
    """A training job's input is missing; `str()` is the one line servectl prints."""

    def __init__(self, what: str, looked: Path | str, how_to_set: str) -> None:
        self.what, self.looked, self.how_to_set = what, str(looked), how_to_set
        super().__init__(f"{what} not found: looked in {looked}; {how_to_set}")

    def __str__(self) -> str:
        return self.args[0]


def data_root() -> Path:
    """`$TRAIN_DATA_DIR`, else the repository's own `data/`."""
    env = os.environ.get(DATA_ROOT_ENV)
    return Path(env) if env else REPO_DATA_DIR


def dataset_dir(name: str, env: str | None = None) -> Path:
    """`$<env>` if given and set, else `data_root()/<name>`."""
    if env and os.environ.get(env):
        return Path(os.environ[env])
    return data_root() / name
