"""MRI input/output for the U-Net segmenter: one TF-free implementation used by training and the gateway.

Why one module: the model is only as good as the agreement between what it was trained on and what the
gateway sends it. Loading (PNG/NPY slices, a 4-channel NPY, NIfTI volumes), validation, z-scoring with the
served version's global per-modality statistics, fitting sizes to the U-Net's multiple of 16 and mapping back,
rendering masks/overlays and writing NIfTI masks all live here, so training, evaluation and the gateway
cannot drift apart.

Conventions (the same as nibabel's data arrays): a volume is (X, Y, Z) per modality; an axial slice is
`volume[:, :, k]`, an (X, Y) = (H, W) image. The model sees `[B, H, W, 4]` with channels in the order
FLAIR, T1, T1c, T2 (:data:`MODALITIES`), B = slices of a volume.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

MODALITIES: tuple[str, ...] = ("flair", "t1", "t1c", "t2")
MULTIPLE = 16  # four 2x2 poolings in the U-Net
DEFAULT_MAX_SIDE = 512  # in-plane side the model is run at, at most (larger inputs are centre-cropped)
DEFAULT_MAX_INPUT_SIDE = 1024  # larger in-plane sides are refused outright
DEFAULT_MAX_SLICES = 512
DEFAULT_MAX_VOXELS = 24_000_000  # per modality; a BraTS volume is 240*240*155 = 8.9 M
ACCEPTED_DTYPES = ("uint8", "int8", "uint16", "int16", "uint32", "int32", "int64", "uint64", "float16", "float32", "float64")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NPY_MAGIC = b"\x93NUMPY"
GZIP_MAGIC = b"\x1f\x8b"


class MRIError(ValueError):
    """A request's scans cannot be used. `kind` selects the HTTP status in the gateway:
    invalid -> 422, too_large -> 413, unsupported -> 415, bad_request -> 400."""

    def __init__(self, message: str, kind: str = "invalid") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Limits:
    max_side: int = DEFAULT_MAX_SIDE
    max_input_side: int = DEFAULT_MAX_INPUT_SIDE
    max_slices: int = DEFAULT_MAX_SLICES
    max_voxels: int = DEFAULT_MAX_VOXELS


@dataclass
class Scan:
    """Four co-registered modalities as float32 `[Z, H, W, 4]` (Z = 1 for a slice).

    `affine`/`header` are the first NIfTI's (None for slices); `spacing` is (dx, dy[, dz]) in mm when known.
    """

    data: np.ndarray
    is_volume: bool
    affine: np.ndarray | None = None
    header: object | None = None
    spacing: tuple[float, ...] | None = None
    source: str = "slices"  # slices | npy4 | nifti

    @property
    def plane_shape(self) -> tuple[int, int]:
        return int(self.data.shape[1]), int(self.data.shape[2])


# ---------------------------------------------------------------------------------------------- detection


def sniff(data: bytes) -> str:
    """File type from magic bytes, never from a file name: png | npy | nifti | nifti-gz | unknown."""
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(NPY_MAGIC):
        return "npy"
    if data.startswith(GZIP_MAGIC):
        return "nifti-gz"
    if len(data) >= 348:
        le = int.from_bytes(data[:4], "little")
        be = int.from_bytes(data[:4], "big")
        if 348 in (le, be) or 540 in (le, be):
            return "nifti"
    return "unknown"


ACCEPTED_FORMATS = "PNG or NPY 2-D slices, or NIfTI volumes (.nii / .nii.gz)"


# ---------------------------------------------------------------------------------------------- validation


def check_array(name: str, arr: np.ndarray) -> np.ndarray:
    """dtype, finiteness and blankness of one modality; returns it as float32."""
    if arr.dtype.kind not in "uif" or arr.dtype.name not in ACCEPTED_DTYPES:
        raise MRIError(
            f"{name}: unsupported dtype {arr.dtype}; accepted: {', '.join(ACCEPTED_DTYPES)}", "invalid"
        )
    out = np.asarray(arr, dtype=np.float32)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            bad = int((~np.isfinite(arr)).sum())
            raise MRIError(f"{name}: {bad} non-finite value(s) (NaN or inf); all intensities must be finite")
        if not np.isfinite(out).all():
            raise MRIError(f"{name}: values overflow float32; all intensities must be finite float32 numbers")
    if not out.any():
        raise MRIError(f"{name}: all intensities are zero; a blank or missing scan cannot be segmented")
    return out


def _check_plane(name: str, shape: tuple[int, ...], limits: Limits) -> None:
    if min(shape[:2]) < 1 or max(shape[:2]) > limits.max_input_side:
        raise MRIError(
            f"{name}: in-plane size {shape[0]}x{shape[1]} is outside 1..{limits.max_input_side} pixels per side",
            "too_large",
        )


def _check_modalities(names: Sequence[str]) -> None:
    got = list(names)
    missing = [m for m in MODALITIES if m not in got]
    extra = [n for n in got if n not in MODALITIES]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected {', '.join(extra)}")
        raise MRIError(
            f"need exactly four modalities named {', '.join(MODALITIES)} (in that order): {'; '.join(parts)}",
            "bad_request",
        )


# ---------------------------------------------------------------------------------------------- loading


def _decode_png(name: str, data: bytes, limits: Limits) -> np.ndarray:
    from PIL import Image

    # The side limit is checked from the header right after open (Image.open reads no pixels); never set
    # Image.MAX_IMAGE_PIXELS here: it is process-wide and would change every other family's image limits.
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width > limits.max_input_side or im.height > limits.max_input_side:
                raise MRIError(
                    f"{name}: PNG {im.width}x{im.height} exceeds {limits.max_input_side} pixels per side", "too_large"
                )
            frames = int(getattr(im, "n_frames", 1))
            if frames > 1:
                # Not the first frame silently: a multi-frame PNG is most likely a volume packed as frames, and
                # segmenting its first slice only would answer a question nobody asked.
                raise MRIError(
                    f"{name}: animated PNG with {frames} frames; an MRI slice must be one still 2-D image "
                    "(send a volume as NIfTI .nii / .nii.gz)"
                )
            if im.mode in ("I;16", "I;16B", "I;16L", "I", "F", "L"):
                arr = np.array(im)
            elif im.mode in ("LA", "P", "1"):
                arr = np.array(im.convert("L"))
            elif im.mode in ("RGB", "RGBA"):
                rgb = np.array(im.convert("RGB"))
                if not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])):
                    raise MRIError(f"{name}: colour PNG; an MRI slice must be a single-channel (grayscale) PNG")
                arr = rgb[..., 0]
            else:
                raise MRIError(f"{name}: PNG mode {im.mode} is not supported; send 8/16-bit grayscale")
    except MRIError:
        raise
    except Image.DecompressionBombError as e:
        raise MRIError(f"{name}: {e}", "too_large") from e
    except Exception as e:  # noqa: BLE001 - Pillow raises many types for corrupt files
        raise MRIError(f"{name}: not a readable PNG ({e})") from e
    return arr


def _npy_layout(name: str, data: bytes) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from the .npy header, checked against the bytes that follow it, before any allocation.

    Why before np.load: np.load trusts the header (a 60-byte file can promise terabytes, and a truncated one
    only fails deep inside NumPy with an EOF message that does not say what was expected).
    """
    fmt = np.lib.format
    f = io.BytesIO(data)
    try:
        version = fmt.read_magic(f)
        readers = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}
        if version not in readers:
            raise MRIError(f"{name}: .npy format version {version[0]}.{version[1]} is not accepted; send version 1.0 or 2.0 (numpy.save)")
        shape, _fortran, dtype = readers[version](f)
    except MRIError:
        raise
    except Exception as e:  # noqa: BLE001 - NumPy raises ValueError/SyntaxError/... for a bad header
        raise MRIError(f"{name}: not a readable .npy file: bad header ({e})") from e
    if dtype.hasobject:
        raise MRIError(f"{name}: object arrays are not accepted; send a numeric .npy")
    count = 1
    for n in shape:
        count *= int(n)
    expected, available = count * dtype.itemsize, len(data) - f.tell()
    if available < expected:
        raise MRIError(
            f"{name}: truncated .npy: the header promises shape {list(shape)} {dtype} ({expected} bytes of data) "
            f"but only {available} bytes follow it; send the complete file"
        )
    return tuple(int(n) for n in shape), dtype


