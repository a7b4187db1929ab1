"""training/antispam/word2vec.py: vectorised skip-gram pairs and negative sampling (no TensorFlow)."""

from __future__ import annotations

import numpy as np

from training.antispam.word2vec import Word2VecConfig, sample_negatives, skipgram_pairs


def test_pairs_stay_inside_window_and_message() -> None:
    # two messages with disjoint ids: a pair across the boundary would mix the ranges
    id_lists = [np.arange(0, 10), np.arange(100, 110)]
    counts = np.ones(110)
    cfg = Word2VecConfig(window=3, subsample=0)
    c, o = skipgram_pairs(id_lists, counts, cfg, np.random.default_rng(0))
    assert len(c) == len(o) > 0
    assert ((c < 100) == (o < 100)).all()
    d = np.abs(c.astype(int) - o.astype(int))
    assert d.min() >= 1 and d.max() <= 3
    # with the full window every (centre, context) at distance 1 is always present
    assert {(i, i + 1) for i in range(9)} <= set(zip(c.tolist(), o.tolist()))


def test_negatives_follow_unigram_power() -> None:
    counts = np.array([1000.0, 10.0, 1.0])
    negs = sample_negatives(counts, (20000, 5), np.random.default_rng(0))
    share = np.bincount(negs.ravel(), minlength=3) / negs.size
    expected = counts**0.75 / (counts**0.75).sum()
    np.testing.assert_allclose(share, expected, atol=0.01)
