"""The unet family through the real stack: modelserver + gateway processes on free ports over a tmp repository
holding a U-Net trained for seconds. The gateway's masks must equal the in-process SavedModel's on the same
input (so the whole path — decode, z-score, pad, batch, wire, unpad, NIfTI writing — lines up voxel for voxel),
and every bad input is a clear 4xx that leaves the service up."""

from __future__ import annotations

import base64
import gzip
import io
from pathlib import Path
from typing import Iterator

import httpx
import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from common import mri
from tests.utils.stack import Stack
from training.unet.synth import Generator, write_nifti

SHAPE = (72, 60, 12)  # not multiples of 16: padded and mapped back
SPACING = (3.0, 3.5, 5.0)


@pytest.fixture(scope="module")
def stack(unet_repo: Path) -> Iterator[Stack]:
    with Stack(unet_repo, gateway_env={"GATEWAY_UNET_MAX_SLICES": "20", "GATEWAY_REFRESH_INTERVAL_S": "0.2"}) as s:
        yield s


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=120.0) as c:
        yield c


@pytest.fixture(scope="module")
def volume(tmp_path_factory):
    case = Generator(21, SPACING).volume(0, SHAPE, lesions=2)
    paths = write_nifti(case, tmp_path_factory.mktemp("vol"), "v")
    return case, {m: paths[m].read_bytes() for m in mri.MODALITIES}


def in_process_probs(repo: Path, scan: mri.Scan) -> np.ndarray:
    import json

    import tensorflow as tf

    vdir = repo / "unet" / "1"
    stats = mri.Stats.from_dict(json.loads((vdir / "assets.extra" / "normalization.json").read_text()))
    x, fit = mri.model_input(scan, stats)
    fn = tf.saved_model.load(str(vdir)).signatures["serving_default"]
    return mri.unfit(fn(images=tf.constant(x))["probabilities"].numpy(), fit)[..., 0]


def threshold_between(probs: np.ndarray) -> float:
    """A threshold that splits a seconds-trained model's outputs into a non-trivial mask."""
    return min(max(float(np.quantile(probs, 0.8)), 1e-3), 1 - 1e-3)


def post(client: httpx.Client, files: dict[str, bytes], **data) -> httpx.Response:
    return client.post("/predict", data={"model": "unet", **{k: str(v) for k, v in data.items()}},
                       files={k: (f"{k}.bin", v) for k, v in files.items()})


def test_nifti_volume_round_trip(client, volume, unet_repo):
    case, files = volume
    scan = mri.load(files)
    probs = in_process_probs(unet_repo, scan)  # [Z, X, Y]
    t = threshold_between(probs)
    r = post(client, files, threshold=t)
    assert r.status_code == 200, r.text
    body = r.json()
    out = body["outputs"]
    assert body["model"] == "unet" and body["version"] == 1 and out["kind"] == "volume"
    img = mri.read_nifti_bytes(base64.b64decode(out["mask_nifti"]))
    assert img.shape == SHAPE and out["shape"] == list(SHAPE)
    np.testing.assert_allclose(img.affine, case.affine, atol=1e-5)
    mask = np.asanyarray(img.dataobj)
    expected = np.moveaxis(probs >= t, 0, 2)
    near = np.abs(np.moveaxis(probs, 0, 2) - t) < 1e-4  # float noise between the two runtimes
    assert ((mask.astype(bool) == expected) | near).all()
    assert 0 < mask.sum() < mask.size
    assert out["tumour_pixels"] == int(mask.sum()) and out["slice_areas_pixels"] == mask.sum((0, 1)).tolist()
    assert out["volume_mm3"] == pytest.approx(mask.sum() * 3.0 * 3.5 * 5.0, rel=1e-6)
    assert out["spacing_mm"] == list(SPACING)


def test_png_slices_and_npy4(client, volume, unet_repo):
    case, _ = volume
    k = int(np.argmax((case.label > 0).sum((0, 1))))
    sl = case.image[:, :, k]  # X, Y, 4
    pngs = {}
    for i, m in enumerate(mri.MODALITIES):
        buf = io.BytesIO()
        Image.fromarray(np.rint(sl[..., i]).astype(np.uint16)).save(buf, format="PNG")
        pngs[m] = buf.getvalue()
    r = post(client, pngs, spacing="3.0,3.5")
    assert r.status_code == 200, r.text
    out = r.json()["outputs"]
    mask = np.array(Image.open(io.BytesIO(base64.b64decode(out["mask_png"]))))
    assert mask.shape == SHAPE[:2] and set(np.unique(mask)) <= {0, 255}
    assert out["tumour_pixels"] == int((mask == 255).sum()) and out["area_mm2"] == pytest.approx(out["tumour_pixels"] * 10.5)
    assert Image.open(io.BytesIO(base64.b64decode(out["overlay_png"]))).size == (SHAPE[1], SHAPE[0])
    # the same slice as one 4-channel NPY over JSON gives the same mask
    buf = io.BytesIO()
    np.save(buf, np.rint(sl).astype(np.float32))
    r2 = client.post("/predict", json={"model": "unet", "inputs": {"image": base64.b64encode(buf.getvalue()).decode()}})
    assert r2.status_code == 200, r2.text
    assert r2.json()["outputs"]["mask_png"] == out["mask_png"]