def _decode_npy(name: str, data: bytes, max_side: int | None = None) -> np.ndarray:
    """A numeric .npy; with `max_side`, every axis but a last one of at most 4 is bounded before loading."""
    shape, _ = _npy_layout(name, data)
    if max_side is not None:
        plane = shape[:-1] if len(shape) == 3 and shape[-1] <= 4 else shape
        if any(n > max_side for n in plane):
            raise MRIError(f"{name}: .npy shape {list(shape)} is outside 1..{max_side} pixels per side", "too_large")
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as e:  # noqa: BLE001
        raise MRIError(f"{name}: not a readable .npy file ({e})") from e


def _decode_slice(name: str, data: bytes, limits: Limits) -> np.ndarray:
    kind = sniff(data)
    if kind == "png":
        arr = _decode_png(name, data, limits)
    elif kind == "npy":
        arr = _decode_npy(name, data, limits.max_input_side)
    else:
        raise MRIError(f"{name}: unrecognised file type; accepted: {ACCEPTED_FORMATS}", "unsupported")
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2:
        raise MRIError(f"{name}: a slice must be a 2-D array, got shape {list(arr.shape)}")
    _check_plane(name, arr.shape, limits)
    return check_array(name, arr)


def load_slices(files: Mapping[str, bytes], limits: Limits = Limits(), spacing: Sequence[float] | None = None) -> Scan:
    """Four 2-D slices (PNG or NPY), one per modality, keyed by modality name."""
    _check_modalities(list(files))
    arrays = [_decode_slice(m, files[m], limits) for m in MODALITIES]
    shapes = {m: a.shape for m, a in zip(MODALITIES, arrays)}
    if len(set(shapes.values())) != 1:
        raise MRIError("modalities differ in size: " + ", ".join(f"{m} {s[0]}x{s[1]}" for m, s in shapes.items()) + "; all four must have the same shape")
    data = np.stack(arrays, axis=-1)[None]
    return Scan(data, is_volume=False, spacing=_spacing2(spacing), source="slices")


