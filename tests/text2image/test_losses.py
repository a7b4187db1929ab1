"""The generator's optional terms (matching, mode seeking, colour heads) and the Frechet distance of the metrics."""

from __future__ import annotations

import numpy as np


def test_matching_loss_is_zero_only_when_the_image_is_nearer_its_caption_by_the_margin():
    import tensorflow as tf

    from training.text2image.model import matching_loss

    right = tf.constant([[1.0, 0.0, 0.0]])
    wrong = tf.constant([[0.0, 1.0, 0.0]])
    assert float(matching_loss(tf.constant([[2.0, 0.0, 0.0]]), right, wrong)) == 0.0  # cos 1 vs 0: beyond the margin
    # an image halfway between its caption and a wrong one: cos equal, so the loss is the whole margin
    assert np.isclose(float(matching_loss(tf.constant([[1.0, 1.0, 0.0]]), right, wrong)), 0.2)
    # nearer the wrong caption: margin + (cos wrong - cos right)
    assert np.isclose(float(matching_loss(tf.constant([[0.0, 1.0, 0.0]]), right, wrong)), 1.2)


def test_mode_seeking_loss_is_large_when_two_z_give_one_image():
    import tensorflow as tf

    from training.text2image.model import mode_seeking_loss

    z_a, z_b = tf.zeros((2, 4)), tf.ones((2, 4))  # z distance 1
    same = tf.zeros((2, 8, 8, 3))
    apart = tf.fill((2, 8, 8, 3), 0.5)  # image distance 0.5
    assert float(mode_seeking_loss(same, same, z_a, z_b)) > 1e4  # 1 / eps
    assert np.isclose(float(mode_seeking_loss(same, apart, z_a, z_b)), 2.0, rtol=1e-4)


def test_colour_loss_skips_rows_whose_colour_the_caption_does_not_name():
    import tensorflow as tf

    from training.text2image.model import colour_loss

    logits = tf.constant([[10.0, 0.0], [0.0, 10.0], [10.0, 0.0]])
    assert float(colour_loss(logits, tf.constant([0, 1, -1]))) < 1e-3  # the wrong third row is not asked
    assert float(colour_loss(logits, tf.constant([0, 1, 1]))) > 3.0
    assert float(colour_loss(logits, tf.constant([-1, -1, -1]))) == 0.0


def test_frechet_distance_is_zero_for_one_set_and_grows_with_a_shift():
    from training.text2image.evaluate import frechet_distance

    rng = np.random.default_rng(0)
    a = rng.standard_normal((500, 4))
    assert abs(frechet_distance(a, a)) < 1e-6
    near = frechet_distance(a, rng.standard_normal((500, 4)))
    assert near < 0.2
    assert np.isclose(frechet_distance(a, a + 1.0), 4.0, atol=1e-6)  # same covariance: only |shift|^2 = 4
    # b = 2a: |mean|^2 + tr(C + 4C - 2 * 2C) = |mean|^2 + tr C
    assert np.isclose(frechet_distance(a, 2.0 * a), float(np.sum(a.mean(0) ** 2) + np.trace(np.cov(a, rowvar=False))), rtol=1e-6)
