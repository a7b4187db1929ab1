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

For training, `with_lookup` puts a frozen embedding table (row 0 = zeros = padding, row i+1 = vector of
vocabulary id i) in front of the classifier, so batches are small int arrays; the exported graph is the
classifier alone and sees exactly the vectors the gateway sends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ARCHS = ("lstm", "mlp", "cnn")


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


def _nonzero_mask(x):
    """[B, T] bool: True where the row is a real token (any non-zero component)."""
    from keras import ops

    return ops.any(ops.not_equal(x, 0.0), axis=-1)


def build_classifier(dim: int, cfg: ClassifierConfig):
    """The servable graph: x float32 [B, T, dim] -> probabilities [B, 2]."""
    import keras
    from keras import layers, ops

    if cfg.arch not in ARCHS:
        raise ValueError(f"unknown arch {cfg.arch!r}; choose one of {', '.join(ARCHS)}")
    seed = cfg.seed
    x = keras.Input(shape=(None, dim), dtype="float32", name="x")
    if cfg.arch == "lstm":
        h = layers.Masking(mask_value=0.0, name="padding_mask")(x)
        h = layers.LSTM(cfg.units, recurrent_dropout=cfg.recurrent_dropout, seed=seed, name="lstm")(h)
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


def with_lookup(classifier, vectors: np.ndarray):
    """ids int32 [B, T] (0 = padding, i+1 = vocabulary id i) -> classifier(vectors); the table is frozen."""
    import keras
    from keras import layers

    table = np.concatenate([np.zeros((1, vectors.shape[1]), np.float32), vectors], axis=0)
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")
    emb = layers.Embedding(table.shape[0], table.shape[1], trainable=False, name="word_vectors")
    out = classifier(emb(ids))
    model = keras.Model(ids, out, name="antispam_train")
    emb.set_weights([table])
    return model


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
    """Fit with early stopping on validation loss (best weights restored); returns (classifier, history)."""
    import keras

    keras.utils.set_random_seed(cfg.seed)
    classifier = build_classifier(vectors.shape[1], cfg)
    model = with_lookup(classifier, vectors)
    model.compile(
        optimizer=keras.optimizers.Adam(cfg.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    callbacks = [keras.callbacks.EarlyStopping("val_loss", patience=cfg.patience, restore_best_weights=True)]
    if log_dir:
        callbacks.append(keras.callbacks.TensorBoard(str(log_dir)))
    history = model.fit(
        make_dataset(*train, cfg.batch_size, cfg.seed),
        validation_data=make_dataset(*val, 256, None),
        epochs=cfg.max_epochs,
        callbacks=callbacks,
        verbose=verbose,
    )
    return classifier, history.history


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
