"""Seeded synthetic 4-modality brain MRI with exact tumour labels (BraTS stands in: it cannot be downloaded).

Why synthetic and why this way: labels must be exact, so everything is drawn from geometry in millimetres
(ellipsoidal head, scalp, skull, CSF, cortex with a wavy grey/white boundary, ventricles; lesions as perturbed
ellipsoids with a necrotic core (label 1), an enhancing rim (4) and surrounding edema (2), clipped to the brain).
Intensities follow each tissue's contrast in each modality (edema bright in FLAIR/T2, rim bright in T1c,
CSF dark in FLAIR and bright in T2, scalp fat bright in T1 — so a FLAIR threshold alone is not enough), then
partial-volume blur, per-case gains, a smooth multiplicative bias field and Rician noise.

A 2-D slice is the same model evaluated on one axial plane (Z = 1), so training slices and the slices of a
volume share their statistics (texture fields are normalised to unit variance in both cases).
Arrays follow nibabel's layout: image (X, Y, Z, 4) in the order FLAIR, T1, T1c, T2; label (X, Y, Z) uint8.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from common.mri import MODALITIES

LABELS = {"necrotic": 1, "edema": 2, "enhancing": 4}

# Tissue contrasts (FLAIR, T1, T1c, T2), arbitrary units before the per-case gain and x1000 scale.
TISSUE = {
    "scalp": (0.55, 0.90, 0.90, 0.65),
    "skull": (0.08, 0.10, 0.10, 0.08),
    "csf": (0.12, 0.18, 0.18, 1.00),
    "gm": (0.52, 0.45, 0.47, 0.60),
    "wm": (0.42, 0.68, 0.68, 0.42),
    "edema": (0.88, 0.38, 0.40, 0.85),
    "enhancing": (0.72, 0.42, 1.05, 0.62),
    "necrotic": (0.50, 0.22, 0.24, 0.95),
}
SCALE = 1000.0
DEFAULT_SPACING = (1.0, 1.0, 1.0)  # mm, as BraTS (resampled to 1 mm isotropic)


@dataclass(frozen=True)
class Lesion:
    centre: np.ndarray  # mm
    axes: np.ndarray  # mm, semi-axes of the enhancing boundary
    rotation: np.ndarray  # 3x3
    necrotic_frac: float  # 0 = no necrotic core
    edema_scale: float
    shape_terms: tuple  # (directions [k,3], freqs [k], phases [k], amps [k]) for the tumour
    edema_terms: tuple


@dataclass
class Case:
    image: np.ndarray  # float32 (X, Y, Z, 4)
    label: np.ndarray  # uint8 (X, Y, Z)
    spacing: tuple[float, float, float]
    affine: np.ndarray
    lesions: int


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.diag(r))


def _terms(rng: np.random.Generator, k: int = 4, amp: float = 0.14) -> tuple:
    dirs = rng.normal(size=(k, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    return dirs, rng.uniform(2.0, 4.5, k), rng.uniform(0, 2 * np.pi, k), rng.uniform(0, amp, k)


def _radial(u: np.ndarray, terms: tuple) -> np.ndarray:
    """1 + smooth function of direction: lumpy, non-ellipsoidal lesion outlines."""
    dirs, freqs, phases, amps = terms
    g = np.ones(u.shape[:-1], dtype=np.float32)
    for d, f, p, a in zip(dirs, freqs, phases, amps):
        g += a * np.cos(f * (u @ d) + p)
    return g


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma_vox: tuple[float, ...]) -> np.ndarray:
    """Gaussian-smoothed noise normalised to unit std (2-D and 3-D fields then have the same amplitude)."""
    field = rng.standard_normal(shape, dtype=np.float32)
    field = ndimage.gaussian_filter(field, sigma=[s if n > 1 else 0 for s, n in zip(sigma_vox, shape)], mode="reflect")
    std = float(field.std())
    return field / std if std > 0 else field


def affine_for(shape: tuple[int, int, int], spacing: tuple[float, float, float]) -> np.ndarray:
    """LPS-to-RAS-style scanner affine (x and y flipped), centred on the volume: what BraTS NIfTIs carry."""
    sx, sy, sz = spacing
    aff = np.diag([-sx, -sy, sz, 1.0])
    aff[:3, 3] = [sx * (shape[0] - 1) / 2, sy * (shape[1] - 1) / 2, -sz * (shape[2] - 1) / 2]
    return aff


class Generator:
    """One case (a volume or a slice) per call, reproducible from (seed, index)."""

    def __init__(self, seed: int = 0, spacing: tuple[float, float, float] = DEFAULT_SPACING) -> None:
        self.seed = seed
        self.spacing = tuple(float(s) for s in spacing)

    # ------------------------------------------------------------------ anatomy

    def _head(self, rng: np.random.Generator) -> np.ndarray:
        return np.array([rng.uniform(68, 78), rng.uniform(86, 98), rng.uniform(64, 72)])

    def _lesions(self, rng: np.random.Generator, head: np.ndarray, count: int, near_z: float | None) -> list[Lesion]:
        out = []
        for _ in range(count):
            for _attempt in range(200):
                c = rng.uniform(-0.62, 0.62, 3) * head * 0.85
                if near_z is not None:
                    c[2] = near_z + rng.uniform(-12, 12)
                if np.sum((c / (head * 0.85)) ** 2) < 0.45:
                    break
            else:  # a plane near the top/bottom of the brain: put the lesion as close to it as the brain allows
                c = rng.uniform(-0.3, 0.3, 3) * head * 0.85
                c[2] = np.sign(near_z or 1.0) * 0.5 * head[2] * 0.85
            r = rng.uniform(5, 20)
            axes = r * rng.uniform(0.7, 1.3, 3)
            nec = 0.0 if rng.random() < 0.3 else rng.uniform(0.3, 0.7)
            out.append(Lesion(c, axes, _rotation(rng), nec, rng.uniform(1.3, 2.3), _terms(rng), _terms(rng, amp=0.2)))
        return out

    def _render(self, rng: np.random.Generator, shape: tuple[int, int, int], z_mm: np.ndarray, head: np.ndarray, lesions: list[Lesion]) -> tuple[np.ndarray, np.ndarray]:
        sx, sy, sz = self.spacing
        X, Y, Z = shape
        x = ((np.arange(X, dtype=np.float32) - (X - 1) / 2) * sx)[:, None, None]
        y = ((np.arange(Y, dtype=np.float32) - (Y - 1) / 2) * sy)[None, :, None]
        z = np.asarray(z_mm, dtype=np.float32)[None, None, :]
        sig = (1.0 / sx, 1.0 / sy, 1.0 / sz)
        # Normalised ellipsoidal radius of the head, with a smoothly wavy brain surface and cortex.
        r = np.sqrt((x / head[0]) ** 2 + (y / head[1]) ** 2 + (z / head[2]) ** 2)
        wav = _smooth_noise(rng, shape, tuple(4 * s for s in sig))
        fold = _smooth_noise(rng, shape, tuple(2.5 * s for s in sig))
        tissue = np.zeros(shape, dtype=np.int8)  # 0 bg, 1 scalp, 2 skull, 3 csf, 4 gm, 5 wm
        rb = r + 0.012 * wav
        tissue[r < 1.0] = 1
        tissue[r < 0.93] = 2
        tissue[rb < 0.875] = 3
        tissue[rb < 0.85] = 4
        tissue[rb + 0.035 * fold < 0.76] = 5
        brain = rb < 0.85
        # Ventricles: two ellipsoids beside the midline.
        for side in (-1, 1):
            vc = np.array([side * head[0] * 0.12, head[1] * 0.05, head[2] * 0.12])
            va = np.array([head[0] * 0.08, head[1] * 0.3, head[2] * 0.16]) * rng.uniform(0.8, 1.2)
            tissue[((x - vc[0]) / va[0]) ** 2 + ((y - vc[1]) / va[1]) ** 2 + ((z - vc[2]) / va[2]) ** 2 < 1] = 3
        label = np.zeros(shape, dtype=np.uint8)
        for les in lesions:
            self._paint_lesion(les, x, y, z, brain, label)
        # Intensities per tissue and modality, with per-case jitter, texture, blur, gain, bias and noise.
        names = ["bg", "scalp", "skull", "csf", "gm", "wm"]
        texture = _smooth_noise(rng, shape, tuple(1.2 * s for s in sig))
        img = np.zeros((*shape, 4), dtype=np.float32)
        for m in range(4):
            lut = np.zeros(9, dtype=np.float32)
            for i, name in enumerate(names[1:], start=1):
                lut[i] = TISSUE[name][m] * rng.uniform(0.95, 1.05)
            chan = lut[tissue]
            for name, lab in LABELS.items():
                sel = label == lab
                if sel.any():
                    chan[sel] = TISSUE[name][m] * rng.uniform(0.93, 1.07)
            amp = np.where(label > 0, 0.09, 0.045).astype(np.float32)
            chan = chan * (1 + amp * texture) * (tissue > 0)
            img[..., m] = ndimage.gaussian_filter(chan, sigma=[0.6 * s if n > 1 else 0 for s, n in zip(sig, shape)])
        bias = np.zeros(shape, dtype=np.float32)
        for _ in range(3):
            k = rng.normal(size=3) / rng.uniform(150, 300)
            bias += np.cos(2 * np.pi * (k[0] * x + k[1] * y + k[2] * z) + rng.uniform(0, 2 * np.pi)).astype(np.float32)
        bias = np.exp(0.08 * bias)
        gains = rng.uniform(0.8, 1.2, 4).astype(np.float32)
        sigma_n = 0.025
        for m in range(4):
            clean = img[..., m] * bias * gains[m]
            n1 = rng.standard_normal(shape, dtype=np.float32) * sigma_n
            n2 = rng.standard_normal(shape, dtype=np.float32) * sigma_n
            img[..., m] = np.sqrt((clean + n1) ** 2 + n2**2) * SCALE  # Rician magnitude noise
        return img, label

    @staticmethod
    def _paint_lesion(les: Lesion, x: np.ndarray, y: np.ndarray, z: np.ndarray, brain: np.ndarray, label: np.ndarray) -> None:
        reach = float(les.axes.max() * les.edema_scale * 1.3)
        ix = np.nonzero(np.abs(x[:, 0, 0] - les.centre[0]) < reach)[0]
        iy = np.nonzero(np.abs(y[0, :, 0] - les.centre[1]) < reach)[0]
        iz = np.nonzero(np.abs(z[0, 0, :] - les.centre[2]) < reach)[0]
        if not (ix.size and iy.size and iz.size):
            return
        sl = (slice(ix[0], ix[-1] + 1), slice(iy[0], iy[-1] + 1), slice(iz[0], iz[-1] + 1))
        p = np.stack(np.broadcast_arrays(x[sl[0]], y[:, sl[1]], z[:, :, sl[2]]), axis=-1) - les.centre.astype(np.float32)
        local = p @ les.rotation.astype(np.float32)  # rotated frame
        q = local / les.axes.astype(np.float32)
        norm = np.linalg.norm(q, axis=-1)
        u = q / np.maximum(norm, 1e-6)[..., None]
        d_t = norm / _radial(u, les.shape_terms)
        d_e = norm / (les.edema_scale * _radial(u, les.edema_terms))
        sub = label[sl]
        inside = brain[sl]
        new = np.zeros_like(sub)
        new[d_e < 1] = LABELS["edema"]
        new[d_t < 1] = LABELS["enhancing"]
        if les.necrotic_frac > 0:
            new[d_t < les.necrotic_frac] = LABELS["necrotic"]
        new[~inside] = 0
        # Overlapping lesions: the more severe label wins (necrotic/enhancing over edema).
        rank = np.array([0, 3, 1, 0, 2], dtype=np.int8)
        take = rank[new] > rank[sub]
        sub[take] = new[take]

    # ------------------------------------------------------------------ public API

    def volume(self, index: int, shape: tuple[int, int, int] = (240, 240, 155), lesions: int | None = None) -> Case:
        """A 3-D case; `lesions=None` draws 0..3 lesions (about 1 in 8 cases tumour-free)."""
        rng = np.random.default_rng([self.seed, 1, index])
        head = self._head(rng)
        count = int(rng.choice([0, 1, 1, 1, 2, 2, 3, 3])) if lesions is None else lesions
        les = self._lesions(rng, head, count, None)
        z_mm = (np.arange(shape[2]) - (shape[2] - 1) / 2) * self.spacing[2] + rng.uniform(-8, 8)
        img, label = self._render(rng, shape, z_mm, head, les)
        return Case(img, label, self.spacing, affine_for(shape, self.spacing), count)

    def slice(self, index: int, shape: tuple[int, int] = (240, 240), lesions: int | None = None) -> Case:
        """One axial plane through a random head; lesions are placed near the plane so most slices show tumour."""
        rng = np.random.default_rng([self.seed, 2, index])
        head = self._head(rng)
        z = rng.uniform(-0.75, 0.75) * head[2]
        count = int(rng.choice([0, 1, 1, 1, 2, 2, 3])) if lesions is None else lesions
        les = self._lesions(rng, head, count, z)
        img, label = self._render(rng, (shape[0], shape[1], 1), np.array([z]), head, les)
        return Case(img, label, self.spacing, affine_for((shape[0], shape[1], 1), self.spacing), count)

    def slices(self, start: int, count: int, shape: tuple[int, int] = (240, 240)) -> tuple[np.ndarray, np.ndarray]:
        """`count` slices as ([N, H, W, 4] float32, [N, H, W] uint8)."""
        imgs = np.empty((count, *shape, 4), dtype=np.float32)
        labs = np.empty((count, *shape), dtype=np.uint8)
        for i in range(count):
            c = self.slice(start + i, shape)
            imgs[i], labs[i] = c.image[:, :, 0], c.label[:, :, 0]
        return imgs, labs


def write_nifti(case: Case, directory: Path, name: str, dtype: str = "int16") -> dict[str, Path]:
    """One .nii.gz per modality plus `<name>_seg.nii.gz` (the BraTS file layout), with affine and spacing."""
    import nibabel as nib

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for m, mod in enumerate(MODALITIES):
        data = case.image[..., m]
        if np.dtype(dtype).kind in "iu":
            data = np.clip(np.rint(data), 0, np.iinfo(dtype).max)
        img = nib.Nifti1Image(data.astype(dtype), case.affine)
        img.header.set_zooms(case.spacing)
        img.header.set_xyzt_units("mm", "sec")
        paths[mod] = directory / f"{name}_{mod}.nii.gz"
        nib.save(img, paths[mod])
    seg = nib.Nifti1Image(case.label.astype(np.uint8), case.affine)
    seg.header.set_zooms(case.spacing)
    seg.header.set_xyzt_units("mm", "sec")
    paths["seg"] = directory / f"{name}_seg.nii.gz"
    nib.save(seg, paths["seg"])
    return paths


def task_mask(label: np.ndarray, task: str) -> np.ndarray:
    """The binary target of a task: all = whole tumour, core = necrotic + enhancing, enhancing = label 4."""
    if task == "all":
        return label > 0
    if task == "core":
        return (label == 1) | (label == 4)
    if task == "enhancing":
        return label == 4
    raise ValueError(f"unknown task {task!r}; choose all, core or enhancing")
