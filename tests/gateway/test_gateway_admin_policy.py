"""Two-step label moves: how the version policy is widened so the backend loads the label's target
(TF Serving only lets a label point at an AVAILABLE version). A table over the three policies."""

from __future__ import annotations

from pathlib import Path

import pytest

from common import repository as repo
from gateway import errors as E
from gateway.admin import Admin
from gateway.core.config import Settings

CASES = [
    # (policy text, target version, expected policy text after widening)
    ("latest { num_versions: 1 }", 3, "latest { num_versions: 3 }"),  # versions 3, 4, 5 on disk >= 3
    ("latest { num_versions: 4 }", 3, "latest { num_versions: 4 }"),  # already covered
    ("", 4, "latest { num_versions: 2 }"),  # no policy = latest 1
    ("specific { versions: 5 }", 3, "specific { versions: 5 versions: 3 }"),
    ("all { }", 1, "all { }"),
]


def make_repo(tmp_path: Path, policy: str) -> Path:
    for v in (1, 3, 4, 5):
        (tmp_path / "m" / str(v)).mkdir(parents=True)
    text = f'model_config_list {{ config {{ name: "m" base_path: "/models/m" model_platform: "tensorflow" model_version_policy {{ {policy} }} }} }}'
    (tmp_path / "models.config").write_text(text)
    return tmp_path


@pytest.mark.parametrize("policy,version,expected", CASES, ids=[c[0] or "none" for c in CASES])
def test_widen_policy(tmp_path: Path, policy: str, version: int, expected: str) -> None:
    root = make_repo(tmp_path, policy)
    admin = Admin(Settings(servables=root), backend=None, registry=None, run_blocking=None)  # type: ignore[arg-type]
    config = repo.read_config(root / "models.config")
    admin._widen_policy(config, "m", version)
    want = repo.parse_config_text(
        f'model_config_list {{ config {{ name: "m" base_path: "/models/m" model_platform: "tensorflow" model_version_policy {{ {expected} }} }} }}'
    )
    assert config == want


def test_widen_policy_refuses_a_version_not_on_disk(tmp_path: Path) -> None:
    root = make_repo(tmp_path, "")
    admin = Admin(Settings(servables=root), backend=None, registry=None, run_blocking=None)  # type: ignore[arg-type]
    with pytest.raises(E.ModelNotFound, match="no version 2 on disk"):
        admin._widen_policy(repo.read_config(root / "models.config"), "m", 2)
