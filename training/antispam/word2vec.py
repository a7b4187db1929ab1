"""Skip-gram word2vec with negative sampling, in TensorFlow (book chapters 5 and 14).

Why our own and not the corpus's vectors: the gateway looks up vectors of the tokens *it* produces, so the
vectors must be trained on that token stream (see `data.py`), with the same vocabulary and the same UNK.

Shape of the job:
- pairs are generated for a whole epoch at once with NumPy (no Python loop over tokens): frequent-word
  subsampling, a random reduced window per centre word as in the original word2vec, offsets -w..w done as
  10 vectorised shifts that never cross a message boundary; negatives drawn from unigram^0.75;
- a two-table Keras model (centre vectors, context vectors) scores 1 true + K negative contexts per pair
  with a sigmoid (binary cross-entropy); Keras shows progress and writes TensorBoard logs;
- the result is the centre table, L2-normalised; `nearest` prints a probe (e.g. the neighbours of 微信).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from common.text_zh import Vocabulary, l2_normalize


@dataclass(frozen=True)
class Word2VecConfig:
    dim: int = 200
    window: int = 5
    min_count: int = 3
    negatives: int = 5
    subsample: float = 1e-3  # word2vec's `sample`; 0 disables frequent-word subsampling
    epochs: int = 3
    batch_size: int = 2048
    learning_rate: float = 0.002
    seed: int = 7


def skipgram_pairs(
    id_lists: Sequence[np.ndarray], counts: np.ndarray, cfg: Word2VecConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(centre, context) id pairs for one epoch, vectorised over the whole corpus."""
    ids = np.concatenate(id_lists)
    sent = np.repeat(np.arange(len(id_lists)), [len(x) for x in id_lists])
    if cfg.subsample > 0:
        freq = counts / counts.sum()
        keep_p = np.minimum(1.0, np.sqrt(cfg.subsample / np.maximum(freq, 1e-12)) + cfg.subsample / np.maximum(freq, 1e-12))
        keep = rng.random(len(ids)) < keep_p[ids]
        ids, sent = ids[keep], sent[keep]
    reach = rng.integers(1, cfg.window + 1, size=len(ids))  # reduced window per centre word
    centres, contexts = [], []
    for d in range(1, cfg.window + 1):
        a, b = np.arange(len(ids) - d), np.arange(d, len(ids))
        same = sent[a] == sent[b]
        fwd = same & (reach[a] >= d)  # centre a, context a+d
        bwd = same & (reach[b] >= d)  # centre b, context b-d
        centres += [ids[a[fwd]], ids[b[bwd]]]
        contexts += [ids[b[fwd]], ids[a[bwd]]]
    centre, context = np.concatenate(centres), np.concatenate(contexts)
    order = rng.permutation(len(centre))
    return centre[order].astype(np.int32), context[order].astype(np.int32)


def sample_negatives(counts: np.ndarray, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    cdf = np.cumsum(counts.astype(np.float64) ** 0.75)
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(shape)), len(counts) - 1).astype(np.int32)


def build_model(vocab_size: int, cfg: Word2VecConfig):
    import keras
    from keras import layers, ops

    init = keras.initializers.RandomUniform(-0.5 / cfg.dim, 0.5 / cfg.dim, seed=cfg.seed)
    centre = keras.Input(shape=(), dtype="int32", name="centre")
    contexts = keras.Input(shape=(1 + cfg.negatives,), dtype="int32", name="contexts")
    u = layers.Embedding(vocab_size, cfg.dim, embeddings_initializer=init, name="embeddings")(centre)
    v = layers.Embedding(vocab_size, cfg.dim, embeddings_initializer=init, name="context_embeddings")(contexts)
    logits = ops.einsum("bd,bkd->bk", u, v)
    model = keras.Model([centre, contexts], logits, name="skipgram")
    model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return model


def train_word2vec(
    token_lists: Sequence[Sequence[str]], cfg: Word2VecConfig, log_dir: Path | None = None, verbose: int = 1
) -> tuple[Vocabulary, np.ndarray]:
    """Vocabulary (min count, UNK) and its L2-normalised [V, dim] float32 vectors."""
    import keras

    vocab, raw_counts = Vocabulary.build(token_lists, cfg.min_count)
    id_lists = [vocab.encode(t) for t in token_lists if len(t)]
    counts = np.bincount(np.concatenate(id_lists), minlength=len(vocab)).astype(np.float64)
    counts = np.maximum(counts, 1)
    rng = np.random.default_rng(cfg.seed)
    keras.utils.set_random_seed(cfg.seed)
    model = build_model(len(vocab), cfg)
    callbacks = [keras.callbacks.TensorBoard(str(log_dir))] if log_dir else []
    for epoch in range(cfg.epochs):
        centre, context = skipgram_pairs(id_lists, counts, cfg, rng)
        negs = sample_negatives(counts, (len(centre), cfg.negatives), rng)
        ctx = np.concatenate([context[:, None], negs], axis=1)
        target = np.zeros(ctx.shape, dtype=np.float32)
        target[:, 0] = 1.0
        if verbose:
            print(f"word2vec epoch {epoch + 1}/{cfg.epochs}: {len(centre):,} pairs, vocabulary {len(vocab):,}")
        model.fit([centre, ctx], target, batch_size=cfg.batch_size, epochs=epoch + 1, initial_epoch=epoch,
                  shuffle=False, callbacks=callbacks, verbose=verbose)
    vectors = l2_normalize(model.get_layer("embeddings").get_weights()[0])
    return vocab, vectors


def nearest(vocab: Vocabulary, vectors: np.ndarray, word: str, k: int = 8) -> list[tuple[str, float]]:
    """The k tokens with the highest cosine similarity to `word` (vectors are unit length)."""
    i = vocab.index.get(word)
    if i is None:
        return []
    sims = vectors @ vectors[i]
    best = [j for j in np.argsort(-sims) if j != i][:k]
    return [(vocab.tokens[j], float(sims[j])) for j in best]


def print_probe(vocab: Vocabulary, vectors: np.ndarray, words: Sequence[str] = ("微信", "优惠", "电话", "股票", "妈妈")) -> dict:
    probe = {}
    for w in words:
        nn = nearest(vocab, vectors, w)
        probe[w] = [t for t, _ in nn]
        shown = ", ".join(f"{t} {s:.2f}" for t, s in nn) if nn else "(not in vocabulary)"
        print(f"nearest to {w}: {shown}")
    return probe
