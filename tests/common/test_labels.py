"""The label rules (`common.labels`) as tables: each row a starting models.config entry + admin state, one
operation with the versions on disk and the versions AVAILABLE, and the entry, history and refusal after.
No files, no server: the same functions the gateway's admin API and the offline path call."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from common import labels as L
from common import repository as repo
from common.admin_state import AdminState

ON_DISK = [1, 2, 3]


def entry(policy: str, labels: dict[str, int] | None = None) -> Any:
    text = "".join(f'version_labels {{ key: "{k}" value: {v} }} ' for k, v in (labels or {}).items())
    config = repo.parse_config_text(
        f'model_config_list {{ config {{ name: "m" base_path: "/models/m" model_platform: "tensorflow" '
        f"model_version_policy {{ {policy} }} {text}}} }}"
    )
    return L.model_entry(config, "m")


def state(tmp_path: Path, history: dict[str, list[int]] | None = None) -> AdminState:
    s = AdminState(tmp_path)
    s.data["label_history"] = {"m": {k: list(v) for k, v in (history or {}).items()}} if history else {}
    return s


def policy_text(mc: Any) -> str:
    return repo.format_config(mc.model_version_policy).replace("\n", " ").strip()


# (id, policy, labels, history, operation, available, -> labels, history, policy, error class, message part)
CASES = [
    ("move-in-policy", "latest { num_versions: 2 }", {"stable": 3}, {}, ("move", "stable", 2), {2, 3},
     {"stable": 2}, {"stable": [3]}, "latest { num_versions: 2 }", None, ""),
    ("move-first-time-no-push", "", {}, {}, ("move", "stable", 3), {3},
     {"stable": 3}, {}, "", None, ""),
    ("move-same-version-no-push", "", {"stable": 3}, {}, ("move", "stable", 3), {3},
     {"stable": 3}, {}, "", None, ""),
    ("move-not-available", "", {"stable": 3}, {}, ("move", "stable", 1), {3},
     {"stable": 3}, {}, "", L.LabelConflict, "version 1 of model 'm' is not AVAILABLE (available: [3])"),
    ("move-not-on-disk", "all { }", {}, {}, ("move", "stable", 9), {1, 2, 3},
     {}, {}, "all { }", L.LabelNotFound, "no version 9 on disk; versions: [1, 2, 3]"),
    ("rollback-with-history", "latest { num_versions: 3 }", {"stable": 3}, {"stable": [1, 2]}, ("rollback", "stable"), {1, 2, 3},
     {"stable": 2}, {"stable": [1]}, "latest { num_versions: 3 }", None, ""),
    ("rollback-pushes-nothing", "latest { num_versions: 3 }", {"stable": 2}, {"stable": [1]}, ("rollback", "stable"), {1, 2, 3},
     {"stable": 1}, {"stable": []}, "latest { num_versions: 3 }", None, ""),
    ("rollback-without-history", "", {"stable": 3}, {}, ("rollback", "stable"), {3},
     {"stable": 3}, {}, "", L.LabelConflict, "label 'stable' of model 'm' has no earlier version recorded"),
    ("rollback-other-label-history", "", {"stable": 3, "canary": 3}, {"canary": [2]}, ("rollback", "stable"), {3},
     {"stable": 3, "canary": 3}, {"canary": [2]}, "", L.LabelConflict, "no earlier version recorded"),
    ("rollback-target-not-available", "", {"stable": 3}, {"stable": [1]}, ("rollback", "stable"), {3},
     {"stable": 3}, {"stable": [1]}, "", L.LabelConflict, "version 1 of model 'm' is not AVAILABLE"),
    ("rollback-target-gone", "", {"stable": 3}, {"stable": [7]}, ("rollback", "stable"), {3},
     {"stable": 3}, {"stable": [7]}, "", L.LabelNotFound, "would roll back to version 7, which is no longer on disk"),
    ("delete", "", {"stable": 3, "canary": 3}, {"canary": [2]}, ("delete", "canary"), {3},
     {"stable": 3}, {"canary": [2]}, "", None, ""),
    ("delete-missing", "", {"stable": 3}, {}, ("delete", "canary"), {3},
     {"stable": 3}, {}, "", L.LabelNotFound, "model 'm' has no version label 'canary'; labels: ['stable']"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_label_rules(tmp_path: Path, case: tuple) -> None:
    _id, policy, labels, history, op, available, want_labels, want_history, want_policy, error, message = case
    mc, st = entry(policy, labels), state(tmp_path, history)
    kind, label, *args = op

    def run() -> L.LabelChange:
        if kind == "move":
            return L.move_label(mc, st, label, args[0], on_disk=ON_DISK, available=available)
        if kind == "rollback":
            return L.rollback_label(mc, st, label, on_disk=ON_DISK, available=available)
        return L.delete_label(mc, st, label)

    before = labels.get(label)
    if error is None:
        change = run()
        assert change == L.LabelChange("m", label, want_labels.get(label), before)
    else:
        with pytest.raises(error) as info:
            run()
        assert message in str(info.value)
    assert dict(mc.version_labels) == want_labels
    assert {k: v for k, v in st.data["label_history"].get("m", {}).items()} == want_history
    assert policy_text(mc) == policy_text(entry(want_policy))


WIDEN = [
    # (policy, target, policy after, changed)
    ("latest { num_versions: 1 }", 1, "latest { num_versions: 3 }", True),
    ("", 2, "latest { num_versions: 2 }", True),  # no policy = latest 1
    ("latest { num_versions: 3 }", 2, "latest { num_versions: 3 }", False),
    ("specific { versions: 3 }", 1, "specific { versions: 3 versions: 1 }", True),
    ("specific { versions: 3 versions: 1 }", 1, "specific { versions: 3 versions: 1 }", False),
    ("all { }", 1, "all { }", False),
]


@pytest.mark.parametrize("policy,version,after,changed", WIDEN)
def test_widen_policy_then_the_version_is_available_offline(policy: str, version: int, after: str, changed: bool) -> None:
    mc = entry(policy)
    assert L.widen_policy(mc, ON_DISK, version) is changed
    assert policy_text(mc) == policy_text(entry(after))
    assert version in L.offline_available(mc, ON_DISK)


def test_widen_policy_refuses_a_version_not_on_disk() -> None:
    mc = entry("")
    with pytest.raises(L.LabelNotFound, match=r"no version 5 on disk; versions: \[1, 2, 3\]"):
        L.widen_policy(mc, ON_DISK, 5)
    assert policy_text(mc) == ""


def test_unknown_model_names_the_known_ones() -> None:
    config = repo.parse_config_text('model_config_list { config { name: "m" base_path: "/models/m" } }')
    with pytest.raises(L.LabelNotFound, match=r"model 'x' is not in models.config; models: \['m'\]"):
        L.model_entry(config, "x")


@pytest.mark.parametrize("share", [0, 0.0, 0.05, 0.5, 1, 1.0])
def test_share_within_0_1_is_kept(tmp_path: Path, share: float) -> None:
    st = state(tmp_path)
    assert L.set_canary_share(entry(""), st, share) == {"model": "m", "share": float(share)}
    assert st.canary_share("m", -1.0) == share


@pytest.mark.parametrize("share", [-0.01, 1.01, 10, 100, math.nan, math.inf, "0.5", None, True])
def test_share_outside_0_1_is_refused_naming_the_unit(tmp_path: Path, share: Any) -> None:
    st = state(tmp_path)
    with pytest.raises(L.InvalidShare, match=r"canary share must be a fraction of unpinned requests within 0\.\.1 \(0\.1 = 10 %\), got"):
        L.set_canary_share(entry(""), st, share)
    assert st.data["canary_shares"] == {}


NARROW = [
    # (policy, labels, drop, policy after, changed)
    ("latest { num_versions: 3 }", {"stable": 3}, {1}, "latest { num_versions: 2 }", True),
    ("latest { num_versions: 3 }", {"stable": 3}, {2}, "specific { versions: 1 versions: 3 }", True),
    ("specific { versions: 1 versions: 3 }", {"stable": 3}, {1}, "specific { versions: 3 }", True),
    ("", {"stable": 3}, {1}, "", False),  # 1 is not loaded anyway
]


@pytest.mark.parametrize("policy,labels,drop,after,changed", NARROW)
def test_narrow_policy(policy: str, labels: dict[str, int], drop: set[int], after: str, changed: bool) -> None:
    mc = entry(policy, labels)
    assert L.narrow_policy(mc, ON_DISK, drop) is changed
    assert policy_text(mc) == policy_text(entry(after))


def test_narrow_policy_never_unloads_a_labelled_version() -> None:
    mc = entry("latest { num_versions: 3 }", {"stable": 1})
    with pytest.raises(L.LabelConflict, match=r"versions \[1\] of model 'm' are labelled"):
        L.narrow_policy(mc, ON_DISK, {1})


def test_gc_keeps_labels_newest_and_rollback_targets(tmp_path: Path) -> None:
    st = state(tmp_path, {"stable": [1, 2], "canary": []})
    assert L.rollback_targets(st, "m") == {2}
    delete, kept = L.gc_plan([1, 2, 3, 4, 5], {5}, 1, set(), L.rollback_targets(st, "m"))
    assert delete == [1, 3, 4] and kept == {2: "rollback target", 5: "labelled"}
    L.forget_versions(st, "m", delete)
    assert st.history("m", "stable") == [2]


@pytest.mark.parametrize("policy,labels,on_disk,after", [
    ("", {"stable": 3}, [1, 2, 3], "latest { num_versions: 2 }"),  # 3 and the coming 4
    ("latest { num_versions: 3 }", {"stable": 3}, [1, 2, 3], "latest { num_versions: 3 }"),
    ("", {}, [1, 2, 3], ""),  # nothing labelled
    ("specific { versions: 3 }", {"stable": 3}, [1, 2, 3], "specific { versions: 3 }"),
])
def test_keep_labelled_loaded_before_a_publish(policy: str, labels: dict[str, int], on_disk: list[int], after: str) -> None:
    mc = entry(policy, labels)
    L.keep_labelled_loaded(mc, on_disk)
    assert policy_text(mc) == policy_text(entry(after))