def load_npy4(data: bytes, limits: Limits = Limits(), spacing: Sequence[float] | None = None) -> Scan:
    """One NPY of shape [H, W, 4], channels in the order FLAIR, T1, T1c, T2."""
    if sniff(data) != "npy":
        raise MRIError("image: expected a .npy file of shape [H, W, 4] (FLAIR, T1, T1c, T2)", "unsupported")
    arr = _decode_npy("image", data, limits.max_input_side)
    if arr.ndim != 3 or arr.shape[-1] != 4:
        raise MRIError(
            f"image: shape {list(arr.shape)}; a 4-channel NPY must be [H, W, 4] with channels FLAIR, T1, T1c, T2 "
            "(send four files for other layouts)"
        )
    _check_plane("image", arr.shape, limits)
    chans = [check_array(f"image channel {i} ({m})", arr[..., i]) for i, m in enumerate(MODALITIES)]
    return Scan(np.stack(chans, axis=-1)[None], is_volume=False, spacing=_spacing2(spacing), source="npy4")


def _spacing2(spacing: Sequence[float] | None) -> tuple[float, ...] | None:
    if spacing is None:
        return None
    sp = tuple(float(s) for s in spacing)
    if len(sp) not in (2, 3) or not all(np.isfinite(s) and s > 0 for s in sp):
        raise MRIError(f"spacing {list(spacing)}: give 2 (or 3) positive millimetre values, e.g. 1.0,1.0")
    return sp[:2]


NIFTI_HEADER_BYTES = 540  # the larger of the NIfTI-1 (348) and NIfTI-2 (540) headers


