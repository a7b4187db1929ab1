"""The exported SavedModel: aliases read back from saved_model.pb, shapes and range of a real call."""

from __future__ import annotations

import numpy as np

from common.signatures import CONTRACTS
from tests.text2image.conftest import Z_DIM
from training.export import read_signature_def


def test_signature_read_back(t2i_version) -> None:
    sig = read_signature_def(t2i_version)
    assert sig["inputs"] == {"caption_ids": ("int64", (-1, -1)), "z": ("float32", (-1, Z_DIM))}
    assert sig["outputs"] == {"images": ("float32", (-1, 64, 64, 3))}
    assert set(sig["inputs"]) == set(CONTRACTS["text2image"].inputs)
    interp = read_signature_def(t2i_version, "interpolate")
    assert set(interp["inputs"]) == {"caption_ids", "caption_ids_b", "alpha", "z"}


def test_serving_default_runs(loaded) -> None:
    import tensorflow as tf

    ids = tf.constant([[4, 5, 2, 0, 0], [6, 2, 0, 0, 0]], tf.int64)
    z = tf.constant(np.random.default_rng(0).standard_normal((2, Z_DIM)), tf.float32)
    out = loaded.signatures["serving_default"](caption_ids=ids, z=z)["images"].numpy()
    assert out.shape == (2, 64, 64, 3) and out.dtype == np.float32
    assert out.min() >= -1 and out.max() <= 1
    # padding is masked: extra trailing zeros do not change the picture
    longer = tf.pad(ids, [[0, 0], [0, 4]])
    again = loaded.signatures["serving_default"](caption_ids=longer, z=z)["images"].numpy()
    np.testing.assert_allclose(out, again, atol=1e-5)
