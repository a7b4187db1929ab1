"""common.repository: version directory rules, path mapping, atomic config writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from common import repository


@pytest.mark.parametrize(
    "name,version", [("1", 1), ("00000123", 123), ("0", 0), ("1a", None), (".tmp-export-1", None), ("-1", None), ("١", None)]
)
def test_version_directory_names(name: str, version: int | None) -> None:
    assert repository.parse_version_dir_name(name) == version


def test_list_versions_ignores_files_and_other_names(tmp_path: Path) -> None:
    for d in ("3", "0010", "tmp", ".tmp-export-5"):
        (tmp_path / d).mkdir()
    (tmp_path / "7").write_text("a file, not a version")
    assert list(repository.list_versions(tmp_path)) == [3, 10]
    assert repository.list_versions(tmp_path / "missing") == {}


def test_container_paths_map_to_the_config_directory(tmp_path: Path) -> None:
    assert repository.resolve_base_path("/models/antispam", tmp_path) == tmp_path / "antispam"
    assert repository.resolve_base_path("antispam", tmp_path) == tmp_path / "antispam"
    assert repository.resolve_base_path("/srv/elsewhere/x", tmp_path) == Path("/srv/elsewhere/x")
    assert repository.resolve_base_path("/modelsX/a", tmp_path) == Path("/modelsX/a")


def test_ensure_model_adds_once_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "models.config"
    assert repository.ensure_model(path, "antispam") is True
    assert repository.ensure_model(path, "antispam") is False
    assert repository.ensure_model(path, "unet") is True
    config = repository.read_config(path)
    assert [c.name for c in config.model_config_list.config] == ["antispam", "unet"]
    assert config.model_config_list.config[0].model_version_policy.latest.num_versions == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".models.config")]  # no temporaries left