def _gunzip_prefix(name: str, data: bytes, size: int) -> tuple[bytes, bool]:
    """At most `size` decompressed bytes of a gzip stream, and whether the stream ended before that.

    Why not gzip.decompress: a few MB of .nii.gz can expand to gigabytes; only what the header promises is
    ever decompressed. Concatenated gzip members (valid gzip) are followed.
    """
    out = bytearray()
    rest = data
    try:
        while len(out) < size and rest:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out += d.decompress(rest, size - len(out))
            while len(out) < size and d.unconsumed_tail:
                out += d.decompress(d.unconsumed_tail, size - len(out))
            if not d.eof:
                return bytes(out), len(out) < size  # input exhausted mid-stream (or `size` reached)
            rest = d.unused_data
    except zlib.error as e:
        raise MRIError(f"{name}: corrupt gzip stream ({e})") from e
    return bytes(out), len(out) < size


def _nifti_header(name: str, head: bytes):
    """The NIfTI-1/2 header parsed from the first bytes (no voxel data read)."""
    import nibabel as nib

    if sniff(head) != "nifti":
        raise MRIError(f"{name}: not a NIfTI-1/2 file; accepted: {ACCEPTED_FORMATS}", "unsupported")
    le, be = int.from_bytes(head[:4], "little"), int.from_bytes(head[:4], "big")
    cls = nib.Nifti2Header if 540 in (le, be) else nib.Nifti1Header
    try:
        hdr = cls.from_fileobj(io.BytesIO(head[: cls.template_dtype.itemsize]))
        shape = tuple(int(n) for n in hdr.get_data_shape())
        dtype = hdr.get_data_dtype()
        offset = int(hdr.get_data_offset())
    except Exception as e:  # noqa: BLE001 - nibabel raises several types for a bad header
        raise MRIError(f"{name}: unreadable NIfTI header ({e})") from e
    return hdr, shape, dtype, offset


def _check_volume(name: str, shape: tuple[int, ...], limits: Limits) -> tuple[int, ...]:
    """The (X, Y, Z) of a NIfTI data shape (trailing singleton axes dropped), within the limits."""
    vol = shape
    while len(vol) > 3 and vol[-1] == 1:
        vol = vol[:-1]
    if len(vol) != 3:
        raise MRIError(f"{name}: NIfTI shape {list(shape)}; a volume per modality must be 3-D (X, Y, Z)")
    _check_plane(name, vol, limits)
    if vol[2] > limits.max_slices or int(np.prod(vol)) > limits.max_voxels:
        raise MRIError(
            f"{name}: volume {list(vol)} is too large: at most {limits.max_slices} slices and {limits.max_voxels} voxels per modality",
            "too_large",
        )
    return vol


def _read_nifti(name: str, data: bytes, limits: Limits | None = None):
    """A nibabel image whose header agrees with its data: shape, dtype and limits are checked from the header,
    and the file must hold every voxel the header promises (a truncated .nii / .nii.gz is a 422 naming both)."""
    import nibabel as nib

    gz = data.startswith(GZIP_MAGIC)
    head = _gunzip_prefix(name, data, NIFTI_HEADER_BYTES)[0] if gz else data[:NIFTI_HEADER_BYTES]
    if gz and len(head) < 348:
        raise MRIError(f"{name}: truncated .nii.gz: it decompresses to {len(head)} bytes, less than a NIfTI header (348); send the complete file")
    hdr, shape, dtype, offset = _nifti_header(name, head)
    if dtype.kind not in "uif" or dtype.name not in ACCEPTED_DTYPES:
        raise MRIError(f"{name}: unsupported NIfTI data type {dtype}; accepted: {', '.join(ACCEPTED_DTYPES)}")
    if limits is not None:
        _check_volume(name, shape, limits)
    fix_offset = offset < hdr.single_vox_offset  # vox_offset 0 (invalid in a .nii): nibabel would read the header as voxels
    if fix_offset:
        offset = hdr.single_vox_offset  # the data starts after the header + extension flag, as nibabel's own check fixes it
    expected = offset + int(np.prod(shape)) * dtype.itemsize
    if gz:
        raw, _ended = _gunzip_prefix(name, data, expected)
    else:
        raw = data[:expected]
    if len(raw) < expected:
        dims = "x".join(str(n) for n in shape)
        raise MRIError(
            f"{name}: truncated NIfTI{' (.nii.gz)' if gz else ''}: the header promises {dims} {dtype} voxels "
            f"({expected - offset} bytes from offset {offset}) but the file holds only {max(0, len(raw) - offset)} "
            "bytes of voxel data; send the complete file"
        )
    image_cls = nib.Nifti2Image if isinstance(hdr, nib.Nifti2Header) else nib.Nifti1Image
    if fix_offset:
        hdr["vox_offset"] = offset
        raw = hdr.binaryblock + raw[len(hdr.binaryblock):]
    try:
        return image_cls.from_bytes(raw)
    except Exception as e:  # noqa: BLE001
        raise MRIError(f"{name}: unreadable NIfTI ({e})") from e


