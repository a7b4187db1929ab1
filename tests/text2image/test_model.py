"""Network details that decide whether the caption can steer the image (training.text2image.model)."""

from __future__ import annotations

import numpy as np
import pytest

from training.text2image.presets import PRESETS


_LABELS = (np.array([0, 1, 2, 3], np.int32), np.array([0, 1, 2, 3], np.int32), np.array([0, -1, 2, -1], np.int32))  # petal, image centre, caption centre


def _cfg(**kw):
    from training.text2image.model import ModelConfig

    return ModelConfig(vocab_size=20, embed_dim=8, text_dim=16, code_dim=8, z_dim=4, gf_dim=4, df_dim=4, **kw)


def test_text_vectors_have_unit_size_components_whatever_the_lstm_scale():
    """The cosine loss leaves the LSTM's scale free; the generator must still see the caption next to z."""
    from training.text2image.model import build_text_encoder

    enc = build_text_encoder(_cfg())
    ids = np.array([[3, 4, 5, 2, 0, 0], [6, 2, 0, 0, 0, 0]], np.int64)
    vec = np.asarray(enc(ids, training=False))
    np.testing.assert_allclose(np.linalg.norm(vec, axis=1), np.sqrt(16), rtol=1e-4)


@pytest.mark.parametrize("every_scale", [True, False])
def test_generator_makes_64x64_images_with_or_without_text_at_every_scale(every_scale):
    from training.text2image.model import build_generator

    gen = build_generator(_cfg(text_every_scale=every_scale))
    out = np.asarray(gen([np.ones((2, 16), np.float32), np.zeros((2, 4), np.float32)], training=False))
    assert out.shape == (2, 64, 64, 3) and np.all(np.abs(out) <= 1)
    assert any(layer.name.startswith("text_at") for layer in gen.layers) is every_scale


def test_an_unknown_text_pool_is_refused():
    from training.text2image.model import build_text_encoder

    with pytest.raises(ValueError, match="text_pool must be 'last', 'mean' or 'phrase'"):
        build_text_encoder(_cfg(text_pool="max"))


def test_slot_generator_mixes_its_text_codes_per_position():
    """text_slots=K: K codes from the text, a per-position gate (softmax over K) picks the mix."""
    from training.text2image.model import SlotMix, build_generator

    gen = build_generator(_cfg(text_slots=2))
    out = np.asarray(gen([np.ones((2, 16), np.float32), np.zeros((2, 4), np.float32)], training=False))
    assert out.shape == (2, 64, 64, 3) and np.all(np.abs(out) <= 1)
    names = [layer.name for layer in gen.layers]
    assert {"slot0", "slot1", "gate0", "gate2", "slotmix0", "slotmix2"} <= set(names) and "text_tile0" not in names
    slots = np.array([[[1.0, 2.0], [10.0, 20.0]]], np.float32)  # B=1, K=2, C=2
    gate = np.zeros((1, 2, 2, 2), np.float32)
    gate[0, 0, 0, 0] = gate[0, 0, 1, 1] = 1.0  # one-hot: position (0,0) reads slot 0, (0,1) slot 1
    gate[0, 1, :, :] = 0.5  # row 1: the average
    mixed = np.asarray(SlotMix()([gate, slots]))
    np.testing.assert_allclose(mixed[0, 0, 0], [1, 2])
    np.testing.assert_allclose(mixed[0, 0, 1], [10, 20])
    np.testing.assert_allclose(mixed[0, 1, 0], [5.5, 11])


def test_slot_generator_trains_exports_and_serves(tmp_path):
    """One GAN step (the averaged copy is a clone: the custom layer must clone), then the SavedModel."""
    import tensorflow as tf

    from training.text2image.loop import Trainer
    from training.text2image.serving import Text2ImageModule, write_savedmodel

    cfg = _cfg(text_slots=2, text_pool="mean")
    trainer = Trainer(cfg, 2e-4, 0.5, ema_decay=0.999)
    rng = np.random.default_rng(0)
    ids = rng.integers(3, 20, (4, 6)).astype(np.int64)
    trainer.gan_step(tf.constant(rng.uniform(-1, 1, (4, 64, 64, 3)).astype(np.float32)), tf.constant(ids), tf.constant(ids[::-1].copy()), tf.constant(rng.standard_normal((4, 4)).astype(np.float32)), *_LABELS)
    write_savedmodel(Text2ImageModule(trainer.text_encoder, trainer.export_generator, 4), tmp_path / "1")
    served = tf.saved_model.load(str(tmp_path / "1"))
    z = rng.standard_normal((2, 4)).astype(np.float32)
    images = served.signatures["serving_default"](caption_ids=tf.constant(ids[:2]), z=tf.constant(z))["images"].numpy()
    direct = np.asarray(trainer.export_generator([trainer.text_encoder(ids[:2], training=False), tf.constant(z)], training=False))
    np.testing.assert_allclose(images, direct, atol=1e-5)