def _npy(a):
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def test_bad_inputs_are_clear_4xx_and_service_stays_up(client, volume):
    case, files = volume
    sl = {m: _npy(np.random.default_rng(i).uniform(1, 500, (48, 48)).astype(np.float32)) for i, m in enumerate(mri.MODALITIES)}
    moved = case.affine.copy()
    moved[0, 3] += 7.0  # a t2 from another position: not co-registered
    shifted = nib.Nifti1Image(np.ones(SHAPE, np.int16), moved)
    big = Generator(1, SPACING).volume(0, (40, 40, 24), lesions=1)
    big_files = {m: gzip.compress(nib.Nifti1Image(big.image[..., i].astype(np.float32), big.affine).to_bytes()) for i, m in enumerate(mri.MODALITIES)}
    cases = [
        ({k: v for k, v in sl.items() if k != "t2"}, {}, 400, "missing t2"),
        ({**sl, "t1": _npy(np.full((48, 48), np.nan, np.float32))}, {}, 422, "non-finite"),
        ({**sl, "flair": _npy(np.zeros((48, 48), np.float32))}, {}, 422, "all intensities are zero"),
        ({**sl, "t1c": _npy(np.ones((48, 48), np.complex64))}, {}, 422, "unsupported dtype"),
        ({**sl, "t2": _npy(np.ones((40, 48), np.float32))}, {}, 422, "differ in size"),
        ({**sl, "t2": b"GIF89a" + bytes(600)}, {}, 415, "unrecognised file type"),
        ({**files, "t2": gzip.compress(shifted.to_bytes())}, {}, 422, "affine differs"),
        (big_files, {}, 413, "too large"),
        ({**sl, "image": sl["t1"]}, {}, 400, "not both"),
        (sl, {"threshold": "2"}, 422, "threshold"),
        ({**sl, "pd": sl["t1"]}, {}, 422, "unexpected file field"),
    ]
    for files_, data, status, match in cases:
        r = post(client, files_, **data)
        assert r.status_code == status, (match, r.status_code, r.text)
        err = r.json()["error"]
        assert match in err["message"], (match, err)
        assert err["request_id"] and "Traceback" not in r.text
    assert client.get("/healthz").status_code == 200
    assert post(client, sl).status_code == 200


def test_truncated_and_inconsistent_payloads_are_422_over_multipart_and_json(client, volume):
    """Issue 25: a header promising more data than the file holds was an HTTP 500 (nibabel's OSError)."""
    _, files = volume
    raw_t2 = gzip.decompress(files["t2"])
    sl = {m: _npy(np.random.default_rng(i).uniform(1, 500, (48, 48)).astype(np.float32)) for i, m in enumerate(mri.MODALITIES)}
    frames = [Image.fromarray(np.full((48, 48), v, np.uint8)) for v in (10, 200)]
    buf = io.BytesIO()
    frames[0].save(buf, format="PNG", save_all=True, append_images=frames[1:])
    dims = "x".join(map(str, SHAPE))
    cases = [
        ({**files, "t2": raw_t2[: len(raw_t2) // 2]}, 422, f"t2: truncated NIfTI: the header promises {dims}"),
        ({**files, "t2": gzip.compress(raw_t2[: len(raw_t2) // 2])}, 422, "t2: truncated NIfTI (.nii.gz)"),
        ({**files, "t2": files["t2"][: len(files["t2"]) // 2]}, 422, "t2: truncated NIfTI (.nii.gz)"),
        ({**sl, "t1": sl["t1"][:-10]}, 422, "t1: truncated .npy: the header promises shape [48, 48] float32"),
        ({"image": _npy(np.ones((48, 48, 4), np.float32))[:-4]}, 422, "image: truncated .npy"),
        ({**sl, "flair": buf.getvalue()}, 422, "flair: animated PNG with 2 frames"),
    ]
    for files_, status, match in cases:
        r_multi = post(client, files_)
        r_json = client.post("/predict", json={"model": "unet", "inputs": {k: base64.b64encode(v).decode() for k, v in files_.items()}})
        for r in (r_multi, r_json):
            assert r.status_code == status, (match, r.status_code, r.text)
            err = r.json()["error"]
            assert err["code"] == "invalid_input" and match in err["message"], (match, err)
    assert post(client, files).status_code == 200
