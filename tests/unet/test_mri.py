"""common.mri: loading, validation (every bad input names what was wrong), geometry round trips, outputs."""

from __future__ import annotations

import gzip
import io

import nibabel as nib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from common import mri


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def png(arr: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, format="PNG")
    return buf.getvalue()


def nii(arr: np.ndarray, affine: np.ndarray | None = None, gz: bool = True, zooms=(1.0, 1.0, 2.0)) -> bytes:
    img = nib.Nifti1Image(arr, np.diag([-1.0, -1.0, 2.0, 1.0]) if affine is None else affine)
    img.header.set_zooms((tuple(zooms) + (1.0,))[: arr.ndim])
    raw = img.to_bytes()
    return gzip.compress(raw) if gz else raw


def slices(shape=(40, 36), dtype=np.float32, seed=0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {m: rng.uniform(1, 900, shape).astype(dtype) for m in mri.MODALITIES}


def test_sniff_by_magic_bytes():
    a = np.ones((4, 4), np.uint8)
    assert mri.sniff(png(a)) == "png"
    assert mri.sniff(npy(a)) == "npy"
    assert mri.sniff(nii(np.ones((4, 4, 2), np.int16), gz=False)) == "nifti"
    assert mri.sniff(nii(np.ones((4, 4, 2), np.int16))) == "nifti-gz"
    assert mri.sniff(b"\xff\xd8\xff\xe0 jpeg") == "unknown"


def test_load_slices_png_8_and_16_bit_and_npy():
    arrs = slices(dtype=np.float32)
    files = {
        "flair": png(arrs["flair"].astype(np.uint8)),
        "t1": png(arrs["t1"].astype(np.uint16)),
        "t1c": npy(arrs["t1c"]),
        "t2": npy(arrs["t2"].astype(np.int16)),
    }
    scan = mri.load(files, spacing=[0.5, 0.5])
    assert scan.data.shape == (1, 40, 36, 4) and scan.data.dtype == np.float32 and not scan.is_volume
    np.testing.assert_array_equal(scan.data[0, ..., 1], arrs["t1"].astype(np.uint16))
    np.testing.assert_array_equal(scan.data[0, ..., 2], arrs["t1c"])
    assert scan.spacing == (0.5, 0.5)


def test_load_npy4_channel_order():
    arr = np.stack([np.full((20, 20), v, np.float32) for v in (1, 2, 3, 4)], -1)
    scan = mri.load({"image": npy(arr)})
    assert scan.data.shape == (1, 20, 20, 4) and list(scan.data[0, 0, 0]) == [1, 2, 3, 4]


def nifti_files(shape=(24, 20, 6), affine=None, dtype=np.int16):
    rng = np.random.default_rng(1)
    return {m: nii(rng.integers(1, 1000, shape).astype(dtype), affine) for m in mri.MODALITIES}


def test_load_nifti_layout_spacing_affine():
    files = nifti_files()
    scan = mri.load(files)
    assert scan.is_volume and scan.data.shape == (6, 24, 20, 4)
    assert scan.spacing == (1.0, 1.0, 2.0)
    np.testing.assert_allclose(scan.affine, np.diag([-1.0, -1.0, 2.0, 1.0]))
    flair = np.asanyarray(mri.read_nifti_bytes(files["flair"]).dataobj)
    np.testing.assert_array_equal(scan.data[3, ..., 0], flair[:, :, 3])


def err(files, kind, match, **kw):
    with pytest.raises(mri.MRIError, match=match) as e:
        mri.load(files, **kw)
    assert e.value.kind == kind, e.value
    return e.value


BAD_CASES = {
    "missing modality": (lambda f: {k: v for k, v in f.items() if k != "t1c"}, "bad_request", "missing t1c"),
    "extra modality": (lambda f: {**f, "pd": f["t1"]}, "bad_request", "unexpected pd"),
    "image plus modalities": (lambda f: {**f, "image": f["t1"]}, "bad_request", "not both"),
    "mismatched shapes": (lambda f: {**f, "t2": npy(np.ones((40, 30), np.float32))}, "invalid", "differ in size"),
    "nan": (lambda f: {**f, "t1": npy(np.where(np.eye(40, 36) > 0, np.nan, 1.0).astype(np.float32))}, "invalid", "non-finite"),
    "inf": (lambda f: {**f, "t1": npy(np.full((40, 36), np.inf))}, "invalid", "non-finite"),
    "all zero": (lambda f: {**f, "flair": npy(np.zeros((40, 36), np.float32))}, "invalid", "all intensities are zero"),
    "complex dtype": (lambda f: {**f, "t2": npy(np.ones((40, 36), np.complex64))}, "invalid", "unsupported dtype complex64"),
    "bool dtype": (lambda f: {**f, "t2": npy(np.ones((40, 36), bool))}, "invalid", "unsupported dtype bool"),
    "object npy": (lambda f: {**f, "t2": npy(np.array([{"a": 1}], dtype=object))}, "invalid", "object arrays"),
    "3-D slice": (lambda f: {**f, "t2": npy(np.ones((40, 36, 3), np.float32))}, "invalid", "2-D array"),
    "jpeg": (lambda f: {**f, "t1": b"\xff\xd8\xff\xe0" + b"0" * 400}, "unsupported", "unrecognised file type"),
    "corrupt png": (lambda f: {**f, "t1": mri.PNG_MAGIC + b"garbage"}, "invalid", "not a readable PNG"),
    "colour png": (lambda f: {**f, "t1": png(np.random.default_rng(0).integers(0, 255, (40, 36, 3)).astype(np.uint8))}, "invalid", "colour PNG"),
    "oversized slice": (lambda f: {**f, "t1": npy(np.ones((2000, 36), np.float32))}, "too_large", "outside 1..1024"),
    "mixed nifti and slices": (lambda f: {**f, "t1": nii(np.ones((40, 36, 2), np.int16))}, "bad_request", "mixed inputs"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_slice_inputs(case):
    change, kind, match = BAD_CASES[case]
    good = {m: npy(a) for m, a in slices().items()}
    mri.load(good)  # the baseline is accepted
    err(change(good), kind, match)


def test_bad_npy4():
    err({"image": npy(np.ones((20, 20, 3), np.float32))}, "invalid", r"must be \[H, W, 4\]")
    err({"image": png(np.ones((20, 20), np.uint8))}, "unsupported", "expected a .npy")
    bad = np.ones((20, 20, 4), np.float32)
    bad[..., 2] = 0
    err({"image": npy(bad)}, "invalid", r"channel 2 \(t1c\).*zero")


def test_bad_nifti_inputs():
    files = nifti_files()
    shifted = np.diag([-1.0, -1.0, 2.0, 1.0])
    shifted[0, 3] = 5.0
    err({**files, "t1c": nii(np.ones((24, 20, 6), np.int16), shifted)}, "invalid", "t1c: affine differs")
    err({**files, "t2": nii(np.ones((24, 20, 7), np.int16))}, "invalid", "differ in shape")
    err({**files, "t2": nii(np.ones((24, 20, 6, 2), np.int16))}, "invalid", "must be 3-D")
    err({**files, "t1": gzip.compress(b"not a nifti at all" * 30)}, "unsupported", "not a NIfTI")
    err({**files, "flair": nii(np.zeros((24, 20, 6), np.int16))}, "invalid", "flair: all intensities are zero")
    err({**files, "t2": nii(np.where(np.ones((24, 20, 6)) > 0, np.nan, 0).astype(np.float32))}, "invalid", "non-finite")
    with pytest.raises(mri.MRIError, match="too large") as e:
        mri.load(files, limits=mri.Limits(max_voxels=1000))
    assert e.value.kind == "too_large"
    with pytest.raises(mri.MRIError, match="too large"):
        mri.load(files, limits=mri.Limits(max_slices=5))


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 300), w=st.integers(1, 300), max_side=st.sampled_from([64, 128, 512]))
def test_fit_round_trip(h, w, max_side):
    fit = mri.plan_fit((h, w), 16, max_side)
    assert all(s % 16 == 0 and s <= max_side for s in fit.size)
    x = np.random.default_rng(h * 1000 + w).uniform(1, 2, (2, h, w, 1)).astype(np.float32)
    fitted = mri.apply_fit(x, fit, 0.0)
    assert fitted.shape[1:3] == fit.size
    back = mri.unfit(fitted, fit)
    assert back.shape == x.shape
    (c0, c1), (d0, d1) = fit.crop
    inner = (slice(None), slice(c0, h - c1), slice(d0, w - d1))
    np.testing.assert_array_equal(back[inner], x[inner])  # kept pixels line up exactly
    assert (np.delete(back.reshape(2, h * w), np.ravel_multi_index(np.mgrid[c0 : h - c1, d0 : w - d1].reshape(2, -1), (h, w)), axis=1) == 0).all()


def test_fit_240_is_identity_and_padding_is_background():
    fit = mri.plan_fit((240, 240))
    assert fit.size == (240, 240) and fit.pad == ((0, 0), (0, 0))
    stats = mri.Stats((10.0, 20.0, 30.0, 40.0), (2.0, 4.0, 5.0, 8.0))
    scan = mri.Scan(np.full((1, 200, 230, 4), 50.0, np.float32), is_volume=False)
    x, fit = mri.model_input(scan, stats)
    assert x.shape == (1, 208, 240, 4) and fit.pad == ((4, 4), (5, 5))
    np.testing.assert_allclose(x[0, 0, 0], [-5, -5, -6, -5])  # raw 0 z-scored
    np.testing.assert_allclose(x[0, 100, 100], [20, 7.5, 4, 1.25])


def test_stats_accumulator_matches_numpy():
    x = np.random.default_rng(0).normal([1, 2, 3, 4], [1, 2, 3, 4], (500, 4))
    s = mri.StatsAccumulator()
    s.add(x[:200])
    s.add(x[200:])
    np.testing.assert_allclose(s.stats().mean, x.mean(0), rtol=1e-9)
    np.testing.assert_allclose(s.stats().std, x.std(0), rtol=1e-6)
    assert mri.Stats.from_dict(s.stats().as_dict()) == s.stats()


def test_nifti_mask_keeps_shape_affine_and_voxels():
    affine = np.array([[-0.9, 0, 0, 100], [0, -0.9, 0, 110], [0, 0, 2.5, -70], [0, 0, 0, 1]])
    src = nib.Nifti1Image(np.ones((30, 20, 7), np.int16), affine)
    src.header.set_zooms((0.9, 0.9, 2.5))
    mask = np.random.default_rng(0).random((7, 30, 20)) > 0.7  # Z, X, Y
    out = mri.read_nifti_bytes(mri.nifti_mask(mask, affine, src.header))
    assert out.shape == (30, 20, 7)
    np.testing.assert_allclose(out.affine, affine, atol=1e-5)
    np.testing.assert_array_equal(np.asanyarray(out.dataobj), np.moveaxis(mask, 0, 2).astype(np.uint8))
    assert out.get_data_dtype() == np.uint8
    assert tuple(round(float(z), 4) for z in out.header.get_zooms()) == (0.9, 0.9, 2.5)


def test_png_outputs_and_areas():
    mask = np.zeros((20, 30), bool)
    mask[5:10, 5:15] = True
    m = np.array(Image.open(io.BytesIO(mri.mask_png(mask))))
    assert m.shape == (20, 30) and set(np.unique(m)) == {0, 255} and (m == 255).sum() == 50
    flair = np.random.default_rng(0).uniform(0, 500, (20, 30)).astype(np.float32)
    ov = np.array(Image.open(io.BytesIO(mri.overlay_png(flair, mask))))
    assert ov.shape == (20, 30, 3)
    assert (ov[mask][:, 0].astype(int) - ov[mask][:, 1]).min() > 0  # red tint under the mask
    assert (ov[~mask][:, 0] == ov[~mask][:, 1]).all()  # gray elsewhere
    a = mri.areas(mask[None], (0.5, 0.5))
    assert a["pixels"] == 50 and a["mm2"] == 12.5 and "mm3" not in a
    v = mri.areas(np.stack([mask, mask, ~mask]), (1.0, 1.0, 2.0))
    assert v["slice_pixels"] == [50, 50, 550] and v["mm3"] == 650 * 2.0
    assert mri.areas(mask[None], None) == {"pixels": 50, "slice_pixels": [50]}


# ---------------------------------------------------------------------------------------------- header vs data


def _cuts(n: int, header: int) -> list[int]:
    """Cut points inside the header, at its end and through the data (every one must be refused)."""
    return sorted({1, header // 2, header - 1, header, header + 1, (header + n) // 2, n - 1})


@pytest.mark.parametrize("gz", [False, True], ids=["nii", "nii.gz"])
def test_truncated_nifti_is_refused_naming_header_and_data(gz):
    """A header promising X*Y*Z voxels the file does not hold was an OSError from nibabel (HTTP 500)."""
    files = nifti_files()
    raw = nii(np.random.default_rng(2).integers(1, 1000, (24, 20, 6)).astype(np.int16), gz=False)
    assert mri.load({**files, "t2": gzip.compress(raw) if gz else raw}).is_volume  # the whole file is fine
    for cut in _cuts(len(raw), 352):
        cut_raw = raw[:cut]
        for data in ([gzip.compress(cut_raw), gzip.compress(raw)[: max(10, cut // 3)]] if gz else [cut_raw]):
            if not gz and cut < 348:
                err({**files, "t2": data}, "bad_request", "mixed inputs")  # no longer recognisable as NIfTI
                continue
            e = err({**files, "t2": data}, "invalid", "t2: truncated")
            assert "send the complete file" in str(e)
            if cut >= 352 and data is cut_raw:
                assert "24x20x6 int16" in str(e) and f"holds only {cut - 352} bytes" in str(e)


def test_nifti_size_and_dtype_checked_from_the_header_before_decompressing():
    """A .nii.gz whose header promises more than the limits is refused without inflating the stream (gzip bomb)."""
    hdr = nib.Nifti1Header()
    hdr.set_data_shape((2000, 2000, 400))
    hdr.set_data_dtype(np.float64)
    head = hdr.binaryblock + b"\0" * 4
    bomb = gzip.compress(head + bytes(64 << 20))  # 64 MB of zeros in ~64 KB: the header says 12.8 GB
    files = {m: bomb for m in mri.MODALITIES}
    err(files, "too_large", "outside 1..1024 pixels per side")
    hdr.set_data_shape((500, 500, 400))
    files = {m: gzip.compress(hdr.binaryblock + b"\0" * 4 + bytes(1 << 20)) for m in mri.MODALITIES}
    err(files, "too_large", "too large")
    hdr.set_data_shape((20, 20, 4))
    hdr.set_data_dtype(np.complex64)
    files = {m: gzip.compress(hdr.binaryblock + b"\0" * 4 + bytes(20 * 20 * 4 * 8)) for m in mri.MODALITIES}
    err(files, "invalid", "unsupported NIfTI data type complex64")


def test_truncated_npy_is_refused_naming_the_promised_shape():
    good = {m: npy(a) for m, a in slices().items()}
    full = good["t1"]
    header = len(full) - 40 * 36 * 4
    for cut in _cuts(len(full), header):
        data = full[:cut]
        if cut < 6:
            err({**good, "t1": data}, "unsupported", "unrecognised file type")
            continue
        e = err({**good, "t1": data}, "invalid", "t1: ")
        if cut >= header:
            assert f"promises shape [40, 36] float32 ({40 * 36 * 4} bytes of data) but only {cut - header} bytes follow" in str(e)
    four = npy(np.ones((20, 20, 4), np.float32))
    err({"image": four[:-1]}, "invalid", r"truncated .npy: the header promises shape \[20, 20, 4\]")


def test_npy_header_promising_terabytes_costs_nothing():
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (200_000, 200_000)})
    e = err({m: buf.getvalue() + bytes(64) for m in mri.MODALITIES}, "invalid", "truncated .npy")
    assert "320000000000 bytes" in str(e)
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": (3000, 10)})
    err({m: buf.getvalue() + bytes(3000 * 10 * 4) for m in mri.MODALITIES}, "too_large", "outside 1..1024")


def test_animated_png_slice_is_refused():
    """A multi-frame PNG is most likely a volume packed as frames: not segmented as its first slice."""
    good = {m: npy(a) for m, a in slices().items()}
    frames = [Image.fromarray(np.full((40, 36), v, np.uint8)) for v in (10, 200, 90)]
    buf = io.BytesIO()
    frames[0].save(buf, format="PNG", save_all=True, append_images=frames[1:])
    err({**good, "t1": buf.getvalue()}, "invalid", "t1: animated PNG with 3 frames")


def test_every_prefix_of_a_png_slice_is_refused_or_identical():
    """Truncated mid-stream: either a 422 or (only the end marker missing) exactly the same pixels."""
    good = {m: npy(a) for m, a in slices().items()}
    full = png(np.random.default_rng(3).integers(1, 60000, (40, 36)).astype(np.uint16))
    ref = mri.load({**good, "flair": full}).data
    for cut in range(1, len(full), 7):
        try:
            got = mri.load({**good, "flair": full[:cut]}).data
        except mri.MRIError as e:
            assert e.kind in ("invalid", "unsupported"), e
            continue
        np.testing.assert_array_equal(got, ref)


def test_the_reported_brats_sized_truncation():
    """Issue 25's report: a .nii whose header promises 240x240x155 int16 but whose data stops early."""
    hdr = nib.Nifti1Header()
    hdr.set_data_shape((240, 240, 155))
    hdr.set_data_dtype(np.int16)
    raw = hdr.binaryblock + b"\0" * 4 + np.ones(240 * 240 * 10, np.int16).tobytes()  # 10 of 155 slices
    for data in (raw, gzip.compress(raw)):
        e = err({m: data for m in mri.MODALITIES}, "invalid", "flair: truncated NIfTI")
        assert "240x240x155 int16" in str(e) and f"({240 * 240 * 155 * 2} bytes from offset 352)" in str(e)
        assert f"holds only {240 * 240 * 10 * 2} bytes" in str(e)


def test_vox_offset_zero_reads_the_voxels_not_the_header():
    """vox_offset 0 is invalid in a single-file NIfTI; nibabel alone would read the header bytes as voxels."""
    hdr = nib.Nifti1Header()
    hdr.set_data_shape((24, 20, 6))
    hdr.set_data_dtype(np.int16)
    assert hdr.get_data_offset() == 0
    vol = np.random.default_rng(5).integers(1, 1000, (24, 20, 6)).astype(np.int16)
    raw = hdr.binaryblock + b"\0" * 4 + vol.tobytes(order="F")
    files = {**nifti_files(), "t1": raw}
    for m in ("flair", "t1c", "t2"):
        files[m] = raw
    scan = mri.load(files)
    np.testing.assert_array_equal(scan.data[..., 1], np.moveaxis(vol, 2, 0).astype(np.float32))
