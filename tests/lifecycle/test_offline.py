"""`servectl canary|promote|rollback|gc|history` against a stopped stack: models.config, the gateway's admin
state and history.jsonl edited directly (real files, the real CLI in-process, no TensorFlow needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from common import history as hist
from common import labels as L
from common import repository as repo
from common.admin_state import AdminState
from servectl.app import app
import servectl.lifecycle  # noqa: F401  (registers the commands)
import servectl.train  # noqa: F401

MODEL = "antispam"


def add_version(servables: Path, version: int, accuracy: float) -> None:
    d = servables / MODEL / str(version) / "assets.extra"
    d.mkdir(parents=True)
    (d / "manifest.json").write_text(json.dumps({"model": MODEL, "metrics": {"held_out": {"accuracy": accuracy}}}))


@pytest.fixture
def servables(tmp_path: Path) -> Path:
    s = tmp_path / "servables"
    repo.ensure_model(s / "models.config", MODEL)
    add_version(s, 1, 0.95)
    add_version(s, 2, 0.96)
    return s


def cli(servables: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--repo", str(servables), "--offline"], env={"GATEWAY_ADMIN_TOKEN": "", "SERVECTL_USER": "tester"})
    return result.exit_code, result.output


def config(servables: Path):
    return repo.model_config(repo.read_config(servables / "models.config"), MODEL)


def test_promote_canary_rollback_and_history(servables: Path) -> None:
    assert cli(servables, "promote", MODEL, "1")[0] == 0
    code, out = cli(servables, "canary", MODEL, "2", "--share", "0.1")
    assert code == 0, out
    mc = config(servables)
    assert dict(mc.version_labels) == {"stable": 1, "canary": 2}
    assert L.versions_in_policy(mc, [1, 2]) == [1, 2]  # v1 widened into the policy: a label needs an AVAILABLE version
    state = AdminState(servables)
    state.reload()
    assert state.canary_share(MODEL, 0.0) == pytest.approx(0.1)

    code, out = cli(servables, "promote", MODEL, "2")
    assert code == 0, out
    mc = config(servables)
    assert dict(mc.version_labels) == {"stable": 2}  # the canary ended with the promotion
    code, out = cli(servables, "rollback", MODEL)
    assert code == 0, out
    assert dict(config(servables).version_labels) == {"stable": 1}
    code, out = cli(servables, "rollback", MODEL)
    assert code == 1 and "no earlier version" in out

    records = list(hist.read(servables, MODEL))
    assert [r["action"] for r in records] == ["promote", "canary", "promote", "rollback"]
    assert all(r["user"] == "tester" and r["time"].endswith("Z") for r in records)
    assert records[2]["versions"] == {"stable": 2, "previous_stable": 1}
    assert records[2]["metrics"]["candidate"] == 0.96 and records[2]["metrics"]["stable"] == 0.95
    result = CliRunner().invoke(app, ["history", MODEL, "--repo", str(servables)])
    lines = result.output.splitlines()
    assert result.exit_code == 0 and len(lines) == 4
    assert "tester rollback" in lines[-1] and "stable=1" in lines[-1] and "0.96 vs stable 0.95" in lines[2]


def test_quality_gate_refuses_with_both_numbers_unless_forced(servables: Path) -> None:
    add_version(servables, 3, 0.80)
    assert cli(servables, "promote", MODEL, "2")[0] == 0
    code, out = cli(servables, "promote", MODEL, "3")
    assert code == 1
    assert "0.8000" in out and "0.9600" in out and "margin" in out
    assert dict(config(servables).version_labels) == {"stable": 2}
    assert cli(servables, "promote", MODEL, "3", "--margin", "0.2")[0] == 0
    assert cli(servables, "rollback", MODEL)[0] == 0
    code, out = cli(servables, "promote", MODEL, "3", "--force")
    assert code == 0 and "[forced]" in out
    actions = [r["action"] for r in hist.read(servables, MODEL)]
    assert actions.count("promote_refused") == 1


def test_quality_gate_prefers_the_same_heldout_comparison(servables: Path) -> None:
    assert cli(servables, "promote", MODEL, "1")[0] == 0
    m = servables / MODEL / "2" / "assets.extra" / "manifest.json"
    data = json.loads(m.read_text())
    data["comparison"] = {"stable_version": 1, "metrics": {"held_out.accuracy": {"new": 0.5, "stable": 0.9}}}
    m.write_text(json.dumps(data))
    code, out = cli(servables, "promote", MODEL, "2")
    assert code == 1 and "0.5000" in out and "0.9000" in out


def test_gc_keeps_labelled_newest_and_rollback_target(servables: Path) -> None:
    for v, acc in ((3, 0.96), (4, 0.96), (5, 0.96)):
        add_version(servables, v, acc)
    assert cli(servables, "promote", MODEL, "1")[0] == 0
    assert cli(servables, "promote", MODEL, "2")[0] == 0  # rollback target: 1
    code, out = cli(servables, "gc", MODEL, "--keep", "1")
    assert code == 0, out
    assert sorted(repo.list_versions(servables / MODEL)) == [1, 2, 5]
    mc = config(servables)
    assert set(L.versions_in_policy(mc, [1, 2, 5])) >= {2}
    assert not [p for p in (servables / MODEL).iterdir() if p.name.startswith(".gc-")]
    gc_record = [r for r in hist.read(servables, MODEL) if r["action"] == "gc"][0]
    assert gc_record["versions"]["removed"] == [3, 4]
    assert cli(servables, "rollback", MODEL)[0] == 0  # the protected target is still there
    assert dict(config(servables).version_labels) == {"stable": 1}


def test_errors_are_specific(servables: Path) -> None:
    code, out = cli(servables, "canary", MODEL, "7")
    assert code == 1 and "no version 7" in out and "[1, 2]" in out
    code, out = cli(servables, "canary", "nosuch", "1")
    assert code == 1 and "nosuch" in out
    code, out = cli(servables, "canary", MODEL, "1", "--share", "10")
    assert code == 1 and "a fraction of unpinned requests within 0..1" in out and "got 10" in out


def test_history_lines_are_whole_under_concurrent_writers(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: hist.append(tmp_path, MODEL, "test", versions={"i": i}, metrics={"pad": "x" * 5000}), range(200)))
    records = list(hist.read(tmp_path, MODEL))
    assert sorted(r["versions"]["i"] for r in records) == list(range(200))
