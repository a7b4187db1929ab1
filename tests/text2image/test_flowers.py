"""training/text2image/flowers.py: seeded data, captions about what is drawn, held-out combinations."""

from __future__ import annotations

import numpy as np

from training.text2image import flowers as F


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b, c = F.generate(12, 5, held_out=False), F.generate(12, 5, held_out=False), F.generate(12, 6, held_out=False)
    assert a.digest() == b.digest() and np.array_equal(a.images, b.images) and a.captions == b.captions
    assert a.digest() != c.digest()
    assert a.images.shape == (12, 64, 64, 3) and a.images.dtype == np.uint8


def test_split_holds_combinations_back_for_test_only() -> None:
    split = F.make_split(60, 10, 20, seed=1)
    pairs = lambda s: {(a.petal, a.centre) for a in s.attributes}  # noqa: E731
    assert pairs(split.train).isdisjoint(F.HELD_OUT_COMBINATIONS)
    assert pairs(split.val).isdisjoint(F.HELD_OUT_COMBINATIONS)
    assert pairs(split.test) == set(F.HELD_OUT_COMBINATIONS)  # every held-out pair is tested
    # every colour on its own is still seen in training
    assert {p for p, _ in pairs(split.train)} == set(F.PETAL_NAMES)
    assert {c for _, c in pairs(split.train)} == set(F.CENTRE_NAMES)


def test_ten_captions_naming_the_petal_colour() -> None:
    data = F.generate(30, 2, held_out=False)
    for caps, attrs in zip(data.captions, data.attributes):
        assert len(caps) == F.CAPTIONS_PER_IMAGE == len(set(caps))
        assert all(attrs.petal in c.split() for c in caps)
        assert any(F.caption_mentions_centre(c, attrs) for c in caps)
    assert "the petals on this flower are white with a yellow center".split()[:5] == "the petals on this flower".split()


def test_petal_colour_is_drawn() -> None:
    """The petal colour named in the caption dominates the ring between centre and petal tips."""
    data = F.generate(40, 3, held_out=False)
    yy, xx = np.mgrid[0:64, 0:64]
    hits = 0
    for img, attrs in zip(data.images, data.attributes):
        # the flower's own pixels nearest to the named colour beat every other petal colour
        dist = {name: np.abs(img.astype(int) - np.array(rgb)).sum(-1) for name, rgb in F.PETAL_COLOURS.items()}
        counts = {name: int((d < 60).sum()) for name, d in dist.items()}
        hits += max(counts, key=counts.get) == attrs.petal
    assert hits >= 36
