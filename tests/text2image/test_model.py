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

    with pytest.raises(ValueError, match="text_pool must be 'last', 'mean', 'attn', 'phrase' or 'phrase_attn'"):
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


@pytest.mark.parametrize("pool", ["last", "mean", "attn", "phrase", "phrase_attn"])
def test_text_vector_ignores_padding(pool):
    """Captions of different lengths share a padded batch; the padding must not move a caption's vector."""
    from training.text2image.model import build_text_encoder

    enc = build_text_encoder(_cfg(text_pool=pool))
    alone = np.asarray(enc(np.array([[3, 4, 5, 2]], np.int64), training=False))
    padded = np.asarray(enc(np.array([[3, 4, 5, 2, 0, 0, 0]], np.int64), training=False))
    np.testing.assert_allclose(alone, padded, atol=1e-5)


@pytest.mark.parametrize("slots", [0, 4])
def test_attention_pool_gives_the_text_vector_shape_and_round_trips(slots, tmp_path):
    """K = text_slots (2 if 0) heads of text_dim / K each, concatenated: the servables' [B, text_dim] vector."""
    import keras

    from training.text2image.model import AttnPool, build_text_encoder

    enc = build_text_encoder(_cfg(text_pool="attn", text_slots=slots))
    assert enc.get_layer("attn").heads == (slots or 2)
    ids = np.array([[3, 4, 5, 2, 0], [6, 7, 0, 0, 0]], np.int64)
    out = np.asarray(enc(ids, training=False))
    assert out.shape == (2, 16)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 4.0, rtol=1e-5)  # sqrt(text_dim)
    enc.save(tmp_path / "enc.keras")
    back = keras.saving.load_model(tmp_path / "enc.keras")
    assert isinstance(back.get_layer("attn"), AttnPool)
    np.testing.assert_allclose(np.asarray(back(ids, training=False)), out, atol=1e-6)


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


def test_slots_per_head_read_only_their_part_of_the_text_vector(tmp_path):
    """slot_per_head: changing the second half of the text vector leaves slot 0's code unchanged and moves
    slot 1's; the generator (with its Part layers) survives clone_model (the EMA copy) and saving."""
    import keras

    from training.text2image.model import Part, build_generator, build_text_encoder

    cfg = _cfg(text_pool="phrase_attn", text_slots=2, slot_per_head=True)
    assert not any(isinstance(layer, keras.layers.LSTM) for layer in build_text_encoder(cfg).layers)
    gen = build_generator(cfg)
    codes = keras.Model(gen.inputs[0], gen.get_layer("slots").output)
    rng = np.random.default_rng(0)
    t = rng.standard_normal((3, 16)).astype(np.float32)
    t2 = t.copy()
    t2[:, 8:] = rng.standard_normal((3, 8))
    a, b = np.asarray(codes(t)), np.asarray(codes(t2))
    np.testing.assert_allclose(a[:, 0], b[:, 0], atol=1e-6)
    assert np.abs(a[:, 1] - b[:, 1]).max() > 1e-3
    clone = keras.models.clone_model(gen)
    assert isinstance(clone.get_layer("slot1_part"), Part)
    gen.save(tmp_path / "g.keras")
    back = keras.saving.load_model(tmp_path / "g.keras")
    z = np.zeros((3, 4), np.float32)
    np.testing.assert_allclose(np.asarray(back([t, z], training=False)), np.asarray(gen([t, z], training=False)), atol=1e-5)


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


def test_slot_per_head_needs_slots_that_divide_the_text_dim():
    from training.text2image.model import build_generator

    with pytest.raises(ValueError, match="not divisible by text_slots"):
        build_generator(_cfg(text_slots=3, slot_per_head=True))


