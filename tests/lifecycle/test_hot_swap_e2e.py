"""The issue-10 acceptance run: scripts/demo_hot_swap.py end to end (real modelserver + gateway processes,
anti-spam trained twice for seconds on small corpus slices, a load generator on /predict throughout)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def load_demo():
    spec = importlib.util.spec_from_file_location("demo_hot_swap", REPO_ROOT / "scripts" / "demo_hot_swap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(900)
def test_retrain_canary_promote_rollback_gc_under_load(tmp_path: Path) -> None:
    demo = load_demo()
    report = demo.run(tmp_path, lines=250)
    assert demo.check(report) == [], report
    assert report["failed_requests"] == 0
    comparison = report["comparison"]
    assert comparison["new_version"] == 2 and comparison["stable_version"] == 1
    assert set(comparison["metrics"]["held_out.accuracy"]) == {"new", "stable", "delta"}
    if report["promote_refused"]:  # the quality gate's refusal names both numbers
        assert "stable version 1" in report["promote_message"] and "version 2" in report["promote_message"]
    actions = [line.split()[2] for line in report["history"].splitlines()]
    assert actions[:2] == ["train", "promote"] and "canary" in actions and "rollback" in actions and actions[-1] == "gc"
    assert report["models_after"]["labels"] == {"stable": 1}
