"""Skip-gram word2vec with negative sampling, in TensorFlow (book chapters 5 and 14).

Why our own and not the corpus's vectors: the gateway looks up vectors of the tokens *it* produces, so the
vectors must be trained on that token stream (see `data.py`), with the same vocabulary and the same UNK.

Shape of the job:
- pairs are generated for a whole epoch at once with NumPy (no Python loop over tokens): frequent-word
  subsampling, a random reduced window per centre word as in the original word2vec, offsets -w..w done as
  10 vectorised shifts that never cross a message boundary; negatives drawn from unigram^0.75;
- two tables (centre vectors, context vectors) score 1 true + K negative contexts per pair with a sigmoid;
  SGD on the touched rows only, linear learning-rate decay; tqdm progress and TensorBoard scalars;
- the result is the centre table, mean-centred and L2-normalised; `nearest` prints a probe (e.g. the neighbours of 微信).
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
    batch_size: int = 512
    learning_rate: float = 0.025
    seed: int = 7
    center: bool = True  # subtract the mean vector before L2 normalisation


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


class SkipGram:
    """Centre and context tables trained with plain SGD on per-pair gradients (as the original word2vec).

    Why hand-written updates: only the rows a batch touches change, so a step costs O(batch x (1 + K) x dim)
    instead of the O(vocabulary x dim) of a dense optimiser update (10x faster on 2 cores).
    """

    def __init__(self, vocab_size: int, cfg: Word2VecConfig) -> None:
        import tensorflow as tf

        self.cfg = cfg
        init = tf.random.stateless_uniform([vocab_size, cfg.dim], seed=[cfg.seed, 0], minval=-0.5 / cfg.dim, maxval=0.5 / cfg.dim)
        self.centre = tf.Variable(init, name="embeddings")
        self.context = tf.Variable(tf.zeros([vocab_size, cfg.dim]), name="context_embeddings")
        k = 1 + cfg.negatives
        self.run_chunk = tf.function(
            self._run_chunk,
            input_signature=[tf.TensorSpec([None], tf.int32), tf.TensorSpec([None, k], tf.int32),
                             tf.TensorSpec([], tf.float32), tf.TensorSpec([], tf.float32)],
        )

    def _run_chunk(self, centre, contexts, lr_start, lr_end):
        """SGD over consecutive batches of one chunk inside the graph (no Python per step); mean loss."""
        import tensorflow as tf

        bs = self.cfg.batch_size
        n = tf.shape(centre)[0]
        n_batches = (n + bs - 1) // bs
        total = tf.constant(0.0)
        for b in tf.range(n_batches):
            frac = tf.cast(b, tf.float32) / tf.cast(tf.maximum(n_batches, 1), tf.float32)
            lr = lr_start + (lr_end - lr_start) * frac
            total += self._step(centre[b * bs : (b + 1) * bs], contexts[b * bs : (b + 1) * bs], lr)
        return total / tf.cast(tf.maximum(n_batches, 1), tf.float32)

    def _step(self, centre, contexts, lr):
        """One SGD step; returns the mean loss of the batch. contexts[:, 0] is the true context."""
        import tensorflow as tf

        u = tf.gather(self.centre, centre)  # [B, D]
        v = tf.gather(self.context, contexts)  # [B, 1+K, D]
        logits = tf.einsum("bd,bkd->bk", u, v)
        labels = tf.one_hot(tf.zeros_like(centre), tf.shape(contexts)[1])
        loss = tf.reduce_mean(tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels, logits), axis=1))
        g = labels - tf.sigmoid(logits)  # d(log-likelihood)/d(logit)
        grad_u = tf.einsum("bk,bkd->bd", g, v)
        grad_v = tf.einsum("bk,bd->bkd", g, u)
        self.centre.scatter_add(tf.IndexedSlices(lr * grad_u, centre))
        self.context.scatter_add(tf.IndexedSlices(lr * tf.reshape(grad_v, [-1, self.cfg.dim]), tf.reshape(contexts, [-1])))
        return loss


def train_word2vec(
    token_lists: Sequence[Sequence[str]], cfg: Word2VecConfig, log_dir: Path | None = None, verbose: int = 1
) -> tuple[Vocabulary, np.ndarray]:
    """Vocabulary (min count, UNK) and its L2-normalised [V, dim] float32 vectors.

    The learning rate decays linearly from `learning_rate` to 1e-4 of it over all steps (word2vec's schedule).
    """
    import tensorflow as tf
    from tqdm import tqdm

    vocab, _raw = Vocabulary.build(token_lists, cfg.min_count)
    id_lists = [vocab.encode(t) for t in token_lists if len(t)]
    counts = np.bincount(np.concatenate(id_lists), minlength=len(vocab)).astype(np.float64)
    counts = np.maximum(counts, 1)
    rng = np.random.default_rng(cfg.seed)
    model = SkipGram(len(vocab), cfg)
    writer = tf.summary.create_file_writer(str(log_dir)) if log_dir else None
    total_pairs = 0
    done = 0
    for epoch in range(cfg.epochs):
        centre, context = skipgram_pairs(id_lists, counts, cfg, rng)
        negs = sample_negatives(counts, (len(centre), cfg.negatives), rng)
        ctx = np.concatenate([context[:, None], negs], axis=1)
        chunk = cfg.batch_size * 50
        n_chunks = -(-len(centre) // chunk)
        total_pairs = total_pairs or len(centre) * cfg.epochs
        bar = tqdm(range(n_chunks), desc=f"word2vec {epoch + 1}/{cfg.epochs} ({len(vocab):,} words)",
                   unit="chunk", disable=not verbose)
        for c in bar:
            lo, hi = c * chunk, min((c + 1) * chunk, len(centre))
            lr0 = cfg.learning_rate * max(1e-4, 1.0 - done / total_pairs)
            lr1 = cfg.learning_rate * max(1e-4, 1.0 - (done + hi - lo) / total_pairs)
            loss = float(model.run_chunk(tf.constant(centre[lo:hi]), tf.constant(ctx[lo:hi]), tf.constant(lr0), tf.constant(lr1)))
            done += hi - lo
            bar.set_postfix(loss=f"{loss:.3f}", lr=f"{lr1:.4f}")
            if writer:
                with writer.as_default():
                    tf.summary.scalar("word2vec/loss", loss, step=done)
                    tf.summary.scalar("word2vec/learning_rate", lr1, step=done)
    if writer:
        writer.flush()
    # Centre before normalising: SGNS vectors share a large common direction (unrelated words at cosine
    # ~0.9); removing the mean spreads them out, which the classifier downstream reads more easily.
    raw = model.centre.numpy()
    vectors = l2_normalize(raw - raw.mean(axis=0, keepdims=True)) if cfg.center else l2_normalize(raw)
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
