"""The synthetic MRI generator: seeded determinism, exact labels, modality contrasts, NIfTI output;
and joint augmentation keeping image and mask aligned."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from common import mri
from training.unet.model import augment
from training.unet.synth import Generator, task_mask, write_nifti

SMALL = (96, 96, 40)
SPACING = (2.5, 2.5, 4.0)  # covers a whole head at a tenth of the voxels


@pytest.fixture(scope="module")
def vol():
    return Generator(7, SPACING).volume(0, SMALL, lesions=2)


def test_deterministic_per_seed_and_index():
    a, b = Generator(3).slice(5), Generator(3).slice(5)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.label, b.label)
    c = Generator(3).slice(6)
    d = Generator(4).slice(5)
    assert not np.array_equal(a.image, c.image) and not np.array_equal(a.image, d.image)


def test_labels_exact_and_within_brain(vol):
    assert vol.image.shape == (*SMALL, 4) and vol.label.shape == SMALL and vol.image.dtype == np.float32
    assert set(np.unique(vol.label)) <= {0, 1, 2, 4} and (vol.label == 2).any() and (vol.label == 4).any()
    # tumour only where there is tissue, never in the air around the head
    air = vol.image[..., 1] < 0.1 * vol.image[..., 1].max()
    assert (vol.label[air] == 0).mean() > 0.999
    assert vol.label[0].max() == 0 and vol.label[:, 0].max() == 0


def test_tumour_free_cases():
    g = Generator(1)
    assert g.slice(0, lesions=0).label.max() == 0
    assert g.volume(0, SMALL, lesions=0).label.max() == 0


def test_modality_contrasts(vol):
    img, lab = vol.image, vol.label
    flair, t1, t1c, t2 = (img[..., i] for i in range(4))
    brain = (lab == 0) & (t1 > 0.3 * np.percentile(t1, 99))
    edema, enh = lab == 2, lab == 4
    assert flair[edema].mean() > 1.4 * flair[brain].mean()  # edema bright in FLAIR
    assert t2[edema].mean() > 1.4 * t2[brain].mean()  # ... and in T2
    assert t1c[enh].mean() > 1.4 * t1c[brain].mean()  # enhancing rim bright in T1c
    assert t1c[enh].mean() > 1.8 * t1[enh].mean()  # ... but not in T1
    assert t1[edema].mean() < t1[brain].mean()  # edema dark in T1


def test_varied_cases():
    g = Generator(0)
    areas = [int((g.slice(i).label > 0).sum()) for i in range(30)]
    assert min(areas) == 0 < max(areas)  # tumour-free and tumour slices
    assert len(set(areas)) >= 20  # sizes vary


def test_nifti_written_with_affine_and_spacing(vol, tmp_path):
    paths = write_nifti(vol, tmp_path, "case0")
    for m in (*mri.MODALITIES, "seg"):
        img = nib.load(paths[m])
        assert img.shape == SMALL
        np.testing.assert_allclose(img.affine, vol.affine)
        np.testing.assert_allclose(img.header.get_zooms(), SPACING)
    np.testing.assert_array_equal(np.asanyarray(nib.load(paths["seg"]).dataobj), vol.label)
    assert vol.affine[0, 0] < 0 and vol.affine[2, 2] == SPACING[2]  # radiological x/y flip as in BraTS
    flair = np.asanyarray(nib.load(paths["flair"]).dataobj)
    assert flair.dtype == np.int16 and np.abs(flair - vol.image[..., 0]).max() <= 0.5 + 1e-3


def test_task_masks():
    lab = np.array([0, 1, 2, 4])
    assert task_mask(lab, "all").tolist() == [False, True, True, True]
    assert task_mask(lab, "core").tolist() == [False, True, False, True]
    assert task_mask(lab, "enhancing").tolist() == [False, False, False, True]
    with pytest.raises(ValueError):
        task_mask(lab, "edema")


def test_augment_moves_image_and_mask_together():
    case = Generator(2).slice(1, lesions=2)
    mask = (case.label[:, :, 0] > 0).astype(np.float32)
    image = np.concatenate([case.image[:, :, 0, :3], mask[..., None] * 1000], -1)  # 4th channel = the mask
    rng = np.random.default_rng(0)
    for _ in range(5):
        out, out_mask = augment(image, mask, rng)
        assert set(np.unique(out_mask)) <= {0.0, 1.0}
        agree = ((out[..., 3] > 500) == (out_mask > 0.5)).mean()
        assert agree > 0.995
        assert 0.7 < out_mask.sum() / mask.sum() < 1.3
