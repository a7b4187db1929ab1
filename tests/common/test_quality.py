"""common/quality.py: the robustness gate of `servectl promote` and the retrain comparison (pure functions)."""

from __future__ import annotations

from common.quality import gate_manifest_metrics, metric_at, robustness_gate


def _metrics(floor, challenge):
    return {"held_out": {"accuracy": 0.98}, "robustness": {"robust_floor": floor, "challenge": {"accuracy": challenge}}}


def test_metric_at_reads_dotted_paths() -> None:
    m = _metrics(0.97, 0.95)
    assert metric_at(m, "robustness.challenge.accuracy") == 0.95
    assert metric_at(m, "robustness.missing") is None and metric_at(None, "a") is None
    assert metric_at({"a": True}, "a") is None


def test_a_worse_robust_floor_is_refused_and_named() -> None:
    v = gate_manifest_metrics("antispam", _metrics(0.90, 0.96), _metrics(0.97, 0.96), 0.01, candidate_version=3, stable_version=2)
    assert not v.ok and v.failed == ("robustness.robust_floor",)
    assert "robustness.robust_floor = 0.9000 of version 3 is worse than stable version 2's 0.9700" in v.message


def test_a_worse_challenge_accuracy_is_refused_and_named() -> None:
    v = gate_manifest_metrics("antispam", _metrics(0.97, 0.90), _metrics(0.97, 0.96), 0.01)
    assert not v.ok and v.failed == ("robustness.challenge.accuracy",)
    assert "robustness.challenge.accuracy" in v.message and "0.9000" in v.message


def test_within_the_margin_or_better_passes() -> None:
    assert gate_manifest_metrics("antispam", _metrics(0.965, 0.955), _metrics(0.97, 0.96), 0.01).ok
    assert gate_manifest_metrics("antispam", _metrics(0.99, 0.99), _metrics(0.97, 0.96), 0.0).ok


def test_missing_figures() -> None:
    # stable from before the suite existed: nothing to regress against
    v = gate_manifest_metrics("antispam", _metrics(0.9, 0.9), {"held_out": {"accuracy": 0.97}}, 0.01)
    assert v.ok and "has no figure" in v.message
    # an unmeasured candidate is not promoted over a measured stable version
    v = robustness_gate({"robustness.robust_floor": None}, {"robustness.robust_floor": 0.97}, 0.01)
    assert not v.ok and v.failed == ("robustness.robust_floor",)
    # families without gated metrics always pass
    assert gate_manifest_metrics("unet", {}, {}, 0.01).ok
