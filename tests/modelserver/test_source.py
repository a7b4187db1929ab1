"""The file-system source: integer directories only, policies, full set per poll, errors as items."""

from pathlib import Path

import pytest

from modelserver.config import ModelEntry, VersionPolicy
from modelserver.source import AspiredVersions, aspired_versions, list_version_dirs, poll


@pytest.fixture
def base(tmp_path: Path) -> Path:
    b = tmp_path / "m"
    for name in ["1", "00000123", "7", "abc", ".tmp-export-99-deadbeef", "-3", "1.5", "٣"]:
        (b / name).mkdir(parents=True)
    (b / "42").write_text("a file, not a version")
    return b


def test_only_integer_named_directories_are_versions(base):
    assert sorted(list_version_dirs(base)) == [1, 7, 123]
    assert list_version_dirs(base)[123].name == "00000123"


@pytest.mark.parametrize(
    "policy, expected",
    [
        (VersionPolicy("latest", num_versions=1), [123]),
        (VersionPolicy("latest", num_versions=2), [7, 123]),
        (VersionPolicy("latest", num_versions=10), [1, 7, 123]),
        (VersionPolicy("all"), [1, 7, 123]),
        (VersionPolicy("specific", versions=(7, 1, 999)), [1, 7]),
        (VersionPolicy("specific", versions=()), []),
    ],
)
def test_policies_select_the_full_wanted_set(base, policy, expected):
    item = aspired_versions("m", base, policy)
    assert item.error is None
    assert [a.version for a in item.versions] == expected


def test_missing_base_path_means_no_versions_yet(tmp_path):
    assert aspired_versions("m", tmp_path / "absent", VersionPolicy()) == AspiredVersions("m", ())


def test_base_path_that_is_a_file_is_an_error_item(tmp_path):
    f = tmp_path / "m"
    f.write_text("x")
    item = aspired_versions("m", f, VersionPolicy())
    assert item.versions == () and "not a directory" in item.error


def test_poll_is_stateless_and_repeats_the_full_set(base, tmp_path):
    entries = [ModelEntry("m", base, VersionPolicy("all")), ModelEntry("n", tmp_path / "none")]
    first, second = poll(entries), poll(entries)
    assert first == second
    assert [i.model for i in first] == ["m", "n"]
    (base / "200").mkdir()
    assert [a.version for a in poll(entries)[0].versions] == [1, 7, 123, 200]
