"""Pretrained weights from a path the user gives (never downloaded).

- `load_vgg16_npz`: the book's `vgg16_weights.npz` (keys conv1_1_W, conv1_1_b, ... conv5_3_b, fc6_W ... fc8_b).
  The book assigns `sorted(npz.items())` to the network's parameters in layer order; sorted key order *is*
  layer order (conv1_1 < ... < conv5_3 < fc6 < fc7 < fc8, and `_W` < `_b`), and we assign the same way,
  naming each key's target layer so a missing or mis-shaped key is reported by name.
- `load_keras_h5`: a Keras weights file. The Keras 2 / `keras.applications` format (HDF5 with a
  `layer_names` attribute, e.g. `vgg16_weights_tf_dim_ordering_tf_kernels.h5`,
  `inception_v3_weights_tf_dim_ordering_tf_kernels.h5`) is read with h5py and assigned weight-layer by
  weight-layer in file order, exactly as Keras's own loader does, with shape checks. A Keras 3
  `.weights.h5` file saved from one of our models goes through `model.load_weights`.

`skip_head=True` leaves the last layer ("predictions") alone: transfer learning replaces the head.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

VGG_NPZ_LAYERS: tuple[tuple[str, str], ...] = tuple(
    (f"conv{b}_{i}", f"block{b}_conv{i}") for b, n in ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3)) for i in range(1, n + 1)
) + (("fc6", "fc1"), ("fc7", "fc2"), ("fc8", "predictions"))


class WeightsError(ValueError):
    """The weights file does not fit the model: names the key/layer and both shapes."""


def _assign(layer, arrays: list[np.ndarray], source: str) -> None:
    targets = layer.weights
    if len(targets) != len(arrays):
        raise WeightsError(f"{source}: {len(arrays)} arrays for layer {layer.name!r}, which has {len(targets)} weights")
    for var, arr in zip(targets, arrays):
        if tuple(var.shape) != tuple(arr.shape):
            raise WeightsError(f"{source}: shape {tuple(arr.shape)} does not fit {layer.name}/{var.name} {tuple(var.shape)}")
        var.assign(np.asarray(arr, dtype=var.dtype))


def load_vgg16_npz(model, path: str | Path, *, skip_head: bool = False) -> list[str]:
    """Assign the book's npz to a `build_vgg16` model; returns the npz keys used, in assignment order."""
    path = Path(path)
    with np.load(path) as npz:
        keys = sorted(npz.files)
        expected = sorted(f"{k}_{s}" for k, _ in VGG_NPZ_LAYERS for s in ("W", "b"))
        missing = sorted(set(expected) - set(keys))
        if missing:
            raise WeightsError(f"{path}: not a VGG16 npz, missing keys {missing[:6]}{'...' if len(missing) > 6 else ''}")
        used = []
        for key, layer_name in VGG_NPZ_LAYERS:
            if skip_head and layer_name == "predictions":
                continue
            _assign(model.get_layer(layer_name), [npz[f"{key}_W"], npz[f"{key}_b"]], f"{path.name}[{key}]")
            used += [f"{key}_W", f"{key}_b"]
    return used


def _legacy_layers(f) -> list[tuple[str, list[np.ndarray]]]:
    """(layer name, weight arrays) for every layer with weights, in the file's order (Keras 2 HDF5 format)."""
    group = f["model_weights"] if "model_weights" in f else f
    names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["layer_names"]]
    out = []
    for name in names:
        g = group[name]
        wnames = [w.decode() if isinstance(w, bytes) else w for w in g.attrs.get("weight_names", [])]
        if wnames:
            out.append((name, [np.asarray(g[w]) for w in wnames]))
    return out


def load_keras_h5(model, path: str | Path, *, skip_head: bool = False) -> int:
    """Assign a Keras weights file; returns the number of layers assigned."""
    import h5py

    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise WeightsError(f"{path}: not an HDF5 weights file ({e})") from None
    with f:
        legacy = "layer_names" in f.attrs or ("model_weights" in f and "layer_names" in f["model_weights"].attrs)
        if not legacy:
            if skip_head:
                raise WeightsError(f"{path}: Keras 3 .weights.h5 files load whole models only; give a Keras 2 HDF5 file "
                                   "(keras.applications format) to replace the head")
            model.load_weights(path)
            return sum(1 for layer in model.layers if layer.weights)
        file_layers = _legacy_layers(f)
    model_layers = [layer for layer in model.layers if layer.weights]
    if skip_head:
        file_layers, model_layers = file_layers[:-1], model_layers[:-1]
    if len(file_layers) != len(model_layers):
        raise WeightsError(
            f"{path}: the file has {len(file_layers)} layers with weights, the model {len(model_layers)} "
            f"(is it the right architecture and width? file starts {[n for n, _ in file_layers[:3]]})"
        )
    for (name, arrays), layer in zip(file_layers, model_layers):
        _assign(layer, arrays, f"{path.name}[{name}]")
    return len(model_layers)


def load_weights(model, path: str | Path, *, skip_head: bool = False) -> str:
    """Dispatch on the file type: `.npz` (book VGG16) or HDF5 (Keras). Returns a short description for manifests."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    if path.suffix == ".npz":
        if model.name != "vgg16":
            raise WeightsError(f"{path}: npz weights are the book's VGG16 format; use a Keras .h5 file for {model.name}")
        load_vgg16_npz(model, path, skip_head=skip_head)
        return f"npz:{path.name}"
    load_keras_h5(model, path, skip_head=skip_head)
    return f"keras-h5:{path.name}"
