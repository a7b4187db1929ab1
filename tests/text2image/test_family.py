"""The gateway family unit in-process over the real exported graph: reproducible seeds, the strip, bad input."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from gateway import errors as E

CAPTION = "the petals on this flower are white with a yellow center"


def _png(b64: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))))


def test_same_seed_identical_pngs_other_seed_other_images(run_family) -> None:
    a = run_family(caption=CAPTION, n=3, seed=7)
    b = run_family(caption=CAPTION, n=3, seed=7)
    c = run_family(caption=CAPTION, n=3, seed=8)
    assert a.images == b.images and a.grid_png == b.grid_png  # byte-identical
    assert a.images != c.images
    assert not np.array_equal(_png(a.images[0]), _png(c.images[0]))
    assert len({img for img in a.images}) == 3  # each image has its own z
    assert _png(a.images[0]).shape == (64, 64, 3)
    assert _png(a.grid_png).shape == (2 * 64 + 2, 2 * 64 + 2, 3)  # 3 images -> 2x2 grid
    assert a.seed == 7 and a.tokens == CAPTION.split() and a.unknown_words == []


def test_unknown_words_reported_and_random_seed_returned(run_family) -> None:
    out = run_family(caption="A fluffy, red flower!")
    assert out.tokens == ["a", "fluffy", "red", "flower"] and out.unknown_words == ["fluffy"]
    again = run_family(caption="A fluffy, red flower!", seed=out.seed)
    assert again.images == out.images


def test_interpolation_strip_keeps_z(run_family) -> None:
    out = run_family(caption=CAPTION, interpolate={"caption": "a flower with blue petals", "steps": 4}, seed=3)
    assert len(out.images) == 4 and out.alphas == [0.0, pytest.approx(1 / 3), pytest.approx(2 / 3), 1.0]
    assert _png(out.grid_png).shape == (64, 4 * 64 + 3 * 2, 3)
    single = run_family(caption=CAPTION, n=1, seed=3)
    first = _png(out.images[0]).astype(int) - _png(single.images[0]).astype(int)
    assert np.abs(first).max() <= 1  # frame 0 is caption 1 with the seed's first z
    assert out.tokens2 == ["a", "flower", "with", "blue", "petals"]


@pytest.mark.parametrize(
    "inputs, match",
    [
        ({"caption": "  ?! "}, "no words"),
        ({"caption": "zzz qqq"}, "none of its words are known"),
        ({"caption": " ".join(["red"] * 51)}, "at most 50"),
        ({"caption": CAPTION, "n": 0}, "n must be from 1 to 16"),
        ({"caption": CAPTION, "n": 17}, "n must be from 1 to 16"),
        ({"caption": CAPTION, "seed": -1}, "seed must be an integer from 0"),
        ({"caption": CAPTION, "interpolate": {"caption": "red", "steps": 1}}, "interpolate.steps must be from 2 to 16"),
        ({"caption": CAPTION, "interpolate": {"caption": "xyzzy"}}, "interpolate.caption: none of its words"),
        ({"caption": CAPTION, "n": 4, "interpolate": {"caption": "red"}}, "n applies to samples of one caption"),
    ],
)
def test_bad_inputs_are_clear_422(run_family, inputs, match) -> None:
    with pytest.raises(E.InvalidInput, match=match) as info:
        run_family(**inputs)
    assert info.value.status == 422


@pytest.mark.parametrize("seed", [1.5, "7", True, [1]])
def test_non_integer_seed_is_refused(family_assets, seed) -> None:
    fam, _ = family_assets
    with pytest.raises(ValidationError, match="seed must be a JSON integer"):
        fam.Inputs(caption=CAPTION, seed=seed)


def test_unexpected_field_is_refused(family_assets) -> None:
    fam, _ = family_assets
    with pytest.raises(ValidationError):
        fam.Inputs(caption=CAPTION, count=3)
