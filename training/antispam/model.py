"""The anti-spam classifiers over fixed word vectors: the book's dynamic RNN, plus NBOW (mlp) and CNN.

Every architecture takes the served input `x` float32 [B, T, dim] and returns softmax probabilities
[B, 2] (0 = spam, 1 = pass). Padding is an all-zero row; each architecture derives its mask from `x`
inside the graph, so a text's answer does not depend on how long the other texts in its batch are:
- lstm: `Masking(0.0)` -> LSTM(64): masked steps carry the state through unchanged, so the last real
  token's state is the output (the book computed the sequence length from the zero rows instead);
- mlp: the masked mean of the vectors (neural bag of words) -> dense layers;
- cnn: 'same' convolutions (zero padding at the end of a short text is what 'same' adds anyway) ->
  max over the real positions only.
Dropout is a layer, so Keras applies it in training only.

For training, `with_lookup` puts an embedding table (row 0 = padding, row i+1 = vector of vocabulary id i)
in front of the classifier, so batches are small int arrays; the exported graph is the classifier alone.
The table's rows are L2-normalised *inside* the training graph and padding is zeroed there, so the
classifier is trained on exactly what the gateway sends (unit rows, zero padding). With `finetune` the table
is trained too (word2vec knows co-occurrence, not spam): `after` first fits the classifier on the frozen
word2vec vectors, then unfreezes the table at `finetune_lr` (a converged classifier and a small step keep
rare words from being pushed far by a handful of lines); `joint` trains both from the start. The
fine-tuned rows, re-normalised, are what `train_classifier` returns and what is exported as `vectors.npy`.

`pool`: `last` is the book's (the LSTM's last real state); `meanmax` concatenates the masked mean and the
masked max of the LSTM's outputs over the real positions (a spam cue in the middle of a long message is
not diluted by what follows). `bidirectional` runs a second, backward LSTM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ARCHS = ("lstm", "mlp", "cnn")
POOLS = ("last", "meanmax")
FINETUNE = ("off", "after", "joint")


@dataclass(frozen=True)
class ClassifierConfig:
    arch: str = "lstm"
    units: int = 64  # LSTM units (the book: 64); hidden units of mlp; filters of cnn
    dropout: float = 0.2
    recurrent_dropout: float = 0.0  # the book used 0.2; >0 makes Keras fall back to a slower LSTM loop
    learning_rate: float = 0.003
    batch_size: int = 64
    max_epochs: int = 8
    patience: int = 2
    seed: int = 7
    pool: str = "last"  # lstm: last (the book) | meanmax (masked mean + max over the outputs)
    bidirectional: bool = False  # lstm: add a backward LSTM
    finetune: str = "off"  # off (frozen word2vec vectors) | after (unfreeze once the classifier converged) | joint
    finetune_lr: float = 1e-3  # Adam learning rate of the `after` phase
    finetune_epochs: int = 4  # epochs of the `after` phase (early stopping on validation loss)


def _nonzero_mask(x):
    """[B, T] bool: True where the row is a real token (any non-zero component)."""
    from keras import ops

    return ops.any(ops.not_equal(x, 0.0), axis=-1)


def _masked_mean_max(h, mask):
    """[B, T, U] outputs, [B, T] bool mask -> [B, 2U]: mean and max over the real positions only."""
    from keras import ops

    m = ops.cast(ops.expand_dims(mask, -1), h.dtype)
    mean = ops.sum(h * m, axis=1) / ops.maximum(ops.sum(m, axis=1), 1.0)
    mx = ops.max(ops.where(ops.expand_dims(mask, -1), h, -1e9), axis=1)
    return ops.concatenate([mean, mx], axis=-1)


def build_classifier(dim: int, cfg: ClassifierConfig):
    """The servable graph: x float32 [B, T, dim] -> probabilities [B, 2]."""
    import keras
    from keras import layers, ops

    if cfg.arch not in ARCHS:
        raise ValueError(f"unknown arch {cfg.arch!r}; choose one of {', '.join(ARCHS)}")
    seed = cfg.seed
    x = keras.Input(shape=(None, dim), dtype="float32", name="x")
    if cfg.pool not in POOLS:
        raise ValueError(f"unknown pool {cfg.pool!r}; choose one of {', '.join(POOLS)}")
    if cfg.arch == "lstm":
        h = layers.Masking(mask_value=0.0, name="padding_mask")(x)
        rnn = layers.LSTM(cfg.units, recurrent_dropout=cfg.recurrent_dropout, seed=seed,
                          return_sequences=cfg.pool == "meanmax", name="lstm")
        h = layers.Bidirectional(rnn, name="bilstm")(h) if cfg.bidirectional else rnn(h)
        if cfg.pool == "meanmax":
            h = _masked_mean_max(h, _nonzero_mask(x))
    elif cfg.arch == "mlp":
        mask = ops.cast(ops.expand_dims(_nonzero_mask(x), -1), "float32")
        h = ops.sum(x * mask, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0)  # masked mean (NBOW)
        h = layers.Dense(cfg.units * 4, activation="relu", name="hidden")(h)
    else:
        mask = ops.expand_dims(_nonzero_mask(x), -1)
        convs = []
        for k in (2, 3, 4):
            c = layers.Conv1D(cfg.units, k, padding="same", activation="relu", name=f"conv{k}")(x)
            convs.append(ops.max(ops.where(mask, c, -1e9), axis=1))  # max over real positions only
        h = ops.concatenate(convs, axis=-1)
    h = layers.Dropout(cfg.dropout, seed=seed, name="dropout")(h)
    probs = layers.Dense(2, activation="softmax", name="probabilities")(h)
    return keras.Model(x, probs, name=f"antispam_{cfg.arch}")


def with_lookup(classifier, vectors: np.ndarray, trainable: bool = False):
    """ids int32 [B, T] (0 = padding, i+1 = vocabulary id i) -> classifier(unit rows of the table, 0 at padding).

    Returns (model, embedding layer). The normalisation is in the graph, so a trainable table still feeds
    the classifier unit rows, as the gateway's `vectors.npy` lookup does.
    """
    import keras
    from keras import layers, ops

    table = np.concatenate([np.zeros((1, vectors.shape[1]), np.float32), vectors], axis=0)
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")
    emb = layers.Embedding(table.shape[0], table.shape[1], trainable=trainable, name="word_vectors")
    e = emb(ids)
    norm = ops.sqrt(ops.maximum(ops.sum(ops.square(e), axis=-1, keepdims=True), 1e-24))
    e = e / norm * ops.cast(ops.expand_dims(ops.not_equal(ids, 0), -1), "float32")
    out = classifier(e)
    model = keras.Model(ids, out, name="antispam_train")
    emb.set_weights([table])
    return model, emb


def table_vectors(emb) -> np.ndarray:
    """The embedding's rows 1.. (vocabulary ids 0..), L2-normalised: the exported `vectors.npy`."""
    from common.text_zh import l2_normalize

    return l2_normalize(np.asarray(emb.get_weights()[0])[1:])


