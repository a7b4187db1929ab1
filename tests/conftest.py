"""Shared pytest setup, kept small: make `tests.utils` importable however pytest is started
(`python -m pytest` puts the repo root on sys.path, the `pytest` script does not)."""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
