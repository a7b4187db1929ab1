"""Shared pytest setup, kept small: make `tests.utils` importable however pytest is started
(`python -m pytest` puts the repo root on sys.path, the `pytest` script does not), and the one session-wide
stack that serves all six models (tests/utils/all_families.py says why it is shared)."""

import os
import sys
from pathlib import Path
from typing import Iterator

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture(scope="session")
def all_families_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny version of each of the six models; ALL_FAMILIES_REPO=DIR reuses one built before."""
    from tests.utils.all_families import REUSE_ENV, build_all_families_repo

    if os.environ.get(REUSE_ENV):
        return Path(os.environ[REUSE_ENV])
    return build_all_families_repo(tmp_path_factory.mktemp("all-families"))


@pytest.fixture(scope="session")
def all_families_stack(all_families_repo: Path) -> Iterator["object"]:
    """modelserver + gateway serving all six models (real processes on free ports)."""
    from tests.utils.all_families import STACK_ENV
    from tests.utils.stack import Stack

    with Stack(all_families_repo, gateway_env=STACK_ENV, start_timeout=300) as s:
        yield s