def padded_batches(id_lists: list[np.ndarray], labels: np.ndarray, batch_size: int, rng: np.random.Generator | None):
    """Length-bucketed batches (ids shifted by +1, 0-padded to the batch's longest): little padding work.

    With `rng`, lengths get a random tie-break and the batch order is shuffled (training); without, the
    order is fixed (validation).
    """
    lengths = np.array([len(x) for x in id_lists])
    key = lengths + (rng.random(len(lengths)) if rng is not None else 0.0)
    order = np.argsort(key, kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(batches)
    for idx in batches:
        t = lengths[idx].max()
        out = np.zeros((len(idx), t), dtype=np.int32)
        for r, i in enumerate(idx):
            out[r, : lengths[i]] = id_lists[i] + 1
        yield out, labels[idx].astype(np.int32)


def make_dataset(id_lists, labels, batch_size: int, seed: int | None):
    """A re-iterable tf.data pipeline of `padded_batches` (a new shuffle each epoch when seeded)."""
    import tensorflow as tf

    epoch = [0]

    def gen():
        rng = None if seed is None else np.random.default_rng([seed, epoch[0]])
        epoch[0] += 1
        yield from padded_batches(id_lists, labels, batch_size, rng)

    n_batches = -(-len(id_lists) // batch_size)
    return tf.data.Dataset.from_generator(
        gen,
        output_signature=(tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32)),
    ).apply(tf.data.experimental.assert_cardinality(n_batches)).prefetch(2)


def train_classifier(
    vectors: np.ndarray,
    train: tuple[list[np.ndarray], np.ndarray],
    val: tuple[list[np.ndarray], np.ndarray],
    cfg: ClassifierConfig,
    log_dir=None,
    verbose: int = 1,
):
    """Fit with early stopping on validation loss (best weights restored).

    Returns (classifier, history, vectors): `vectors` are the input rows unchanged (`finetune=off`) or the
    fine-tuned table, re-normalised; the classifier was trained on exactly these rows.
    """
    import keras

    if cfg.finetune not in FINETUNE:
        raise ValueError(f"unknown finetune {cfg.finetune!r}; choose one of {', '.join(FINETUNE)}")
    keras.utils.set_random_seed(cfg.seed)
    classifier = build_classifier(vectors.shape[1], cfg)
    model, emb = with_lookup(classifier, vectors, trainable=cfg.finetune == "joint")
    history = _fit(model, train, val, cfg, cfg.learning_rate, cfg.max_epochs, log_dir, verbose, seed=cfg.seed)
    if cfg.finetune == "after":
        emb.trainable = True
        more = _fit(model, train, val, cfg, cfg.finetune_lr, cfg.finetune_epochs,
                    log_dir and f"{log_dir}-finetune", verbose, seed=cfg.seed + 1)
        history = {k: list(history.get(k, [])) + list(more.get(k, [])) for k in set(history) | set(more)}
    out = vectors if cfg.finetune == "off" else table_vectors(emb)
    return classifier, history, out


def _fit(model, train, val, cfg: ClassifierConfig, lr: float, epochs: int, log_dir, verbose: int, seed: int) -> dict:
    """One compile + fit with early stopping on validation loss, best weights restored."""
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    callbacks = [keras.callbacks.EarlyStopping("val_loss", patience=cfg.patience, restore_best_weights=True)]
    if log_dir:
        callbacks.append(keras.callbacks.TensorBoard(str(log_dir)))
    history = model.fit(
        make_dataset(*train, cfg.batch_size, seed),
        validation_data=make_dataset(*val, 256, None),
        epochs=epochs,
        callbacks=callbacks,
        verbose=verbose,
    )
    return history.history


def predict_vectors(classifier, id_lists: list[np.ndarray], vectors: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Probabilities [N, 2] computed exactly as served: vectors looked up and zero-padded by `lookup_batch`."""
    from common.text_zh import lookup_batch

    lengths = np.array([len(x) for x in id_lists])
    order = np.argsort(lengths, kind="stable")
    out = np.zeros((len(id_lists), 2), dtype=np.float32)
    for i in range(0, len(order), batch_size):
        idx = order[i : i + batch_size]
        x = lookup_batch([id_lists[j] for j in idx], vectors)
        out[idx] = np.asarray(classifier(x, training=False))
    return out
