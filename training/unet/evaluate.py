"""Held-out evaluation of a segmenter: soft dice, hard dice (threshold 0.5) and IoU, per slice (the book's way)
and per 3-D volume, for the model and for an Otsu-threshold-on-FLAIR baseline measured the same way.

`predict` is any function from the model's `images` batch [B, H, W, 4] (z-scored, fitted) to probabilities
[B, H, W, 1]: an in-process Keras model, a loaded SavedModel, or the gateway (scripts/eval_unet_gateway.py).
Volumes go through `common.mri` exactly as the gateway sends them.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from common import mri
from training.unet.synth import Case, task_mask

SMOOTH = 1e-5  # as tl.cost.dice_coe: two empty masks have dice 1


def dice(pred: np.ndarray, truth: np.ndarray, smooth: float = SMOOTH) -> float:
    pred = np.asarray(pred, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64)
    return float((2 * (pred * truth).sum() + smooth) / (pred.sum() + truth.sum() + smooth))


def iou(pred: np.ndarray, truth: np.ndarray, smooth: float = SMOOTH) -> float:
    p, t = np.asarray(pred, dtype=bool), np.asarray(truth, dtype=bool)
    return float(((p & t).sum() + smooth) / ((p | t).sum() + smooth))


def scores(prob_zxy: np.ndarray, truth_zxy: np.ndarray, threshold: float = 0.5) -> dict[str, list[float] | float]:
    """Per-volume and per-slice metrics for one case; arrays are [Z, X, Y]."""
    hard = prob_zxy >= threshold
    per_slice = {
        "soft_dice": [dice(p, t) for p, t in zip(prob_zxy, truth_zxy)],
        "hard_dice": [dice(h, t) for h, t in zip(hard, truth_zxy)],
        "iou": [iou(h, t) for h, t in zip(hard, truth_zxy)],
        "has_tumour": [bool(t.any()) for t in truth_zxy],
    }
    return {
        "volume": {"soft_dice": dice(prob_zxy, truth_zxy), "hard_dice": dice(hard, truth_zxy), "iou": iou(hard, truth_zxy)},
        "slice": per_slice,
    }


def summarise(per_case: list[dict]) -> dict[str, float]:
    """Means over volumes (per-volume metrics) and over all slices of all volumes (book's per-slice metrics)."""
    out: dict[str, float] = {"volumes": len(per_case)}
    for k in ("soft_dice", "hard_dice", "iou"):
        out[f"volume_{k}"] = round(float(np.mean([c["volume"][k] for c in per_case])), 4)
        vals = np.concatenate([c["slice"][k] for c in per_case])
        has = np.concatenate([c["slice"]["has_tumour"] for c in per_case])
        out[f"slice_{k}"] = round(float(vals.mean()), 4)
        out[f"slice_{k}_tumour_slices"] = round(float(vals[has].mean()), 4) if has.any() else float("nan")
    out["volume_hard_dice_min"] = round(float(min(c["volume"]["hard_dice"] for c in per_case)), 4)
    return out


def predict_case(predict: Callable[[np.ndarray], np.ndarray], case: Case, stats: mri.Stats, batch: int = 16) -> np.ndarray:
    """Probabilities [Z, X, Y] for a synthetic case, preprocessed by `common.mri` as the gateway does it."""
    scan = mri.Scan(np.ascontiguousarray(np.moveaxis(case.image, 2, 0)), is_volume=True, affine=case.affine, spacing=case.spacing)
    x, fit = mri.model_input(scan, stats)
    probs = np.concatenate([predict(x[i : i + batch]) for i in range(0, len(x), batch)])
    return mri.unfit(probs, fit)[..., 0]


def otsu_flair(case: Case) -> np.ndarray:
    """Baseline: two-stage Otsu on the FLAIR volume — first head vs background, then (inside the head) bright vs
    the rest, which is what a FLAIR hyperintensity threshold can do without learning. Returns [Z, X, Y] 0/1."""
    from skimage.filters import threshold_otsu

    flair = np.moveaxis(case.image[..., 0], 2, 0)
    head = flair > threshold_otsu(flair)
    t = threshold_otsu(flair[head])
    return ((flair > t) & head).astype(np.float32)


def evaluate(predict: Callable[[np.ndarray], np.ndarray], cases: Iterable[Case], stats: mri.Stats, task: str = "all",
             threshold: float = 0.5) -> dict[str, dict[str, float]]:
    """Model and Otsu baseline on the same held-out cases, the same metrics."""
    model_scores, otsu_scores = [], []
    for case in cases:
        truth = np.moveaxis(task_mask(case.label, task), 2, 0)
        model_scores.append(scores(predict_case(predict, case, stats), truth, threshold))
        otsu_scores.append(scores(otsu_flair(case), truth, threshold))
    return {"model": summarise(model_scores), "otsu_flair": summarise(otsu_scores)}