def load_nifti(files: Mapping[str, bytes], limits: Limits = Limits()) -> Scan:
    """Four NIfTI volumes (.nii or .nii.gz), one per modality, same shape and affine."""
    _check_modalities(list(files))
    images = {m: _read_nifti(m, files[m], limits) for m in MODALITIES}
    shapes = {m: _check_volume(m, tuple(int(s) for s in img.shape), limits) for m, img in images.items()}
    if len(set(shapes.values())) != 1:
        raise MRIError("volumes differ in shape: " + ", ".join(f"{m} {list(s)}" for m, s in shapes.items()) + "; all four must match")
    shape = shapes[MODALITIES[0]]
    ref = images[MODALITIES[0]].affine
    for m in MODALITIES[1:]:
        if not np.allclose(images[m].affine, ref, atol=1e-3):
            raise MRIError(f"{m}: affine differs from flair's; the four volumes must be co-registered (same affine)")
    arrays = []
    for m in MODALITIES:
        try:
            arr = np.asarray(np.asanyarray(images[m].dataobj)).reshape(shape)
        except Exception as e:  # noqa: BLE001 - the header was checked against the size; anything left is corrupt data
            raise MRIError(f"{m}: the NIfTI voxel data could not be read ({e})") from e
        arrays.append(check_array(m, arr))
    data = np.stack(arrays, axis=-1)  # X, Y, Z, 4
    data = np.ascontiguousarray(np.moveaxis(data, 2, 0))  # Z, X, Y, 4
    first = images[MODALITIES[0]]
    zooms = tuple(float(z) for z in first.header.get_zooms()[:3])
    spacing = zooms if all(np.isfinite(z) and z > 0 for z in zooms) else None
    return Scan(data, is_volume=True, affine=np.asarray(ref, dtype=np.float64), header=first.header, spacing=spacing, source="nifti")


def load(files: Mapping[str, bytes], limits: Limits = Limits(), spacing: Sequence[float] | None = None) -> Scan:
    """Dispatch on what was sent: `image` (4-channel NPY) or the four modality fields (slices or NIfTI)."""
    names = list(files)
    if "image" in names:
        if len(names) != 1:
            raise MRIError(
                "send either one 4-channel NPY field 'image' or four fields flair, t1, t1c, t2, not both", "bad_request"
            )
        return load_npy4(files["image"], limits, spacing)
    _check_modalities(names)
    kinds = {m: sniff(files[m]) for m in MODALITIES}
    if all(k in ("nifti", "nifti-gz") for k in kinds.values()):
        return load_nifti(files, limits)
    if any(k in ("nifti", "nifti-gz") for k in kinds.values()):
        raise MRIError(
            "mixed inputs: " + ", ".join(f"{m}={k}" for m, k in kinds.items()) + "; send four NIfTI volumes or four 2-D slices",
            "bad_request",
        )
    return load_slices(files, limits, spacing)


# ---------------------------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Fit:
    """How a plane of `orig` size was padded/cropped to `size` (multiples of 16); `unfit` maps back."""

    orig: tuple[int, int]
    size: tuple[int, int]
    pad: tuple[tuple[int, int], tuple[int, int]]  # (before, after) per axis, >= 0
    crop: tuple[tuple[int, int], tuple[int, int]]  # (before, after) per axis removed from the input, >= 0