def test_projection_term_makes_the_logit_depend_on_the_text_through_the_pooled_features():
    from training.text2image.model import build_discriminator

    with_proj, without = build_discriminator(_cfg(text_projection=True)), build_discriminator(_cfg(text_projection=False))
    assert "text_projection" in [layer.name for layer in with_proj.layers]
    assert "text_projection" not in [layer.name for layer in without.layers]
    img = np.zeros((2, 64, 64, 3), np.float32)
    assert np.asarray(with_proj([img, np.ones((2, 16), np.float32)], training=False)).shape == (2, 1)


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("0", False), ("off", False), ("true", True), ("1", True)])
def test_boolean_preset_options_are_spelled_out(value, expected):
    assert PRESETS["tiny"].with_options(text_projection=value).text_projection is expected


def test_a_boolean_option_that_is_not_one_is_refused():
    with pytest.raises(ValueError, match="text_projection must be true or false"):
        PRESETS["tiny"].with_options(text_projection="maybe")


@pytest.mark.parametrize("pool", ["last", "mean", "phrase"])
def test_text_vector_ignores_padding(pool):
    """Captions of different lengths share a padded batch; the padding must not move a caption's vector."""
    from training.text2image.model import build_text_encoder

    enc = build_text_encoder(_cfg(text_pool=pool))
    alone = np.asarray(enc(np.array([[3, 4, 5, 2]], np.int64), training=False))
    padded = np.asarray(enc(np.array([[3, 4, 5, 2, 0, 0, 0]], np.int64), training=False))
    np.testing.assert_allclose(alone, padded, atol=1e-5)


def test_phrase_pool_averages_local_features_and_round_trips(tmp_path):
    """text_pool="phrase": no LSTM; the pooled vector is the mean over the valid words of a width-3
    convolution, so the same words in a different order give a different vector only through the windows."""
    import keras

    from training.text2image.model import PhraseMean, build_text_encoder

    enc = build_text_encoder(_cfg(text_pool="phrase"))
    assert not any(isinstance(layer, keras.layers.LSTM) for layer in enc.layers)
    ids = np.array([[5, 6, 3, 9, 10], [9, 10, 0, 0, 0]], np.int64)
    out = np.asarray(enc(ids, training=False))
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 4.0, rtol=1e-5)  # sqrt(text_dim)
    pool = enc.get_layer("phrase")
    emb = np.asarray(enc.get_layer("embedding")(ids[:1]))
    by_hand = np.asarray(pool.conv(emb)).mean(axis=1)  # no padding in row 0: the plain mean
    np.testing.assert_allclose(np.asarray(pool(emb)), by_hand, atol=1e-5)
    enc.save(tmp_path / "enc.keras")
    back = keras.saving.load_model(tmp_path / "enc.keras")
    assert isinstance(back.get_layer("phrase"), PhraseMean)
    np.testing.assert_allclose(np.asarray(back(ids, training=False)), out, atol=1e-6)


def test_without_the_code_at_input_the_text_reaches_the_generator_only_through_the_slots():
    """code_at_input=False: the 4x4 projection reads z alone (its kernel has z_dim rows), the caption still
    changes the image (through the slots), and a generator without slots refuses the option."""
    from training.text2image.model import build_generator

    gen = build_generator(_cfg(text_slots=2, code_at_input=False))
    assert gen.get_layer("project").get_weights()[0].shape[0] == 4  # z_dim
    assert build_generator(_cfg(text_slots=2)).get_layer("project").get_weights()[0].shape[0] == 4 + 8  # z + code
    rng = np.random.default_rng(3)
    z = rng.standard_normal((2, 4)).astype(np.float32)
    a = np.asarray(gen([rng.standard_normal((2, 16)).astype(np.float32), z], training=False))
    b = np.asarray(gen([rng.standard_normal((2, 16)).astype(np.float32), z], training=False))
    assert np.abs(a - b).max() > 1e-4
    with pytest.raises(ValueError, match="needs text_slots"):
        build_generator(_cfg(code_at_input=False))


def test_exported_generator_is_the_running_average_of_the_trained_one():
    """One GAN step: the average moves from the initial weights by the ramped decay (0.1 + ... at step 1)."""
    import tensorflow as tf

    from training.text2image.loop import Trainer

    trainer = Trainer(_cfg(), 2e-4, 0.5, ema_decay=0.999)
    before = [w.copy() for w in trainer.generator.get_weights()]
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (4, 64, 64, 3)).astype(np.float32)
    ids = rng.integers(3, 20, (4, 6)).astype(np.int64)
    trainer.gan_step(tf.constant(images), tf.constant(ids), tf.constant(ids[::-1].copy()), tf.constant(rng.standard_normal((4, 4)).astype(np.float32)), *_LABELS)
    assert trainer.export_generator is trainer.generator_ema
    decay = min(0.999, 2 / 11)  # optimizer step 1: (1 + 1) / (10 + 1)
    trained, averaged = trainer.generator.get_weights(), trainer.generator_ema.get_weights()
    moved = [i for i, (b, t) in enumerate(zip(before, trained)) if not np.allclose(b, t)]
    assert moved, "the generator step changed no weight"
    for i in moved:
        np.testing.assert_allclose(averaged[i], decay * before[i] + (1 - decay) * trained[i], rtol=1e-4, atol=1e-6)


