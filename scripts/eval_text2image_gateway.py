"""Acceptance of the text-to-image family measured THROUGH the running stack, and its latency.

Starts `python -m modelserver` + `python -m gateway` on free ports over `--repo` (a repository holding a
trained text2image version), regenerates the held-out captions from the manifest's data seed (the same
captions training evaluated), asks the gateway for one image per caption (seed = caption index), and judges
the PNGs it returns with the attribute classifier stored in the version (`assets.extra/attribute_classifier.keras`).
The diversity ratio and the Frechet distance on judge features are measured the same way, from images the
gateway returns (`evaluate.diversity` / `evaluate.frechet` with the gateway as the generator), and
`GET /models/text2image` must show the version's metrics. Determinism: the same seed twice gives the same
bytes, and four seeds of one caption four different images (their smallest pairwise L1 is reported).
With `--grid PNG`, it writes the docs' figure: held-out captions (rows) x seeds (columns) from the gateway,
beside real renders of the same colour pairs.
Then times n = 1 and n = 16 requests end to end (HTTP client -> gateway -> gRPC -> modelserver -> back) against
the same work in-process (family preprocess -> the SavedModel's signature -> family postprocess).

    flock /tmp/cpu.lock .venv/bin/python scripts/eval_text2image_gateway.py --repo /tmp/t2i/accrepo --grid docs/images/x.png
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
GRID_SEEDS = (1, 2, 3, 4)


def grid_captions() -> list[tuple[str, str, str]]:
    """One caption per held-out colour pair, in the data's own words: (caption, petal, centre)."""
    from training.text2image import flowers

    return [(f"the petals on this flower are {p} with a {c} center", p, c) for p, c in sorted(flowers.HELD_OUT_COMBINATIONS)]


def write_grid(path: Path, generated: list[list[np.ndarray]], real: list[list[np.ndarray]]) -> None:
    """Two grids side by side (generated | real), one row per caption, 2 px gaps, 8 px between the grids."""
    from gateway.families.text2image import GRID_GAP, grid

    rows = len(generated)
    left = grid(np.stack([im for row in generated for im in row]), len(generated[0]))
    right = grid(np.stack([im for row in real for im in row]), len(real[0]))
    out = np.full((left.shape[0], left.shape[1] + 8 + right.shape[1], 3), 255, np.uint8)
    out[:, : left.shape[1]] = left
    out[:, left.shape[1] + 8 :] = right
    assert rows * 64 + (rows - 1) * GRID_GAP == out.shape[0]
    Image.fromarray(out).save(path, optimize=True)


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
    ap.add_argument("--grid", type=Path, default=None, help="write the held-out captions x seeds figure here (PNG)")
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

        # the manifest's other figures, with the gateway as the generator: caption ids -> text -> /predict.
        # Each batch row is its own request, seeded from the first z component's bits so the draw differs.
        from common.captions import Vocabulary

        vocab = Vocabulary.load(assets_dir(vdir) / manifest["preprocessing"]["vocabulary_asset"])
        vocab_words = vocab.tokens

        def through_gateway(ids: np.ndarray, z: np.ndarray) -> np.ndarray:
            out = []
            for row, zrow in zip(ids, z):
                caption = " ".join(vocab_words[t] for t in row if t > 2)
                seed = int(np.frombuffer(zrow[:2].tobytes(), np.uint64)[0] >> np.uint64(1))
                out.append(_decode(predict(caption=caption, n=1, seed=seed)["outputs"]["images"][0]))
            return np.stack(out).astype(np.float32) / 127.5 - 1.0

        z_dim = manifest["preprocessing"]["z_dim"]
        report["through_gateway"].update(ev.diversity(through_gateway, vocab, test, z_dim, data["seed"] + 5))
        report["through_gateway"].update(ev.frechet(judge, through_gateway, vocab, test, z_dim, data["seed"], data["seed"] + 6))

        shown = client.get("/models/text2image").json()
        served = [v for v in shown["versions"] if v["version"] == version][0]
        report["get_models_shows_metrics"] = sorted(k for k in served["metrics"] if k.startswith(("held_out", "diversity_ratio", "frechet", "retrieval_r")))

        # determinism and diversity of seeds, as a user sees them: bytes per seed, pixels across seeds
        once, again = (predict(caption=CAPTION, n=1, seed=5)["outputs"]["images"][0] for _ in range(2))
        four = [_decode(predict(caption=CAPTION, n=1, seed=s)["outputs"]["images"][0]).astype(np.float32) / 255 for s in GRID_SEEDS]
        pair_l1 = [float(np.mean(np.abs(a - b))) for i, a in enumerate(four) for b in four[i + 1 :]]
        report["seeds"] = {"same_seed_same_bytes": once == again, "four_seeds_min_pairwise_l1": round(min(pair_l1), 4), "four_seeds_mean_pairwise_l1": round(float(np.mean(pair_l1)), 4)}

        if args.grid is not None:
            generated = [[_decode(predict(caption=cap, n=1, seed=s)["outputs"]["images"][0]) for s in GRID_SEEDS] for cap, _, _ in grid_captions()]
            real = []
            for _, petal, centre in grid_captions():
                same = [i for i, a in enumerate(test.attributes) if a.petal == petal and a.centre == centre][: len(GRID_SEEDS)]
                real.append([test.images[i] for i in same])
            write_grid(args.grid, generated, real)
            report["grid"] = {"path": str(args.grid), "rows": [c for c, _, _ in grid_captions()], "seeds": list(GRID_SEEDS)}

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
