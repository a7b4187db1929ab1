"""Version choice of a model record, as a table (explicit version > label > stable > latest; canary share)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import errors as E
from gateway.backend import VersionStatus
from gateway.registry import ModelRecord, ServedVersion, in_share


def record(served=(1, 2, 3), labels=None, effective=None, states=None, canary_share=0.0, status="available") -> ModelRecord:
    sv = {v: ServedVersion("m", v, Path(f"/r/m/{v}"), {}, f"assets-{v}") for v in served}
    labels = dict(labels or {})
    effective = dict(labels if effective is None else effective)
    states = states or {v: VersionStatus(v, "AVAILABLE") for v in served}
    return ModelRecord("m", object(), status, sv, labels, effective, states, tuple(served), canary_share, "", 1)  # type: ignore[arg-type]


CASES = [
    # (description, record kwargs, version, label, expected version or error class)
    ("latest when no label", {}, None, None, 3),
    ("stable label wins over latest", {"labels": {"stable": 2}}, None, None, 2),
    ("explicit version wins over stable", {"labels": {"stable": 2}}, 1, None, 1),
    ("version label", {"labels": {"stable": 2, "canary": 3}}, None, "canary", 3),
    ("unknown version", {}, 7, None, E.ModelNotFound),
    ("version still loading", {"served": (1,), "states": {1: VersionStatus(1, "AVAILABLE"), 2: VersionStatus(2, "LOADING")}}, 2, None, E.ModelNotReady),
    ("unknown label", {"labels": {"stable": 2}}, None, "beta", E.ModelNotFound),
    ("label whose version is not served yet", {"labels": {"stable": 4}, "effective": {}}, None, "stable", E.ModelNotReady),
    ("stable moving: previous target kept", {"labels": {"stable": 4}, "effective": {"stable": 2}}, None, None, 2),
    ("stable loading: no fallback to latest", {"labels": {"stable": 4}, "effective": {}}, None, None, E.ModelNotReady),
    ("pending model", {"served": (), "status": "pending"}, None, None, E.ModelNotReady),
    ("loading model", {"served": (), "status": "loading"}, None, None, E.ModelNotReady),
]


@pytest.mark.parametrize("desc,kwargs,version,label,expected", CASES, ids=[c[0] for c in CASES])
def test_resolve(desc, kwargs, version, label, expected) -> None:
    rec = record(**kwargs)
    if isinstance(expected, int):
        sv = rec.resolve(version, label, "req-1")
        assert sv.version == expected and sv.assets == f"assets-{expected}"
    else:
        with pytest.raises(expected):
            rec.resolve(version, label, "req-1")


def test_canary_share_is_deterministic_and_close_to_the_share() -> None:
    rec = record(labels={"stable": 2, "canary": 3}, canary_share=0.25)
    ids = [f"request-{i}" for i in range(4000)]
    first = [rec.resolve(None, None, i).version for i in ids]
    assert first == [rec.resolve(None, None, i).version for i in ids]  # same id, same side
    share = first.count(3) / len(first)
    assert 0.2 < share < 0.3 and set(first) == {2, 3}
    # pinned requests never go to the canary by chance
    assert {rec.resolve(None, "stable", i).version for i in ids[:200]} == {2}


def test_in_share_edges() -> None:
    assert not any(in_share(f"r{i}", 0.0) for i in range(500))
    assert all(in_share(f"r{i}", 1.0) for i in range(500))
