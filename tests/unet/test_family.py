"""The gateway's unet family unit without a server: input parsing, error mapping to 4xx, and the geometry
round trip (what goes to the model lines up with what comes back) using an oracle instead of a model, so
alignment is checked independently of model quality."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from common import mri
from gateway.core.config import Settings
from gateway import errors as E
from gateway.families import UploadedFile, family_for
from gateway.families.unet import UnetAssets, UnetInputs
from training.unet.synth import Generator, write_nifti

STATS = mri.Stats((300.0, 350.0, 360.0, 330.0), (250.0, 280.0, 300.0, 290.0))
ASSETS = UnetAssets(STATS, mri.Limits(max_voxels=2_000_000), "all", 0.5)
FAMILY = family_for("unet")


def npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def oracle(x_fitted_truth: np.ndarray) -> dict[str, np.ndarray]:
    """'Model' output = the truth, placed where the gateway put the pixels (via the same fit)."""
    return {"probabilities": x_fitted_truth.astype(np.float32)}


@pytest.fixture(scope="module")
def volume_case(tmp_path_factory):
    case = Generator(11, (2.5, 2.5, 4.0)).volume(0, (90, 84, 30), lesions=2)  # not multiples of 16
    paths = write_nifti(case, tmp_path_factory.mktemp("nifti"), "c0")
    return case, {m: paths[m].read_bytes() for m in mri.MODALITIES}


def test_registered_with_file_fields():
    assert FAMILY is not None and FAMILY.models == ("unet",)
    assert set(FAMILY.file_fields) == {"flair", "t1", "t1c", "t2", "image"}
    UnetInputs.model_validate(FAMILY.example)  # the OpenAPI example is valid


def test_nifti_round_trip_lines_up_with_truth(volume_case):
    case, files = volume_case
    inputs = FAMILY.parse_multipart({"threshold": "0.5"}, [UploadedFile(m, f"{m}.nii.gz", None, b) for m, b in files.items()])
    prepared = FAMILY.preprocess(inputs, ASSETS)
    x = prepared.arrays["images"]
    assert x.shape == (30, 96, 96, 4) and x.dtype == np.float32
    fit = mri.plan_fit((90, 84))
    # the z-scored FLAIR of slice k is the NIfTI's [:, :, k], centred in the padded plane
    raw = np.rint(case.image[:, :, 12, 0])
    np.testing.assert_allclose(x[12, 3:93, 6:90, 0], (raw - STATS.mean[0]) / STATS.std[0], rtol=1e-5, atol=1e-5)
    truth = np.moveaxis(case.label > 0, 2, 0)[..., None]  # Z, X, Y, 1
    out = FAMILY.postprocess(oracle(mri.apply_fit(truth.astype(np.float32), fit)), ASSETS, inputs, prepared.context)
    assert out.kind == "volume" and out.shape == [90, 84, 30]
    img = mri.read_nifti_bytes(base64.b64decode(out.mask_nifti))
    assert img.shape == (90, 84, 30)
    np.testing.assert_allclose(img.affine, case.affine, atol=1e-5)
    np.testing.assert_array_equal(np.asanyarray(img.dataobj), (case.label > 0).astype(np.uint8))
    n = int((case.label > 0).sum())
    assert out.tumour_pixels == n and sum(out.slice_areas_pixels) == n
    assert out.volume_mm3 == pytest.approx(n * 2.5 * 2.5 * 4.0)
    assert out.slice_areas_pixels == (case.label > 0).sum((0, 1)).tolist()


def test_slice_round_trip_png_and_areas():
    case = Generator(5).slice(3, shape=(200, 180), lesions=1)
    files = [UploadedFile(m, None, "image/png", _png16(case.image[:, :, 0, i])) for i, m in enumerate(mri.MODALITIES)]
    inputs = FAMILY.parse_multipart({"spacing": "0.5,0.5"}, files)
    prepared = FAMILY.preprocess(inputs, ASSETS)
    x = prepared.arrays["images"]
    assert x.shape == (1, 208, 192, 4)
    truth = case.label[:, :, 0] > 0
    fitted = mri.apply_fit(truth[None, ..., None].astype(np.float32), mri.plan_fit((200, 180)))
    out = FAMILY.postprocess(oracle(fitted * 0.9), ASSETS, inputs, prepared.context)
    mask = np.array(Image.open(io.BytesIO(base64.b64decode(out.mask_png))))
    np.testing.assert_array_equal(mask == 255, truth)
    overlay = Image.open(io.BytesIO(base64.b64decode(out.overlay_png)))
    assert overlay.size == (180, 200) and overlay.mode == "RGB"
    assert out.kind == "slice" and out.tumour_pixels == truth.sum() and out.area_mm2 == pytest.approx(truth.sum() * 0.25)
    assert out.max_probability == pytest.approx(0.9)
    high = FAMILY.parse_multipart({"threshold": "0.95"}, files)
    high_prepared = FAMILY.preprocess(high, ASSETS)
    assert FAMILY.postprocess(oracle(fitted * 0.9), ASSETS, high, high_prepared.context).tumour_pixels == 0


def _png16(a):
    buf = io.BytesIO()
    Image.fromarray(np.clip(a, 0, 65535).astype(np.uint16)).save(buf, format="PNG")
    return buf.getvalue()


def test_json_base64_inputs():
    arr = np.random.default_rng(0).uniform(1, 500, (32, 32, 4)).astype(np.float32)
    inputs = UnetInputs.model_validate({"image": base64.b64encode(npy(arr)).decode(), "threshold": 0.3})
    assert FAMILY.preprocess(inputs, ASSETS).arrays["images"].shape == (1, 32, 32, 4)
    with pytest.raises(ValidationError, match="base64"):
        UnetInputs.model_validate({"image": "not base64!!"})
    with pytest.raises(ValidationError):
        UnetInputs.model_validate({"image": base64.b64encode(npy(arr)).decode(), "threshold": 1.5})
    with pytest.raises(ValidationError):
        UnetInputs.model_validate({"flair": "", "modality": "x"})


def slice_files(shape=(48, 40), **override):
    rng = np.random.default_rng(0)
    files = {m: npy(rng.uniform(1, 900, shape).astype(np.float32)) for m in mri.MODALITIES}
    files.update(override)
    return [UploadedFile(k, None, None, v) for k, v in files.items() if v is not None]


ERROR_CASES = [
    ("three modalities", slice_files(t2=None), E.BadRequest, "missing t2"),
    ("nan", slice_files(t1=npy(np.full((48, 40), np.nan, np.float32))), E.InvalidInput, "non-finite"),
    ("all zero", slice_files(flair=npy(np.zeros((48, 40), np.float32))), E.InvalidInput, "all intensities are zero"),
    ("dtype", slice_files(t1c=npy(np.ones((48, 40), np.complex128))), E.InvalidInput, "unsupported dtype"),
    ("shapes", slice_files(t1c=npy(np.ones((48, 41), np.float32))), E.InvalidInput, "differ in size"),
    ("format", slice_files(t1c=b"GIF89a" + b"\0" * 500), E.UnsupportedMediaType, "accepted: PNG or NPY"),
    ("too large", slice_files(t1c=npy(np.ones((4000, 8), np.float32))), E.PayloadTooLarge, "outside 1..1024"),
]


@pytest.mark.parametrize("name,files,error,match", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_bad_inputs_map_to_4xx(name, files, error, match):
    inputs = FAMILY.parse_multipart({}, files)
    with pytest.raises(error, match=match) as e:
        FAMILY.preprocess(inputs, ASSETS)
    assert 400 <= e.value.status < 500


def test_multipart_form_errors():
    with pytest.raises(E.BadRequest, match="more than once"):
        FAMILY.parse_multipart({}, slice_files() + slice_files()[:1])
    with pytest.raises(E.InvalidInput, match="unexpected form field"):
        FAMILY.parse_multipart({"modality_order": "flair,t1"}, slice_files())
    with pytest.raises(E.BadRequest, match="no scans"):
        FAMILY.preprocess(UnetInputs(), ASSETS)


def test_oversized_volume_is_413(volume_case):
    _, files = volume_case
    small = UnetAssets(STATS, mri.Limits(max_voxels=100_000), "all", 0.5)
    inputs = FAMILY.parse_multipart({}, [UploadedFile(m, None, None, b) for m, b in files.items()])
    with pytest.raises(E.PayloadTooLarge, match="too large"):
        FAMILY.preprocess(inputs, small)


def test_load_assets_reads_version_stats(tmp_path):
    (tmp_path / "assets.extra").mkdir()
    (tmp_path / "assets.extra" / "normalization.json").write_text(json.dumps(STATS.as_dict()))
    assets = FAMILY.load_assets(tmp_path, {"metrics": {"task": "core", "threshold": 0.4}}, Settings())
    assert assets.stats == STATS and assets.task == "core" and assets.default_threshold == 0.4
