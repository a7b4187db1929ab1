"""The generator's optional text-image matching term (training.text2image.model.matching_loss)."""

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
