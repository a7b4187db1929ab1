"""Acceptance of the text-to-image family measured THROUGH the running stack, and its latency.

Starts `python -m modelserver` + `python -m gateway` on free ports over `--repo` (a repository holding a
trained text2image version), regenerates the held-out captions from the manifest's data seed (the same
captions training evaluated), asks the gateway for one image per caption (seed = caption index), and judges
the PNGs it returns with the attribute classifier stored in the version (`assets.extra/attribute_classifier.keras`).
Then times n = 1 and n = 16 requests end to end (HTTP client -> gateway -> gRPC -> modelserver -> back) against
the same work in-process (family preprocess -> the SavedModel's signature -> family postprocess).

    flock /tmp/cpu.lock .venv/bin/python scripts/eval_text2image_gateway.py --repo /tmp/t2i/accrepo
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

from common import repository as repo_mod  # noqa: E402
from common.manifest import assets_dir, read_manifest  # noqa: E402
from tests.utils.stack import Stack  # noqa: E402

CAPTION = "the petals on this flower are white with a yellow center"


def _decode(b64: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB"))


def _times(fn, reps: int) -> dict[str, float]:
    fn()  # warm
    ms = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t) * 1e3)
    ms.sort()
    return {"median_ms": round(statistics.median(ms), 1), "p90_ms": round(ms[int(0.9 * (len(ms) - 1))], 1), "reps": reps}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--captions", type=int, default=0, help="held-out captions to judge (0 = as many as training evaluated)")
    ap.add_argument("--reps", type=int, default=20, help="timed repetitions per latency figure")
    args = ap.parse_args()

    versions = repo_mod.list_versions(args.repo / "text2image")
    version = max(versions)
    vdir = args.repo / "text2image" / str(version)
    manifest = read_manifest(vdir)
    data = manifest["data"]

    import keras
    import tensorflow as tf

    from training.text2image import evaluate as ev
    from training.text2image import flowers

    test = flowers.generate(data["n_test"], data["seed"] + 2, held_out=True)
    n_caps = args.captions or manifest["hyperparameters"]["eval_captions"]
    truth = ev.eval_captions(test, n_caps, data["seed"] + 3)
    judge = keras.models.load_model(assets_dir(vdir) / ev.JUDGE_ASSET)
    hp = manifest["hyperparameters"]
    judge_set = ev.judge_renders(hp["judge_images"], data["seed"])
    histogram_judge = ev.HistogramJudge(judge_set.images, judge_set.petal_idx)

    report: dict = {"version": version, "preset": manifest["preset"], "manifest_held_out": manifest["metrics"]["held_out"]}
    with Stack(args.repo) as stack, httpx.Client(base_url=stack.url, timeout=120) as client:

        def predict(**inputs) -> dict:
            r = client.post("/predict", json={"model": "text2image", "version": version, "inputs": inputs})
            r.raise_for_status()
            return r.json()

        t0 = time.perf_counter()
        images = np.stack([_decode(predict(caption=cap, n=1, seed=i)["outputs"]["images"][0]) for i, (cap, _, _) in enumerate(truth)])
        report["through_gateway"] = {**ev.colour_accuracy(images, truth, judge, histogram_judge), "seconds": round(time.perf_counter() - t0, 1)}

        # latency: end to end over HTTP, plus the gateway's own stage timings
        latency: dict = {}
        for n in (1, 16):
            stages: list[dict] = []
            latency[f"n{n}_end_to_end"] = _times(lambda: stages.append(predict(caption=CAPTION, n=n, seed=1)["timing_ms"]), args.reps)
            latency[f"n{n}_gateway_stages_median_ms"] = {k: round(statistics.median(s[k] for s in stages), 1) for k in stages[0]}

    # in-process: the same family unit and the same graph, no HTTP, no gRPC
    from gateway.core.config import Settings
    from gateway.families.text2image import Text2ImageFamily

    fam = Text2ImageFamily()
    assets = fam.load_assets(vdir, manifest, Settings())
    loaded = tf.saved_model.load(str(vdir))
    serve = loaded.signatures["serving_default"]

    def in_process(n: int) -> None:
        inputs = fam.Inputs(caption=CAPTION, n=n, seed=1)
        prepared = fam.preprocess(inputs, assets)
        out = {k: v.numpy() for k, v in serve(**{k: tf.constant(v) for k, v in prepared.arrays.items()}).items()}
        fam.postprocess(out, assets, inputs, prepared.context)

    for n in (1, 16):
        latency[f"n{n}_in_process"] = _times(lambda: in_process(n), args.reps)
    report["latency"] = latency
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