def test_without_averaging_the_trained_generator_is_exported():
    from training.text2image.loop import Trainer

    trainer = Trainer(_cfg(), 2e-4, 0.5)
    assert trainer.generator_ema is None and trainer.export_generator is trainer.generator


def test_histogram_judge_reads_real_renders_of_unseen_pairs_and_not_a_grey_square():
    from training.text2image import flowers
    from training.text2image.evaluate import HistogramJudge

    train = flowers.generate(280, 5, held_out=None)
    test = flowers.generate(70, 6, held_out=True)
    judge = HistogramJudge(train.images, train.petal_idx)
    assert judge.petal_accuracy(test.images, test.petal_idx) >= 0.9
    grey = np.full((7, 64, 64, 3), 128, np.uint8)  # no petal colour anywhere: at most one guess can be right
    assert judge.petal_accuracy(grey, np.arange(7)) <= 1 / 7 + 1e-9


def test_gan_step_with_mode_seeking_and_colour_heads_trains_both_nets():
    """The tiny preset's step: D with colour heads, fakes in caption pairs for the mode-seeking term."""
    import tensorflow as tf

    from training.text2image.loop import Trainer

    trainer = Trainer(_cfg(colour_heads=(7, 4)), 2e-4, 0.5, match_weight=1.0, mode_seeking_weight=1.0, colour_weight=1.0)
    d_before = [w.copy() for w in trainer.discriminator.get_weights()]
    g_before = [w.copy() for w in trainer.generator.get_weights()]
    rng = np.random.default_rng(1)
    images = rng.uniform(-1, 1, (4, 64, 64, 3)).astype(np.float32)
    ids = rng.integers(3, 20, (4, 6)).astype(np.int64)
    d, g, match, seeking, colour = (float(x) for x in trainer.gan_step(
        tf.constant(images), tf.constant(ids), tf.constant(ids[::-1].copy()), tf.constant(rng.standard_normal((4, 4)).astype(np.float32)), *_LABELS))
    assert all(np.isfinite([d, g, match])) and seeking > 0 and colour > 0
    assert any(not np.allclose(a, b) for a, b in zip(d_before, trainer.discriminator.get_weights()))
    assert any(not np.allclose(a, b) for a, b in zip(g_before, trainer.generator.get_weights()))
    assert len(trainer.discriminator.outputs) == 3  # logit + petal head + centre head


def test_colour_heads_need_a_colour_weight_and_vice_versa():
    from training.text2image.loop import Trainer

    with pytest.raises(ValueError, match="colour heads"):
        Trainer(_cfg(), 2e-4, 0.5, colour_weight=1.0)


@pytest.mark.slow  # two traces of the GAN step, one of them by XLA: about 35 s
def test_xla_gan_step_trains_like_the_plain_one():
    """jit_compile changes how the step runs, not what it computes: the same first step, the same losses."""
    import keras
    import tensorflow as tf

    from training.text2image.loop import Trainer

    rng = np.random.default_rng(1)
    images = tf.constant(rng.uniform(-1, 1, (4, 64, 64, 3)).astype(np.float32))
    ids = rng.integers(3, 20, (4, 6)).astype(np.int64)
    z = tf.constant(rng.standard_normal((4, 4)).astype(np.float32))
    losses = []
    for jit in (False, True):
        keras.utils.set_random_seed(3)
        trainer = Trainer(_cfg(colour_heads=(7, 4)), 2e-4, 0.5, match_weight=1.0, mode_seeking_weight=1.0, colour_weight=1.0, jit_compile=jit)
        losses.append([float(x) for x in trainer.gan_step(images, tf.constant(ids), tf.constant(ids[::-1].copy()), z, *_LABELS)])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-3, atol=1e-5)


def test_new_options_are_off_in_the_presets_and_settable():
    """hard_negatives is off in every preset; book keeps the text code at G's input and the plain step (tiny
    turns both: code_at_input=False, jit_compile=True); all three are settable with `--set`."""
    assert all(p.hard_negatives == 0.0 for p in PRESETS.values())
    assert (PRESETS["book"].code_at_input, PRESETS["book"].jit_compile) == (True, False)
    p = PRESETS["book"].with_options(hard_negatives="0.5", code_at_input="false", jit_compile="true", text_pool="phrase", text_slots="2")
    assert (p.hard_negatives, p.code_at_input, p.jit_compile, p.text_pool, p.text_slots) == (0.5, False, True, "phrase", 2)


def test_an_unknown_option_is_refused():
    """`--set` with a name that is not a preset field (a typo, or an option since removed: docs/text2image.md,
    "Removed options") fails and lists the known ones, rather than being silently ignored."""
    with pytest.raises(KeyError, match="unknown text2image option 'gan_stpes'; known: .*gan_steps"):
        PRESETS["tiny"].with_options(gan_stpes="3")
