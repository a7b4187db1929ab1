"""The robustness quality gate: a candidate version may not be worse than `stable` on the figures that say
whether a model holds on real messages, not only on held-out corpus lines.

Why a gate of its own: held-out accuracy rewards a model for the corpus's shortcuts (issue 20: 97.8% held out,
21% pass recall on normal messages with a comma). The robust floor (the minimum over the perturbations of the
held-out split) and the challenge-set accuracy are what moved when the shortcuts were removed, so a retrain
that brings a shortcut back shows up there first. Pure functions over the figures (no files, no I/O), used by
`servectl promote` and by the comparison `servectl train` writes after a retrain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

# family -> the dotted paths under a manifest's `metrics` the gate compares
GATED_METRICS: dict[str, tuple[str, ...]] = {
    "antispam": ("robustness.robust_floor", "robustness.challenge.accuracy"),
}


@dataclass(frozen=True)
class GateVerdict:
    ok: bool
    message: str  # names every metric that failed, with both numbers and the margin
    failed: tuple[str, ...] = ()
    numbers: dict[str, dict[str, float | None]] = field(default_factory=dict)


def metric_at(metrics: Mapping[str, Any] | None, path: str) -> float | None:
    """The number at a dotted path of a manifest's `metrics` (None if absent or not a number)."""
    node: Any = metrics or {}
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return float(node) if isinstance(node, (int, float)) and not isinstance(node, bool) else None


def robustness_gate(candidate: Mapping[str, float | None], stable: Mapping[str, float | None], margin: float,
                    *, candidate_version: int | str = "candidate", stable_version: int | str = "stable") -> GateVerdict:
    """Refuse when a gated figure of the candidate is below stable's by more than `margin`.

    `candidate` / `stable` map metric path -> value. A figure stable does not have (a version trained before
    the suite existed) cannot be regressed and passes with a note; a figure the candidate lacks while stable
    has it fails (an unmeasured version is not promoted over a measured one).
    """
    failed: list[str] = []
    notes: list[str] = []
    numbers: dict[str, dict[str, float | None]] = {}
    for metric in sorted(set(candidate) | set(stable)):
        c, s = candidate.get(metric), stable.get(metric)
        numbers[metric] = {"candidate": c, "stable": s, "margin": margin}
        if s is None:
            notes.append(f"{metric}: stable version {stable_version} has no figure, not compared")
        elif c is None:
            failed.append(metric)
            notes.append(f"{metric}: version {candidate_version} has no figure, stable version {stable_version} has {s:.4f}")
        elif c < s - margin:
            failed.append(metric)
            notes.append(f"{metric} = {c:.4f} of version {candidate_version} is worse than stable version "
                         f"{stable_version}'s {s:.4f} by more than the margin {margin:g}")
        else:
            notes.append(f"{metric} = {c:.4f} vs stable {s:.4f} (margin {margin:g}): ok")
    return GateVerdict(not failed, "; ".join(notes) or "no robustness figures to compare", tuple(failed), numbers)


def gate_manifest_metrics(family: str, candidate_metrics: Mapping[str, Any] | None, stable_metrics: Mapping[str, Any] | None,
                          margin: float, **versions: Any) -> GateVerdict:
    """`robustness_gate` over the family's gated metrics read from two manifests' `metrics`."""
    paths = GATED_METRICS.get(family, ())
    return robustness_gate({p: metric_at(candidate_metrics, p) for p in paths},
                           {p: metric_at(stable_metrics, p) for p in paths}, margin, **versions)
