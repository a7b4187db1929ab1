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


@pytest.mark.parametrize("finetune", ["after", "joint"])
def test_finetuned_vectors_are_unit_rows_and_served_equals_trained(finetune: str, vectors: np.ndarray) -> None:
    """The exported rows are the fine-tuned table re-normalised; the classifier fed them through the gateway's
    lookup answers as the training graph (which normalises in the graph) does."""
    from training.antispam.model import train_classifier, with_lookup

    rng = np.random.default_rng(1)
    ids = [rng.integers(0, 50, size=int(rng.integers(1, 9))) for _ in range(64)]
    labels = (np.array([int(x.sum()) for x in ids]) % 2).astype(np.int64)
    cfg = ClassifierConfig(arch="lstm", units=8, max_epochs=1, patience=1, batch_size=16, seed=3,
                           finetune=finetune, finetune_lr=0.05, finetune_epochs=1)
    clf, history, out = train_classifier(vectors, (ids, labels), (ids[:16], labels[:16]), cfg, verbose=0)
    assert out.shape == vectors.shape and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    assert np.abs(out - vectors).max() > 1e-4  # the table did move
    served = np.asarray(clf(lookup_batch(ids[:8], out), training=False))
    model, _ = with_lookup(clf, out)
    padded = np.zeros((8, max(len(x) for x in ids[:8])), np.int32)
    for r, x in enumerate(ids[:8]):
        padded[r, : len(x)] = x + 1
    np.testing.assert_allclose(served, np.asarray(model(padded, training=False)), atol=1e-5)


def test_meanmax_and_bidirectional_ignore_padding(vectors: np.ndarray) -> None:
    model = build_classifier(DIM, ClassifierConfig(arch="lstm", pool="meanmax", bidirectional=True, seed=3))
    short, long = np.array([3, 7, 1]), np.arange(1, 50).repeat(4)
    alone = np.asarray(model(lookup_batch([short], vectors), training=False))
    batched = np.asarray(model(lookup_batch([long, short], vectors), training=False))
    assert np.abs(alone[0] - batched[1]).max() < 1e-5
