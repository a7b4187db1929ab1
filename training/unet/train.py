"""Train, evaluate and publish the `unet` servable (`servectl train unet --preset tiny|book`).

Data: seeded synthetic slices (training) and held-out synthetic 3-D volumes (evaluation, different seed
stream), or — with `--data DIR` — BraTS-layout NIfTI cases `<case>_{flair,t1,t1c,t2,seg}.nii.gz` whose
axial slices are used for training (evaluation stays on held-out synthetic volumes unless `eval_data` is set).
The global per-modality mean/std of the training slices is stored as the asset `normalization.json`; the
gateway z-scores with exactly these numbers (`common.mri.zscore`).

Why the tiny preset trains on 64x64 crops: the U-Net is fully convolutional, so a model trained on crops at
the full 1 mm resolution runs unchanged on 240x240 slices (the contract allows any H, W that is a multiple of
16); crops cost ~14x less than whole slices on the 2 shared CPU cores.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from common import mri
from common.manifest import hash_bytes
from training.registry import TrainingFamily, register
from training.unet import evaluate as ev
from training.unet.model import augment, build_unet, dice_loss
from training.unet.synth import Generator, task_mask


@dataclass(frozen=True)
class Preset:
    width: int = 8  # channels of the first level (the book: 64 -> 1024 at the bottom)
    depth: int = 4
    task: str = "all"  # all | core | enhancing
    train_slices: int = 800
    crop: int = 64  # training patch side (0 = whole slices); must be a multiple of 16
    epochs: int = 6
    batch: int = 16
    lr: float = 2e-3
    augment: float = 0.5  # probability that a slice is augmented in an epoch
    val_volumes: int = 3
    val_shape: tuple[int, int, int] = (240, 240, 155)
    threshold: float = 0.5
    seed: int = 0


PRESETS: dict[str, Preset] = {
    "tiny": Preset(),
    # The book: 64..1024 channels, whole 240x240 slices, lr 1e-4, batch 10, 100 epochs (GPU).
    "book": Preset(width=64, train_slices=20000, crop=0, epochs=100, batch=10, lr=1e-4, val_volumes=20),
}

OPTIONS = {f.name: f"override the preset's {f.name} (default tiny: {getattr(PRESETS['tiny'], f.name)})" for f in dataclasses.fields(Preset)}
OPTIONS.update({"eval_data": "directory of held-out BraTS-layout NIfTI cases to evaluate on instead of synthetic volumes",
                "logdir": "TensorBoard log directory"})

TRAIN_SEED_OFFSET, VAL_SEED_OFFSET = 0, 10_000


def resolve(preset: str, **overrides: Any) -> Preset:
    """The preset with `--set k=v` overrides cast to the field's type."""
    base = PRESETS[preset]
    changes = {}
    for key, value in overrides.items():
        if key in ("eval_data", "logdir"):
            continue
        if key not in OPTIONS:
            raise ValueError(f"unknown unet option {key!r}; known: {', '.join(sorted(OPTIONS))}")
        current = getattr(base, key)
        if isinstance(value, str):
            if isinstance(current, tuple):
                value = tuple(int(v) for v in value.replace("x", ",").split(","))
            else:
                value = type(current)(value)
        changes[key] = value
    return dataclasses.replace(base, **changes)


