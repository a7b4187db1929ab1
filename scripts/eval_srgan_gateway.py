"""Measure the served SRGAN model THROUGH the running stack, and its latency, and print the figures.

    flock /tmp/cpu.lock .venv/bin/python scripts/eval_srgan_gateway.py --repo /tmp/srgan/repo [--version N]

1. Starts `python -m modelserver` + `python -m gateway` on free ports over `--repo` (tests/utils/stack.py).
2. Quality: every held-out photo's LR image (training.srgan.data, the same Pillow bicubic) is POSTed as a PNG
   (multipart, `compare=true`); the returned PNGs are scored with training.srgan.evaluate, the code the
   training used, against the HR photo: PSNR/SSIM on RGB and Y, 4-pixel border crop. The gateway's bicubic
   (`compare`) is scored too and must equal the local baseline.
3. Latency by input size (64, 128, 256, 512 px squares): end to end (HTTP request -> decoded PNG response)
   vs in-process (same family preprocess/postprocess + the SavedModel's signature in this process, no HTTP,
   no gRPC) vs model only (the signature call). Medians of `--repeats` after one warm-up request.
Prints a JSON summary at the end (`--json PATH` also writes it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

from common import manifest as mf  # noqa: E402
from common import superres as sr  # noqa: E402
from training.srgan import data as srdata  # noqa: E402
from training.srgan import evaluate as ev  # noqa: E402
from tests.utils.images import png, unpng  # noqa: E402

SIZES = (64, 128, 256, 512)




def post(client, image: np.ndarray, compare: bool = False, version: int | None = None) -> dict:
    data = {"model": "srgan", "compare": "true" if compare else "false"}
    if version is not None:
        data["version"] = str(version)
    r = client.post("/predict", data=data, files={"image": ("lr.png", png(image), "image/png")})
    if r.status_code != 200:
        raise RuntimeError(f"gateway answered {r.status_code}: {r.text[:500]}")
    return r.json()


def quality_through_gateway(client, version: int | None) -> dict:
    pairs = srdata.held_out_pairs()
    gateway_bicubic: dict[str, np.ndarray] = {}

    def upscale(lr: np.ndarray) -> np.ndarray:
        out = post(client, lr, compare=True, version=version)["outputs"]
        name = next(p.name for p in pairs if p.lr is lr)
        gateway_bicubic[name] = unpng(out["bicubic_png"])
        return unpng(out["image_png"])

    served = ev.evaluate(upscale, pairs)
    baseline = ev.bicubic_baseline(pairs)
    same_bicubic = all(np.array_equal(gateway_bicubic[p.name], sr.upscale_bicubic(p.lr)) for p in pairs)
    return {"served": served, "bicubic": baseline, "gain_psnr_rgb": ev.gain(served, baseline), "compare_equals_local_bicubic": same_bicubic}


def latency(client, version_dir: Path, repeats: int) -> dict:
    import tensorflow as tf

    from gateway.core.config import Settings
    from gateway.families import family_for
    from gateway.families.srgan import SrganInputs

    family = family_for("srgan")
    assets = family.load_assets(version_dir, mf.read_manifest(version_dir), Settings())
    fn = tf.saved_model.load(str(version_dir)).signatures["serving_default"]
    source = srdata.load(("astronaut",))["astronaut"]  # 512 x 512 natural photo
    rows = {}
    for side in SIZES:
        image = np.ascontiguousarray(source[:side, :side])
        body = png(image)
        post(client, image)  # warm-up (first request of a new shape traces the graph on the server)
        e2e, stages = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = post(client, image)
            unpng(out["outputs"]["image_png"])
            e2e.append(time.perf_counter() - t0)
            stages.append(out["timing_ms"])

        def in_process() -> tuple[float, float]:
            t0 = time.perf_counter()
            inputs = SrganInputs(image=body)
            prepared = family.preprocess(inputs, assets)
            t1 = time.perf_counter()
            result = fn(images=tf.constant(prepared.arrays["images"]))["images"].numpy()
            t2 = time.perf_counter()
            unpng(family.postprocess({"images": result}, assets, inputs, prepared.context).image_png)
            return time.perf_counter() - t0, t2 - t1

        in_process()  # warm-up (trace)
        local = [in_process() for _ in range(repeats)]
        rows[f"{side}x{side}"] = {
            "end_to_end_ms": round(statistics.median(e2e) * 1e3, 1),
            "gateway_backend_ms": round(statistics.median(s["backend"] for s in stages), 1),
            "gateway_pre_post_ms": round(statistics.median(s["preprocess"] + s["postprocess"] for s in stages), 1),
            "in_process_ms": round(statistics.median(t for t, _ in local) * 1e3, 1),
            "model_only_ms": round(statistics.median(m for _, m in local) * 1e3, 1),
        }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=REPO_ROOT / "servables", help="model repository with a published srgan version")
    parser.add_argument("--version", type=int, help="version to pin (default: the latest published)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the summary here")
    args = parser.parse_args()

    import httpx

    from common.repository import list_versions
    from tests.utils.stack import Stack

    versions = list_versions(args.repo / "srgan")
    if not versions:
        sys.exit(f"{args.repo}: no published srgan version; run `servectl train srgan --repo {args.repo}` first")
    version = args.version or max(versions)
    version_dir = args.repo / "srgan" / str(version)
    manifest = mf.read_manifest(version_dir)
    summary: dict = {"version": version, "preset": manifest["preset"], "exported_phase": manifest["metrics"].get("exported_phase")}
    with Stack(args.repo) as stack, httpx.Client(base_url=stack.url, timeout=300.0) as client:
        q = quality_through_gateway(client, version)
        summary["quality_through_gateway"] = q
        m = manifest["metrics"]
        summary["manifest"] = {k: m[k]["mean"] for k in ("bicubic", "mse_phase", "gan_phase")}
        print(f"held-out ({', '.join(srdata.HELD_OUT)}), 4-px border, through the gateway, version {version}:")
        print(f"  {'':10s} {'PSNR RGB':>9s} {'PSNR Y':>8s} {'SSIM RGB':>9s} {'SSIM Y':>8s}")
        rows = [("bicubic", q["bicubic"]["mean"]), ("served", q["served"]["mean"])]
        rows += [(f"{k} (manifest)", v) for k, v in summary["manifest"].items() if k != "bicubic"]
        for name, r in rows:
            print(f"  {name:10s} {r['psnr_rgb']:9.3f} {r['psnr_y']:8.3f} {r['ssim_rgb']:9.4f} {r['ssim_y']:8.4f}")
        print(f"  served gain over bicubic: {q['gain_psnr_rgb']:+.3f} dB PSNR RGB; gateway compare == local bicubic: {q['compare_equals_local_bicubic']}")
        if not args.skip_latency:
            summary["latency"] = latency(client, version_dir, args.repeats)
            print(f"latency (median of {args.repeats}):")
            for size, r in summary["latency"].items():
                print(f"  {size:>8s}  end-to-end {r['end_to_end_ms']:8.1f} ms  (gateway backend {r['gateway_backend_ms']:.1f}, pre+post "
                      f"{r['gateway_pre_post_ms']:.1f})  in-process {r['in_process_ms']:8.1f} ms  model only {r['model_only_ms']:8.1f} ms")
    text = json.dumps(summary, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
