"""The family contract is typed without ignores: mypy (with pydantic's plugin) accepts every family unit and the
predict service that calls them, so a family that keeps state on its Inputs or returns the wrong shape from a
hook is caught before it runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_families_and_service_type_check() -> None:
    sources = ["gateway/families", "gateway/service.py", "tests/gateway/version_family.py"]
    for path in sources[:2]:
        text = "\n".join(p.read_text() for p in (ROOT / path).rglob("*.py")) if (ROOT / path).is_dir() else (ROOT / path).read_text()
        assert "type: ignore" not in text and "PrivateAttr" not in text, path
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", *sources], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
