"""The exported SRGAN version: signature read back (any H, W), manifest metrics of both phases, options."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from common import manifest as mf
from common.signatures import CONTRACTS
from training.srgan import data as srdata


def test_signature_read_back_any_size(srgan_version: Path, serve_fn) -> None:
    from training.export import read_signature_def

    sig = read_signature_def(srgan_version)
    assert sig == {"inputs": {"images": ("float32", (-1, -1, -1, 3))}, "outputs": {"images": ("float32", (-1, -1, -1, 3))}}
    assert CONTRACTS["srgan"].inputs["images"].shape == (-1, -1, -1, 3)
    for shape in [(1, 17, 23, 3), (2, 32, 8, 3)]:
        out = serve_fn(np.zeros(shape, np.float32))
        assert out.shape == (shape[0], shape[1] * 4, shape[2] * 4, 3)
        assert out.dtype == np.float32 and np.abs(out).max() <= 1.0


def test_manifest_records_both_phases_and_the_missing_perceptual_term(srgan_version: Path) -> None:
    manifest = mf.read_manifest(srgan_version)
    m = manifest["metrics"]
    assert m["held_out"] == list(srdata.HELD_OUT)
    for phase in ("bicubic", "mse_phase", "gan_phase"):
        assert set(m[phase]["mean"]) == {"psnr_rgb", "psnr_y", "ssim_rgb", "ssim_y"}
        assert set(m[phase]["per_image"]) == set(srdata.HELD_OUT)
    assert m["exported_phase"] == "mse" and m["exported"] == m["mse_phase"]["mean"]
    assert 20.0 < m["bicubic"]["mean"]["psnr_rgb"] < 40.0  # a real measurement, not a placeholder
    assert manifest["perceptual_loss"].startswith("omitted")
    assert manifest["preprocessing"]["scale"] == 4 and manifest["preprocessing"]["receptive_radius_lr"] >= 4
    assert (mf.assets_dir(srgan_version) / mf.WARMUP_NAME).stat().st_size > 0


def test_held_out_images_never_reach_training() -> None:
    assert set(srdata.HELD_OUT).isdisjoint(srdata.TRAIN)
    with pytest.raises(ValueError, match="held-out"):
        srdata.CropSampler(srdata.load(("chelsea",)), 8)


def test_crop_sampler_lr_is_the_shared_bicubic() -> None:
    from common import superres as sr

    sampler = srdata.CropSampler(srdata.load(("astronaut",)), 6, seed=3)
    lr, hr = sampler.batch(2)
    assert lr.shape == (2, 6, 6, 3) and hr.shape == (2, 24, 24, 3)
    hr_u8 = sr.from_model_range(hr)
    assert np.array_equal(sr.from_model_range(lr), np.stack([sr.downscale(h) for h in hr_u8]))


def test_bad_options_are_refused(tmp_path: Path) -> None:
    from training.srgan.train import train

    with pytest.raises(ValueError, match="export_phase"):
        train(repo=tmp_path, export_phase="best")
    with pytest.raises(ValueError, match="unknown srgan option"):
        train(repo=tmp_path, epochs="3")
    with pytest.raises(FileNotFoundError, match="vgg19_weights"):
        train(repo=tmp_path, vgg19_weights=str(tmp_path / "missing.h5"), mse_steps=0, gan_steps=0)