def test_attention_pool_needs_heads_that_divide_the_text_dim():
    from training.text2image.model import build_text_encoder

    with pytest.raises(ValueError, match="not divisible"):
        build_text_encoder(_cfg(text_pool="attn", text_slots=3))


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
    d, g, match, seeking, colour, slot_colour = (float(x) for x in trainer.gan_step(
        tf.constant(images), tf.constant(ids), tf.constant(ids[::-1].copy()), tf.constant(rng.standard_normal((4, 4)).astype(np.float32)), *_LABELS))
    assert all(np.isfinite([d, g, match])) and seeking > 0 and colour > 0 and slot_colour == 0
    assert any(not np.allclose(a, b) for a, b in zip(d_before, trainer.discriminator.get_weights()))
    assert any(not np.allclose(a, b) for a, b in zip(g_before, trainer.generator.get_weights()))
    assert len(trainer.discriminator.outputs) == 3  # logit + petal head + centre head


def test_colour_heads_need_a_colour_weight_and_vice_versa():
    from training.text2image.loop import Trainer

    with pytest.raises(ValueError, match="colour heads"):
        Trainer(_cfg(), 2e-4, 0.5, colour_weight=1.0)


def test_local_centre_head_reads_only_a_patch_of_the_image():
    """Each position of the local centre head sees a 10x10-pixel patch (D's 16x16 map), so it can read the
    disc without the petals around it; the pooled logits are one per centre colour."""
    import keras
    import tensorflow as tf

    from training.text2image.model import build_discriminator

    d = build_discriminator(_cfg(colour_heads=(7, 4), centre_head="local"))
    per_position = keras.Model(d.inputs, d.get_layer("centre_logits").output)
    rng = np.random.default_rng(0)
    x = tf.constant(rng.uniform(-1, 1, (1, 64, 64, 3)).astype(np.float32))
    text = tf.constant(rng.standard_normal((1, 16)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = tf.reduce_sum(per_position([x, text], training=False)[0, 8, 8])
    seen = np.argwhere(np.abs(tape.gradient(score, x).numpy()[0]).sum(-1) > 0)
    assert per_position.output.shape[1:3] == (16, 16)
    assert (seen.max(0) - seen.min(0) + 1 <= 10).all()
    assert d([x, text], training=False)[2].shape == (1, 4)


def test_unknown_centre_head_is_refused():
    from training.text2image.model import build_discriminator

    with pytest.raises(ValueError, match="centre_head"):
        build_discriminator(_cfg(colour_heads=(7, 4), centre_head="middle"))


def test_minibatch_std_channel_is_zero_for_copies_and_positive_for_a_varied_batch():
    from training.text2image.model import MinibatchStd

    rng = np.random.default_rng(0)
    same = np.repeat(rng.standard_normal((1, 4, 4, 3)).astype(np.float32), 5, axis=0)
    varied = rng.standard_normal((5, 4, 4, 3)).astype(np.float32)
    a, b = np.asarray(MinibatchStd()(same)), np.asarray(MinibatchStd()(varied))
    assert a.shape == (5, 4, 4, 1) and np.allclose(a, 1e-4, atol=1e-4) and b.min() > 0.5


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


def test_text_at_out_feeds_the_caption_into_the_last_layer():
    """With `text_at_out` the 64x64 image depends on the caption through to_rgb directly (slots or tiled code)."""
    from training.text2image.model import build_generator

    for slots in (0, 2):
        gen = build_generator(_cfg(text_at_out=True, text_slots=slots))
        assert gen.get_layer("to_rgb").input.shape[-1] == 4 + 8  # gf_dim features + one code
        z = np.zeros((2, 4), np.float32)
        text = np.random.default_rng(0).standard_normal((2, 16)).astype(np.float32)
        out = np.asarray(gen([text, z], training=False))
        assert out.shape == (2, 64, 64, 3) and not np.allclose(out[0], out[1])


def test_film_starts_as_the_identity_and_is_steered_by_the_text():
    import keras

    from training.text2image.model import build_generator

    gen = build_generator(_cfg(text_film=True))
    film = [layer for layer in gen.layers if layer.name.startswith("film") and layer.name[4:].isdigit()]
    assert len(film) == 3
    inner = keras.Model(gen.inputs, [film[0].input[0], film[0].output])
    text = np.random.default_rng(0).standard_normal((2, 16)).astype(np.float32)
    before, after = (np.asarray(t) for t in inner([text, np.zeros((2, 4), np.float32)], training=False))
    np.testing.assert_allclose(before, after)  # zero-initialised scale and shift
    gamma = gen.get_layer("film0_gamma")
    gamma.set_weights([np.ones_like(w) for w in gamma.get_weights()])
    before, after = (np.asarray(t) for t in inner([text, np.zeros((2, 4), np.float32)], training=False))
    assert not np.allclose(before, after)


def test_r1_penalty_is_the_squared_input_gradient():
    import tensorflow as tf

    from training.text2image.model import r1_penalty

    x = tf.constant(np.random.default_rng(0).standard_normal((3, 2, 2, 1)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        d = 3.0 * tf.reduce_sum(x, axis=[1, 2, 3])  # slope 3 everywhere: |grad|^2 = 9 * 4 pixels
    assert float(r1_penalty(d, x, tape)) == pytest.approx(36.0)


def test_gan_step_with_r1_film_text_at_out_and_minibatch_std_trains():
    import tensorflow as tf

    from training.text2image.loop import Trainer

    cfg = _cfg(colour_heads=(7, 4), text_slots=2, text_at_out=True, text_film=True, minibatch_std=True)
    trainer = Trainer(cfg, 2e-4, 0.5, match_weight=1.0, mode_seeking_weight=1.0, colour_weight=1.0, r1_weight=1.0)
    d_before = [w.copy() for w in trainer.discriminator.get_weights()]
    rng = np.random.default_rng(1)
    images = rng.uniform(-1, 1, (4, 64, 64, 3)).astype(np.float32)
    ids = rng.integers(3, 20, (4, 6)).astype(np.int64)
    losses = [float(x) for x in trainer.gan_step(
        tf.constant(images), tf.constant(ids), tf.constant(ids[::-1].copy()), tf.constant(rng.standard_normal((4, 4)).astype(np.float32)), *_LABELS)]
    assert all(np.isfinite(losses))
    assert any(not np.allclose(a, b) for a, b in zip(d_before, trainer.discriminator.get_weights()))


def test_new_options_are_off_in_the_presets_and_settable():
    for p in PRESETS.values():
        assert (p.minibatch_std, p.text_at_out, p.text_film, p.r1_weight, p.slot_colour_weight) == (False, False, False, 0.0, 0.0)
    p = PRESETS["book"].with_options(
        minibatch_std="true", text_at_out="true", text_film="true", r1_weight="0.5", slot_colour_weight="1", hard_negatives="0.5",
        slot_per_head="true", head_colour_weight="2", text_pool="phrase_attn",
    )
    assert (p.minibatch_std, p.text_at_out, p.text_film, p.r1_weight, p.slot_colour_weight, p.hard_negatives) == (True, True, True, 0.5, 1.0, 0.5)
    assert (p.slot_per_head, p.head_colour_weight, p.text_pool) == (True, 2.0, "phrase_attn")


def test_part_colour_heads_teach_the_text_vector_parts_in_pre_training():
    """head_colour_weight: in the encoder step, a linear head on part 0 of the text vector learns the petal
    colour and one on part 1 the centre colour the caption names (-1 ignored); the loss is the hinge plus
    their weighted cross-entropy, the encoder and heads move, and the heads are not exported."""
    import tensorflow as tf

    from training.text2image.loop import Trainer
    from training.text2image.model import colour_loss, cosine_hinge_loss

    cfg = _cfg(text_pool="phrase_attn", text_slots=2, slot_per_head=True)
    trainer = Trainer(cfg, 2e-4, 0.5, head_colour_weight=2.0)
    assert [h.units for h in trainer.part_heads] == [7, 4]
    rng = np.random.default_rng(2)
    images = rng.uniform(-1, 1, (4, 64, 64, 3)).astype(np.float32)
    ids = rng.integers(3, 20, (4, 6)).astype(np.int64)
    wrong = ids[::-1].copy()
    petal, _, centre = _LABELS
    t = trainer.text_encoder(ids, training=True)
    expected = float(
        cosine_hinge_loss(t, trainer.image_encoder(images, training=True), trainer.text_encoder(wrong, training=True), trainer.image_encoder(images[::-1].copy(), training=True))
        + 2.0 * (colour_loss(trainer.part_heads[0](t[:, :8]), petal) + colour_loss(trainer.part_heads[1](t[:, 8:]), centre))
    )
    heads_before = [w.copy() for head in trainer.part_heads for w in head.get_weights()]
    loss = float(trainer.encoder_step(tf.constant(images), tf.constant(ids), tf.constant(wrong), tf.constant(images[::-1].copy()), petal, centre))
    assert loss == pytest.approx(expected, rel=1e-3)
    assert all(not np.allclose(a, b) for a, b in zip(heads_before, [w for head in trainer.part_heads for w in head.get_weights()]))
    assert not any(layer.name.startswith("part_colour_head") for layer in trainer.export_generator.layers)
    with pytest.raises(ValueError, match="text_slots >= 2"):
        Trainer(_cfg(), 2e-4, 0.5, head_colour_weight=1.0)


def test_slot_colour_heads_teach_slot0_the_petal_and_slot1_the_centre():
    """slot_colour_weight: linear heads on the two text slot codes (slot 0 -> petal, slot 1 -> centre, -1 ignored)
    add a term to G's loss that trains the slot read-outs and the heads, and nothing of them is exported."""
    import tensorflow as tf

    from training.text2image.loop import Trainer
    from training.text2image.model import colour_loss

    cfg = _cfg(colour_heads=(7, 4), text_slots=2)
    trainer = Trainer(cfg, 2e-4, 0.5, match_weight=1.0, mode_seeking_weight=1.0, colour_weight=1.0, slot_colour_weight=1.0)
    assert [h.units for h in trainer.slot_heads] == [7, 4]
    assert not any(layer.name.startswith("slot_colour_head") for layer in trainer.export_generator.layers)
    rng = np.random.default_rng(1)
    images = rng.uniform(-1, 1, (4, 64, 64, 3)).astype(np.float32)
    ids = rng.integers(3, 20, (4, 6)).astype(np.int64)
    t = trainer.text_encoder(ids, training=False)
    codes = np.asarray(trainer.slot_codes(t))
    assert codes.shape == (4, 2, 8)
    # the loss as documented: petal from slot 0, centre from slot 1 (mode seeking pairs the first half's captions)
    h = 2
    petal, centre = (np.concatenate([x[:h], x[:h]]) for x in (_LABELS[0], _LABELS[2]))
    t_pair = tf.concat([t[:h], t[:h]], 0)
    c = trainer.slot_codes(t_pair)
    expected = float(colour_loss(trainer.slot_heads[0](c[:, 0]), petal) + colour_loss(trainer.slot_heads[1](c[:, 1]), centre))
    slot0_before = trainer.generator.get_layer("slot0").get_weights()[0].copy()
    heads_before = [w.copy() for head in trainer.slot_heads for w in head.get_weights()]
    losses = [float(x) for x in trainer.gan_step(
        tf.constant(images), tf.constant(ids), tf.constant(ids[::-1].copy()), tf.constant(rng.standard_normal((4, 4)).astype(np.float32)), *_LABELS)]
    assert all(np.isfinite(losses)) and losses[-1] == pytest.approx(expected, rel=1e-4)
    assert not np.allclose(slot0_before, trainer.generator.get_layer("slot0").get_weights()[0])
    assert all(not np.allclose(a, b) for a, b in zip(heads_before, [w for head in trainer.slot_heads for w in head.get_weights()]))


def test_slot_colour_weight_needs_two_slots_and_is_off_in_the_presets():
    from training.text2image.loop import Trainer

    with pytest.raises(ValueError, match="2 text slots"):
        Trainer(_cfg(), 2e-4, 0.5, slot_colour_weight=1.0)
    assert all(p.slot_colour_weight == 0.0 for p in PRESETS.values())
    assert PRESETS["tiny"].with_options(slot_colour_weight="0.5").slot_colour_weight == 0.5
