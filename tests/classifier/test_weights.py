"""Pretrained-weight import: synthetic files with the real key names and layouts prove the mapping."""

from __future__ import annotations

from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from training.classifier import weights as w
from training.classifier.inception_v3 import build_inception_v3
from training.classifier.vgg16 import BLOCKS, VGG_MEAN_RGB, build_vgg16, scaled

WIDTH = 1 / 16


def vgg_shapes(width: float, classes: int) -> dict[str, tuple[tuple, tuple]]:
    """npz key stem -> (W shape, b shape) of the book's file at this width."""
    out, cin = {}, 3
    for b, n, ch in BLOCKS:
        for i in range(1, n + 1):
            c = scaled(ch, width)
            out[f"conv{b}_{i}"] = ((3, 3, cin, c), (c,))
            cin = c
    fc = scaled(4096, width)
    out["fc6"] = ((7 * 7 * cin, fc), (fc,))
    out["fc7"] = ((fc, fc), (fc,))
    out["fc8"] = ((fc, classes), (classes,))
    return out


def synthetic_npz(path: Path, width: float, classes: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {}
    for stem, (ws, bs) in vgg_shapes(width, classes).items():
        arrays[f"{stem}_W"] = (rng.standard_normal(ws) * 0.05).astype(np.float32)
        arrays[f"{stem}_b"] = rng.standard_normal(bs).astype(np.float32) * 0.01
    # a known kernel: conv1_1 output channel 0 = R pixel (centre tap) + 5
    arrays["conv1_1_W"][:] = 0
    arrays["conv1_1_W"][1, 1, 0, 0] = 1.0
    arrays["conv1_1_b"][:] = 0
    arrays["conv1_1_b"][0] = 5.0
    np.savez(path, **arrays)
    return arrays


def first_activation(model, value: tuple[float, float, float]) -> np.ndarray:
    probe = keras.Model(model.input, model.get_layer("block1_conv1").output)
    x = np.broadcast_to(np.asarray(value, np.float32), (1, 224, 224, 3)).copy()
    return np.asarray(probe(x))


def test_vgg16_npz_known_kernel_and_layer_order(tmp_path: Path) -> None:
    arrays = synthetic_npz(tmp_path / "vgg16_weights.npz", WIDTH, 10)
    model = build_vgg16(10, width=WIDTH)
    used = w.load_vgg16_npz(model, tmp_path / "vgg16_weights.npz")
    assert used == sorted(arrays)  # the book's order: sorted keys = layer order
    act = first_activation(model, (200.0, 50.0, 10.0))
    # mean subtraction happens inside the graph: relu(200 - 123.68 + 5)
    np.testing.assert_allclose(act[0, 100, 100, 0], 200.0 - VGG_MEAN_RGB[0] + 5.0, rtol=1e-6)
    assert np.all(act[0, 100, 100, 1:] == 0)
    for key, layer in w.VGG_NPZ_LAYERS:
        kernel, bias = (np.asarray(v) for v in model.get_layer(layer).weights)
        np.testing.assert_array_equal(kernel, arrays[f"{key}_W"])
        np.testing.assert_array_equal(bias, arrays[f"{key}_b"])


def test_vgg16_npz_skip_head_and_errors(tmp_path: Path) -> None:
    synthetic_npz(tmp_path / "v.npz", WIDTH, 1000)
    model = build_vgg16(3, width=WIDTH)  # transfer learning: 3 classes, ImageNet head not used
    before = np.asarray(model.get_layer("predictions").weights[0]).copy()
    w.load_vgg16_npz(model, tmp_path / "v.npz", skip_head=True)
    np.testing.assert_array_equal(np.asarray(model.get_layer("predictions").weights[0]), before)
    with pytest.raises(w.WeightsError, match=r"conv1_1.*\(3, 3, 3, 4\).*block1_conv1"):
        w.load_vgg16_npz(build_vgg16(10, width=1 / 8), tmp_path / "v.npz")
    np.savez(tmp_path / "bad.npz", conv1_1_W=np.zeros((3, 3, 3, 4)))
    with pytest.raises(w.WeightsError, match="missing keys"):
        w.load_vgg16_npz(model, tmp_path / "bad.npz")


def write_keras2_vgg_h5(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """The layout of keras.applications' vgg16_weights_tf_dim_ordering_tf_kernels.h5 (Keras 2 HDF5)."""
    names = ["input_1"] + [f"block{b}_{k}" for b, n, _ in BLOCKS for k in [f"conv{i}" for i in range(1, n + 1)] + ["pool"]]
    names += ["flatten", "fc1", "fc2", "predictions"]
    npz_of = {layer: key for key, layer in w.VGG_NPZ_LAYERS}
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [n.encode() for n in names]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for n in names:
            g = f.create_group(n)
            if n in npz_of:
                wn = [f"{n}/kernel:0".encode(), f"{n}/bias:0".encode()]
                g.attrs["weight_names"] = wn
                g.create_dataset(wn[0].decode(), data=arrays[f"{npz_of[n]}_W"])
                g.create_dataset(wn[1].decode(), data=arrays[f"{npz_of[n]}_b"])
            else:
                g.attrs["weight_names"] = []


def test_vgg16_keras_h5_known_kernel(tmp_path: Path) -> None:
    arrays = synthetic_npz(tmp_path / "v.npz", WIDTH, 10)
    write_keras2_vgg_h5(tmp_path / "vgg16_weights_tf_dim_ordering_tf_kernels.h5", arrays)
    model = build_vgg16(10, width=WIDTH)
    assert w.load_keras_h5(model, tmp_path / "vgg16_weights_tf_dim_ordering_tf_kernels.h5") == 16
    act = first_activation(model, (150.0, 0.0, 0.0))
    np.testing.assert_allclose(act[0, 5, 5, 0], 150.0 - VGG_MEAN_RGB[0] + 5.0, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(model.get_layer("fc2").weights[0]), arrays["fc7_W"])
    with pytest.raises(w.WeightsError, match="layers with weights"):
        w.load_keras_h5(build_inception_v3(10, width=1 / 8, input_size=75), tmp_path / "vgg16_weights_tf_dim_ordering_tf_kernels.h5")


def test_inception_v3_keras_file_matches_keras_model(tmp_path: Path) -> None:
    """A weights file written by Keras's own legacy writer from keras.applications.InceptionV3 (random weights,
    real names and shapes) loads into our builder and gives Keras's probabilities on the same image."""
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(1)
    ref = keras.applications.InceptionV3(weights=None, input_shape=(75, 75, 3), classes=1000)
    for layer in ref.layers:  # non-trivial BN statistics so a swapped beta/mean/variance would show
        if isinstance(layer, keras.layers.BatchNormalization):
            beta, mean, var = (np.asarray(v) for v in layer.weights)
            rng = np.random.default_rng(len(layer.name))
            layer.set_weights([rng.normal(0, 0.1, beta.shape), rng.normal(0, 0.1, mean.shape), rng.uniform(0.5, 2, var.shape)])
    path = tmp_path / "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, ref)
    ours = build_inception_v3(1000, input_size=75)
    assert ours.count_params() == ref.count_params()
    assert w.load_keras_h5(ours, path) == 189
    x = np.random.default_rng(2).uniform(0, 255, (2, 75, 75, 3)).astype(np.float32)
    expected = np.asarray(ref(x / 127.5 - 1.0, training=False))  # Keras's preprocess_input, outside its graph
    got = np.asarray(ours(x, training=False)["probabilities"])  # ours scales inside the graph
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    assert np.argmax(got, 1).tolist() == np.argmax(expected, 1).tolist()


def test_dispatch_rejects_missing_and_wrong_files(tmp_path: Path) -> None:
    model = build_vgg16(10, width=WIDTH)
    with pytest.raises(w.WeightsError, match="not found"):
        w.load_weights(model, tmp_path / "nope.npz")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(w.WeightsError, match="not an HDF5"):
        w.load_weights(model, tmp_path / "junk.h5")
