"""gateway/families/antispam.py run in-process against the trained version (no servers)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from gateway import errors as E

SPAMMY = "本店新品上市，全场八折优惠，详询13800138000"
LONG = "今天下午三点在会议室开会，请大家准时参加并带好材料。" * 12


def run(family_assets, serve_fn, inputs: dict):
    family, assets = family_assets
    inp = family.Inputs.model_validate(inputs)
    prepared = family.preprocess(inp, assets)
    arrays = prepared.arrays
    return family.postprocess({"probabilities": serve_fn(arrays["x"])}, assets, inp, prepared.context), arrays


def test_single_text_and_debug(family_assets, serve_fn) -> None:
    out, arrays = run(family_assets, serve_fn, {"text": SPAMMY, "debug": True})
    assert arrays["x"].dtype == np.float32 and arrays["x"].shape[0] == 1 and arrays["x"].shape[2] == 200
    assert out.label in ("spam", "pass") and 0.0 <= out.spam_probability <= 1.0
    assert out.n_tokens == len(out.tokens) > 3 and "xxxxxxxxxxx" in out.tokens
    assert 0.0 <= out.unknown_ratio <= 1.0 and set(out.stage_ms) == {"normalise_jieba", "lookup"}
    assert out.results[0].spam_probability == out.spam_probability
    # the tokens outside this version's vocabulary, in order: the ones the unknown ratio counts
    family, assets = family_assets
    assert out.unknown_tokens == [t for t in out.tokens if t not in assets.vocab.index]
    assert len(out.unknown_tokens) == round(out.unknown_ratio * out.n_tokens)


def test_alone_equals_batched_with_long_text(family_assets, serve_fn) -> None:
    alone, _ = run(family_assets, serve_fn, {"text": SPAMMY})
    batched, arrays = run(family_assets, serve_fn, {"texts": [LONG, SPAMMY, "好的"]})
    assert arrays["x"].shape[1] == batched.results[0].n_tokens  # padded to the longest
    assert batched.label is None and batched.results[0].tokens is None
    assert abs(alone.spam_probability - batched.results[1].spam_probability) < 1e-5


def test_text_without_tokens_is_one_unknown(family_assets, serve_fn) -> None:
    out, arrays = run(family_assets, serve_fn, {"text": "\u200b\u200b"})  # only invisible characters
    assert out.n_tokens == 0 and out.unknown_ratio == 1.0 and arrays["x"].shape[1] == 1


@pytest.mark.parametrize(
    "inputs",
    [{"text": 5}, {"texts": ["ok", 3]}, {"texts": []}, {}, {"text": "a", "texts": ["b"]}, {"text": "a", "lang": "zh"}, {"text": "a", "debug": "yes"}],
)
def test_malformed_inputs_fail_validation(family_assets, inputs) -> None:
    family, _ = family_assets
    with pytest.raises(ValidationError):
        family.Inputs.model_validate(inputs)


@pytest.mark.parametrize(
    ("inputs", "error"),
    [
        ({"text": ""}, E.InvalidInput),
        ({"text": " \t\n\u3000"}, E.InvalidInput),
        ({"texts": ["ok", "  "]}, E.InvalidInput),
        ({"text": "字" * 5001}, E.PayloadTooLarge),
        ({"texts": ["好"] * 65}, E.PayloadTooLarge),
    ],
)
def test_bad_texts_raise_domain_errors(family_assets, inputs, error) -> None:
    family, assets = family_assets
    with pytest.raises(error) as info:
        family.preprocess(family.Inputs.model_validate(inputs), assets)
    assert info.value.status in (413, 422) and info.value.message


def test_limits_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.core.config import Settings
    from gateway.families.antispam import AntispamLimits

    monkeypatch.setenv("GATEWAY_ANTISPAM_MAX_CHARS", "10")
    assert AntispamLimits.from_settings(Settings()) == AntispamLimits(max_chars=10, max_texts=64)
    monkeypatch.setenv("GATEWAY_ANTISPAM_MAX_TEXTS", "0")
    with pytest.raises(ValueError):
        AntispamLimits.from_settings(Settings())