def nifti_cases(directory: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """BraTS-layout cases as (image [Z, X, Y, 4], label [Z, X, Y])."""
    import nibabel as nib

    cases = []
    for seg in sorted(Path(directory).glob("*_seg.nii*")):
        stem = seg.name.split("_seg.nii")[0]
        ext = seg.name[len(stem) + 4 :]
        files = {m: (seg.parent / f"{stem}_{m}{ext}").read_bytes() for m in mri.MODALITIES}
        scan = mri.load_nifti(files)
        label = np.moveaxis(np.asarray(nib.load(seg).dataobj).astype(np.uint8), 2, 0)
        cases.append((scan.data, label))
    if not cases:
        raise FileNotFoundError(f"{directory}: no <case>_seg.nii[.gz] files with flair/t1/t1c/t2 beside them")
    return cases


def training_slices(p: Preset, data: Path | None) -> tuple[np.ndarray, np.ndarray, str]:
    """Raw training slices [N, H, W, 4], binary targets [N, H, W] and the data hash for the manifest."""
    if data is not None:
        imgs, labs = [], []
        for image, label in nifti_cases(data):
            keep = np.nonzero(image[..., 0].reshape(len(image), -1).max(1) > 0)[0]
            imgs.append(image[keep])
            labs.append(label[keep])
        x, lab = np.concatenate(imgs), np.concatenate(labs)
        desc = f"nifti:{data}"
    else:
        x, lab = Generator(p.seed + TRAIN_SEED_OFFSET).slices(0, p.train_slices)
        desc = f"synthetic-slices:seed={p.seed + TRAIN_SEED_OFFSET}:n={p.train_slices}"
    y = task_mask(lab, p.task).astype(np.float32)
    return x, y, hash_bytes(desc.encode(), x[:: max(1, len(x) // 64)].tobytes(), y.tobytes())


def _crop(x: np.ndarray, y: np.ndarray, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A size x size patch, centred near tumour in 2 of 3 cases so positives are not starved."""
    h, w = y.shape
    ys, xs = np.nonzero(y)
    if ys.size and rng.random() < 0.67:
        k = rng.integers(ys.size)
        cy, cx = ys[k] + rng.integers(-size // 4, size // 4 + 1), xs[k] + rng.integers(-size // 4, size // 4 + 1)
    else:
        cy, cx = rng.integers(size // 2, h - size // 2 + 1), rng.integers(size // 2, w - size // 2 + 1)
    y0 = int(np.clip(cy - size // 2, 0, h - size))
    x0 = int(np.clip(cx - size // 2, 0, w - size))
    return x[y0 : y0 + size, x0 : x0 + size], y[y0 : y0 + size, x0 : x0 + size]


def epoch_batches(x: np.ndarray, y: np.ndarray, p: Preset, stats: mri.Stats, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One epoch of cropped, augmented, z-scored training pairs (augmentation on raw intensities, so the
    zero-filled corners it introduces equal the background the gateway pads with; crop first: 14x cheaper)."""
    xs, ys = [], []
    for i in rng.permutation(len(x)):
        xi, yi = x[i], y[i]
        if p.crop:
            xi, yi = _crop(xi, yi, p.crop, rng)
        if rng.random() < p.augment:
            xi, yi = augment(xi, yi, rng)
        xs.append(xi)
        ys.append(yi)
    return mri.zscore(np.stack(xs), stats), np.stack(ys)[..., None]


def export_fn(model):
    """`write_savedmodel` for training.export: serving_default(images [B,H,W,4]) -> {probabilities [B,H,W,1]}."""
    import tensorflow as tf

    from training.export import keras_writer

    return keras_writer(model, {"serving_default": (
        lambda images: {"probabilities": model(images, training=False)},
        [tf.TensorSpec([None, None, None, 4], tf.float32, name="images")],
    )})


def train(preset: str = "tiny", data: Path | None = None, repo: Path | None = None, **options: Any):
    """Train -> evaluate on held-out volumes (model and Otsu) -> publish with metrics in the manifest."""
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    import keras

    from training.export import ExportSpec, publish

    p = resolve(preset, **options)
    if p.crop % mri.MULTIPLE:
        raise ValueError(f"crop {p.crop} must be a multiple of {mri.MULTIPLE}")
    keras.utils.set_random_seed(p.seed)
    rng = np.random.default_rng(p.seed)
    t0 = time.time()
    x, y, data_hash = training_slices(p, Path(data) if data else None)
    acc = mri.StatsAccumulator()
    acc.add(x)
    stats = acc.stats()
    print(f"[unet] {len(x)} training slices ({time.time() - t0:.0f}s), stats mean={np.round(stats.mean, 1)} std={np.round(stats.std, 1)}", flush=True)

    model = build_unet(p.width, p.depth)
    model.compile(optimizer=keras.optimizers.Adam(p.lr), loss=dice_loss)
    logdir = Path(options.get("logdir") or Path(tempfile.gettempdir()) / "tl-serving-runs" / f"unet-{time.strftime('%Y%m%d-%H%M%S')}")
    callbacks = [keras.callbacks.TensorBoard(log_dir=str(logdir), write_graph=False)]
    history = []
    for epoch in range(p.epochs):
        xb, yb = epoch_batches(x, y, p, stats, rng)
        h = model.fit(xb, yb, batch_size=p.batch, epochs=epoch + 1, initial_epoch=epoch, verbose=2, callbacks=callbacks, shuffle=True)
        history.append(float(h.history["loss"][-1]))

    t1 = time.time()
    if options.get("eval_data"):
        from training.unet.synth import Case

        cases = [Case(np.moveaxis(img, 0, 2), np.moveaxis(lab, 0, 2), (1.0, 1.0, 1.0), np.eye(4), -1) for img, lab in nifti_cases(Path(options["eval_data"]))]
        eval_desc = f"nifti:{options['eval_data']}"
    else:
        val = Generator(p.seed + VAL_SEED_OFFSET)
        cases = (val.volume(i, p.val_shape, lesions=1 + i % 3) for i in range(p.val_volumes))
        eval_desc = f"synthetic-volumes:seed={p.seed + VAL_SEED_OFFSET}:n={p.val_volumes}:shape={list(p.val_shape)}:lesions=1+i%3"

    def predict(batch: np.ndarray) -> np.ndarray:
        return model.predict_on_batch(batch)

    metrics = ev.evaluate(predict, cases, stats, p.task, p.threshold)
    print(f"[unet] held-out ({time.time() - t1:.0f}s): model {metrics['model']}\n        otsu  {metrics['otsu_flair']}", flush=True)

    warm = Generator(p.seed + VAL_SEED_OFFSET + 1).slice(0).image[:, :, 0][None]
    warm_x, _ = mri.model_input(mri.Scan(warm, is_volume=False), stats)
    spec = ExportSpec(
        model="unet",
        family="unet",
        preset=preset,
        write_savedmodel=export_fn(model),
        warmup_inputs={"images": warm_x},
        training_data_hash=data_hash,
        metrics={
            "task": p.task,
            "threshold": p.threshold,
            "eval_set": eval_desc,
            "held_out": metrics["model"],
            "otsu_flair_baseline": metrics["otsu_flair"],
            "final_train_dice_loss": round(history[-1], 4) if history else None,
            "train_seconds": round(t1 - t0, 1),
        },
        preprocessing={
            "modalities": list(mri.MODALITIES),
            "layout": "images [B, H, W, 4]; B = axial slices volume[:, :, k]; H, W multiples of 16",
            "normalisation": "z-score with global per-modality training mean/std (assets.extra/normalization.json)",
            "stats": stats.as_dict(),
            "pad": "raw intensity 0 (background), centred, to the next multiple of 16",
            "multiple": mri.MULTIPLE,
            "task": p.task,
        },
        assets={"normalization.json": json.dumps(stats.as_dict(), indent=2).encode()},
        extra={"preset_config": dataclasses.asdict(p), "tensorboard_logdir": str(logdir), "task": p.task},
    )
    published = publish(spec, repo)
    print(f"[unet] published {published.model} version {published.version} at {published.path}", flush=True)
    return published


register(TrainingFamily("unet", ("unet",), train, OPTIONS))
