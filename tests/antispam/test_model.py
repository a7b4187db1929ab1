"""training/antispam/model.py: every architecture ignores zero-vector padding; dropout only in training."""

from __future__ import annotations

import numpy as np
import pytest

from common.text_zh import l2_normalize, lookup_batch
from training.antispam.model import ARCHS, ClassifierConfig, build_classifier, padded_batches

DIM = 200


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return l2_normalize(np.random.default_rng(0).normal(size=(50, DIM)))


@pytest.mark.parametrize("arch", ARCHS)
def test_padding_never_changes_the_answer(arch: str, vectors: np.ndarray) -> None:
    model = build_classifier(DIM, ClassifierConfig(arch=arch, seed=3))
    short = np.array([3, 7, 1])
    long = np.arange(1, 50).repeat(4)  # 196 tokens
    alone = np.asarray(model(lookup_batch([short], vectors), training=False))
    batched = np.asarray(model(lookup_batch([long, short, long[:20]], vectors), training=False))
    assert np.abs(alone[0] - batched[1]).max() < 1e-5
    np.testing.assert_allclose(alone.sum(axis=1), 1.0, rtol=1e-5)


def test_dropout_is_training_only(vectors: np.ndarray) -> None:
    model = build_classifier(DIM, ClassifierConfig(arch="mlp", dropout=0.5, seed=3))
    x = lookup_batch([np.array([1, 2, 3])] * 8, vectors)
    a, b = np.asarray(model(x, training=False)), np.asarray(model(x, training=False))
    np.testing.assert_array_equal(a, b)
    t = np.asarray(model(x, training=True))
    assert np.abs(t - a).max() > 0


def test_padded_batches_bucket_and_shift() -> None:
    ids = [np.array([0, 1]), np.array([2]), np.array([3, 4, 5])]
    batches = list(padded_batches(ids, np.array([0, 1, 0]), batch_size=2, rng=None))
    first, labels = batches[0]
    assert first.tolist() == [[3, 0], [1, 2]] and labels.tolist() == [1, 0]  # shortest first, ids + 1, 0 = pad
    assert batches[1][0].tolist() == [[4, 5, 6]]