def plan_fit(shape: tuple[int, int], multiple: int = MULTIPLE, max_side: int = DEFAULT_MAX_SIDE) -> Fit:
    """Pad each side up to a multiple of 16 (centred); if that exceeds `max_side`, centre-crop to it instead."""
    max_side = max_side - max_side % multiple
    pads, crops, size = [], [], []
    for n in shape:
        target = -(-n // multiple) * multiple
        if target > max_side:
            cut = n - max_side
            crops.append((cut // 2, cut - cut // 2))
            pads.append((0, 0))
            size.append(max_side)
        else:
            extra = target - n
            pads.append((extra // 2, extra - extra // 2))
            crops.append((0, 0))
            size.append(target)
    return Fit(tuple(shape), tuple(size), tuple(pads), tuple(crops))  # type: ignore[arg-type]


def apply_fit(x: np.ndarray, fit: Fit, value: float | np.ndarray = 0.0) -> np.ndarray:
    """[B, H, W, C] -> [B, H', W', C]; padding uses `value` (per channel allowed: the z-scored background)."""
    (c0, c1), (d0, d1) = fit.crop
    x = x[:, c0 : x.shape[1] - c1, d0 : x.shape[2] - d1]
    (p0, p1), (q0, q1) = fit.pad
    if p0 or p1 or q0 or q1:
        out = np.empty((x.shape[0], x.shape[1] + p0 + p1, x.shape[2] + q0 + q1, x.shape[3]), dtype=x.dtype)
        out[...] = np.asarray(value, dtype=x.dtype)
        out[:, p0 : p0 + x.shape[1], q0 : q0 + x.shape[2]] = x
        x = out
    return x


def unfit(y: np.ndarray, fit: Fit, fill: float = 0.0) -> np.ndarray:
    """Inverse of :func:`apply_fit` for model outputs [B, H', W', ...]: drop padding, re-add cropped margins."""
    (p0, p1), (q0, q1) = fit.pad
    y = y[:, p0 : y.shape[1] - p1, q0 : y.shape[2] - q1]
    (c0, c1), (d0, d1) = fit.crop
    if c0 or c1 or d0 or d1:
        out = np.full((y.shape[0], fit.orig[0], fit.orig[1], *y.shape[3:]), fill, dtype=y.dtype)
        out[:, c0 : c0 + y.shape[1], d0 : d0 + y.shape[2]] = y
        y = out
    return y


# ---------------------------------------------------------------------------------------------- normalisation


@dataclass(frozen=True)
class Stats:
    """Global per-modality intensity statistics of a version's training set (an asset of the version)."""

    mean: tuple[float, float, float, float]
    std: tuple[float, float, float, float]
    modalities: tuple[str, ...] = field(default=MODALITIES)

    def as_dict(self) -> dict:
        return {"modalities": list(self.modalities), "mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, d: Mapping) -> "Stats":
        if list(d.get("modalities", MODALITIES)) != list(MODALITIES):
            raise ValueError(f"normalisation stats for modalities {d.get('modalities')}, expected {list(MODALITIES)}")
        mean, std = tuple(float(v) for v in d["mean"]), tuple(float(v) for v in d["std"])
        if len(mean) != 4 or len(std) != 4 or min(std) <= 0:
            raise ValueError("normalisation stats need 4 means and 4 positive stds")
        return cls(mean, std)  # type: ignore[arg-type]


class StatsAccumulator:
    """Streaming global mean/std per modality over everything the model is trained on (float64 sums)."""

    def __init__(self) -> None:
        self.n = 0
        self.s = np.zeros(4)
        self.ss = np.zeros(4)

    def add(self, x: np.ndarray, chunk: int = 1 << 20) -> None:
        flat = np.asarray(x).reshape(-1, 4)
        for i in range(0, flat.shape[0], chunk):  # bounded float64 temporaries
            part = flat[i : i + chunk].astype(np.float64)
            self.n += part.shape[0]
            self.s += part.sum(0)
            self.ss += (part**2).sum(0)

    def stats(self) -> Stats:
        mean = self.s / self.n
        std = np.sqrt(np.maximum(self.ss / self.n - mean**2, 1e-12))
        return Stats(tuple(mean.tolist()), tuple(std.tolist()))  # type: ignore[arg-type]


def zscore(x: np.ndarray, stats: Stats) -> np.ndarray:
    """(x - mean) / std per modality (last axis), float32."""
    mean = np.asarray(stats.mean, dtype=np.float32)
    std = np.asarray(stats.std, dtype=np.float32)
    return ((np.asarray(x, dtype=np.float32) - mean) / std).astype(np.float32, copy=False)


def model_input(scan: Scan, stats: Stats, limits: Limits = Limits()) -> tuple[np.ndarray, Fit]:
    """The model's `images` batch for a scan: fitted to multiples of 16 (background padding) and z-scored."""
    fit = plan_fit(scan.plane_shape, MULTIPLE, limits.max_side)
    return zscore(apply_fit(scan.data, fit, 0.0), stats), fit


# ---------------------------------------------------------------------------------------------- outputs


def mask_png(mask: np.ndarray) -> bytes:
    """Binary (H, W) mask as an 8-bit grayscale PNG (0 / 255)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def window(image: np.ndarray) -> np.ndarray:
    """Intensities to 0..255 between the 1st and 99th percentile of the non-zero pixels (display windowing)."""
    vals = image[image != 0]
    lo, hi = (np.percentile(vals, [1, 99]) if vals.size else (0.0, 1.0))
    if hi <= lo:
        hi = lo + 1.0
    return (np.clip((image - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8)


def overlay_png(flair: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int] = (255, 40, 40), alpha: float = 0.45) -> bytes:
    """The mask blended in colour over the windowed FLAIR slice, as an RGB PNG."""
    from PIL import Image

    g = window(np.asarray(flair, dtype=np.float32)).astype(np.float32)
    rgb = np.repeat(g[..., None], 3, axis=-1)
    m = np.asarray(mask, dtype=bool)
    rgb[m] = (1 - alpha) * rgb[m] + alpha * np.asarray(colour, dtype=np.float32)
    buf = io.BytesIO()
    Image.fromarray(rgb.round().astype(np.uint8), mode="RGB").save(buf, format="PNG")
    return buf.getvalue()


def nifti_mask(mask_zxy: np.ndarray, affine: np.ndarray, header: object | None = None) -> bytes:
    """A uint8 mask volume as .nii.gz bytes with the input's (X, Y, Z) shape, affine and spatial header fields.

    `mask_zxy` is in the module's slice-first layout [Z, X, Y]; it is written back as (X, Y, Z).
    """
    import nibabel as nib

    vol = np.ascontiguousarray(np.moveaxis(np.asarray(mask_zxy, dtype=np.uint8), 0, 2))
    hdr = None
    if header is not None:
        hdr = header.copy()
        hdr.set_data_dtype(np.uint8)
        hdr.set_slope_inter(1, 0)
    img = nib.Nifti1Image(vol, np.asarray(affine, dtype=np.float64), header=hdr)
    img.header.set_data_shape(vol.shape)
    img.header.set_data_dtype(np.uint8)
    img.header["descrip"] = b"unet tumour mask (1 = tumour)"
    raw = img.to_bytes()
    return gzip.compress(raw, compresslevel=3)


def read_nifti_bytes(data: bytes):
    """nibabel image from .nii / .nii.gz bytes (used by tests and clients)."""
    return _read_nifti("nifti", data)


def areas(mask: np.ndarray, spacing: Sequence[float] | None) -> dict:
    """Tumour size of a [Z, H, W] mask: pixel/voxel counts, per-slice areas and mm² / mm³ when spacing is known."""
    m = np.asarray(mask, dtype=bool)
    per_slice = m.reshape(m.shape[0], -1).sum(1).astype(int)
    out: dict = {"pixels": int(per_slice.sum()), "slice_pixels": per_slice.tolist()}
    if spacing is not None:
        px = float(spacing[0]) * float(spacing[1])
        out["slice_mm2"] = [round(float(p) * px, 4) for p in per_slice]
        out["mm2"] = round(float(per_slice.sum()) * px, 4)
        if len(spacing) >= 3:
            out["mm3"] = round(float(per_slice.sum()) * px * float(spacing[2]), 4)
    return out
