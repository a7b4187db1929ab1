"""Held-out evaluation of SRGAN generators against the bicubic baseline.

TF-free on purpose: `evaluate` takes any `upscale(lr_uint8) -> sr_uint8` callable, so training (in-process
Keras generator) and `scripts/eval_srgan_gateway.py` (the served model through the gateway) compute the
numbers with the same code. Metrics: PSNR and SSIM on RGB and on Y (BT.601), 4-pixel border crop
(`common.superres.quality`), per image and averaged over the fixed held-out set.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from common import superres as sr
from training.srgan.data import HeldOutPair

METRICS = ("psnr_rgb", "psnr_y", "ssim_rgb", "ssim_y")


def _mean(rows: Iterable[dict[str, float]]) -> dict[str, float]:
    rows = list(rows)
    return {k: round(float(np.mean([r[k] for r in rows])), 4) for k in METRICS}


def bicubic_baseline(pairs: list[HeldOutPair]) -> dict:
    per_image = {p.name: sr.quality(p.hr, sr.upscale_bicubic(p.lr)) for p in pairs}
    return {"mean": _mean(per_image.values()), "per_image": {k: _round(v) for k, v in per_image.items()}}


def evaluate(upscale: Callable[[np.ndarray], np.ndarray], pairs: list[HeldOutPair]) -> dict:
    """Mean and per-image metrics of `upscale` on the held-out pairs."""
    per_image = {}
    for p in pairs:
        out = upscale(p.lr)
        if out.shape != p.hr.shape:
            raise ValueError(f"{p.name}: upscaled shape {out.shape} != HR shape {p.hr.shape}")
        per_image[p.name] = sr.quality(p.hr, out)
    return {"mean": _mean(per_image.values()), "per_image": {k: _round(v) for k, v in per_image.items()}}


def gain(result: dict, baseline: dict, metric: str = "psnr_rgb") -> float:
    return round(result["mean"][metric] - baseline["mean"][metric], 4)


def _round(d: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in d.items()}
