"""Training publishes a servable that honours the contract: aliases read back from the SavedModel, any H, W
(multiples of 16) accepted, stats asset, metrics of the model and of the Otsu baseline in the manifest."""

from __future__ import annotations

import json

import numpy as np
import pytest

from common import manifest as mf
from common import mri
from training.export import read_signature_def
from training.registry import discover
from training.unet.evaluate import dice, iou, scores
from training.unet.train import PRESETS, resolve


def test_registered_family_and_presets():
    fam = discover()["unet"]
    assert fam.models == ("unet",) and "width" in fam.options
    assert PRESETS["book"].width == 64 and PRESETS["book"].crop == 0
    p = resolve("tiny", width="4", val_shape="64,64,12", lr="0.01")
    assert (p.width, p.val_shape, p.lr) == (4, (64, 64, 12), 0.01)
    with pytest.raises(ValueError, match="unknown unet option 'widht'"):
        resolve("tiny", widht="4")


def test_signature_read_back(unet_repo):
    sig = read_signature_def(unet_repo / "unet" / "1")
    assert sig == {"inputs": {"images": ("float32", (-1, -1, -1, 4))}, "outputs": {"probabilities": ("float32", (-1, -1, -1, 1))}}


def test_manifest_and_assets(unet_repo):
    vdir = unet_repo / "unet" / "1"
    man = mf.read_manifest(vdir)
    assert man["family"] == "unet" and man["preset"] == "tiny"
    for side in ("held_out", "otsu_flair_baseline"):
        m = man["metrics"][side]
        for k in ("volume_hard_dice", "volume_soft_dice", "volume_iou", "slice_hard_dice", "slice_soft_dice", "slice_iou"):
            assert 0.0 <= m[k] <= 1.0, (side, k)
    stats = mri.Stats.from_dict(json.loads((mf.assets_dir(vdir) / "normalization.json").read_text()))
    assert stats == mri.Stats.from_dict(man["preprocessing"]["stats"]) and min(stats.std) > 0
    assert (mf.assets_dir(vdir) / mf.WARMUP_NAME).stat().st_size > 0
    assert "unet" in (unet_repo / "models.config").read_text()


def test_savedmodel_runs_any_multiple_of_16(unet_repo):
    import tensorflow as tf

    fn = tf.saved_model.load(str(unet_repo / "unet" / "1")).signatures["serving_default"]
    for shape in ((2, 240, 240, 4), (1, 208, 176, 4)):
        out = fn(images=tf.constant(np.random.default_rng(0).normal(size=shape).astype(np.float32)))["probabilities"].numpy()
        assert out.shape == (*shape[:3], 1) and 0.0 <= out.min() and out.max() <= 1.0


def test_metric_definitions():
    t = np.zeros((2, 4, 4), bool)
    t[0, :2] = True
    assert dice(t, t) == pytest.approx(1.0) and iou(t, t) == pytest.approx(1.0)
    assert dice(np.zeros_like(t), np.zeros_like(t)) == pytest.approx(1.0)  # empty vs empty, as tl.cost.dice_coe
    half = t.copy()
    half[0, 1] = False
    assert dice(half, t) == pytest.approx(2 * 4 / (4 + 8), abs=1e-4) and iou(half, t) == pytest.approx(0.5, abs=1e-4)
    s = scores(t * 0.8, t)
    assert s["volume"]["hard_dice"] == pytest.approx(1.0) and s["volume"]["soft_dice"] == pytest.approx(2 * 0.8 * 8 / (0.8 * 8 + 8), abs=1e-4)
    assert s["slice"]["has_tumour"] == [True, False]
