"""Measure the published `unet` THROUGH the running stack (modelserver + gateway on free ports, over --repo):
per-volume and per-slice hard dice / IoU on the held-out synthetic volumes named in the version's manifest,
the Otsu-on-FLAIR baseline on the same volumes, and latency for one slice and for one 155-slice volume, end to
end (HTTP multipart -> gateway -> gRPC -> modelserver and back) vs in-process (common.mri + the SavedModel
called in this process). Prints the figures; `--json-out` writes them.

    flock /tmp/cpu.lock .venv/bin/python scripts/eval_unet_gateway.py --repo /tmp/unet-repo
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import manifest as mf  # noqa: E402
from common import mri  # noqa: E402
from training.unet import evaluate as ev  # noqa: E402
from training.unet.synth import Generator, task_mask, write_nifti  # noqa: E402
from training.unet.train import VAL_SEED_OFFSET  # noqa: E402


def latest_version(repo: Path) -> Path:
    versions = sorted(int(p.name) for p in (repo / "unet").iterdir() if p.name.isdigit())
    return repo / "unet" / str(versions[-1])


def post(client, files: dict[str, bytes], **data):
    r = client.post("/predict", data={"model": "unet", **{k: str(v) for k, v in data.items()}},
                    files={k: (f"{k}.nii.gz", v) for k, v in files.items()})
    if r.status_code != 200:
        raise RuntimeError(f"gateway answered {r.status_code}: {r.text[:500]}")
    return r.json()


def timed(fn, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), [round(x, 1) for x in times]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--volumes", type=int, default=None, help="held-out volumes (default: as many as the manifest's eval)")
    ap.add_argument("--repeats", type=int, default=3, help="latency repeats (median reported)")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()

    import httpx

    from tests.utils.stack import Stack

    vdir = latest_version(args.repo)
    man = mf.read_manifest(vdir)
    cfg = man["preset_config"]
    task, n = cfg["task"], args.volumes or cfg["val_volumes"]
    shape = tuple(cfg["val_shape"])
    gen = Generator(cfg["seed"] + VAL_SEED_OFFSET)
    tmp = Path(tempfile.mkdtemp(prefix="unet-eval-"))
    env = {"GATEWAY_MAX_BODY_BYTES": str(512 << 20), "GATEWAY_BACKEND_TIMEOUT_S": "900"}
    results: dict = {"version": int(vdir.name), "manifest_metrics": man["metrics"], "volumes": []}
    with Stack(args.repo, gateway_env=env) as stack, httpx.Client(base_url=stack.url, timeout=1200.0) as client:
        model_scores, otsu_scores = [], []
        cases = []
        for i in range(n):
            case = gen.volume(i, shape, lesions=1 + i % 3)
            paths = write_nifti(case, tmp, f"v{i}")
            files = {m: paths[m].read_bytes() for m in mri.MODALITIES}
            out = post(client, files, threshold=0.5)["outputs"]
            mask = np.asanyarray(mri.read_nifti_bytes(base64.b64decode(out["mask_nifti"])).dataobj).astype(np.float32)
            truth = np.moveaxis(task_mask(case.label, task), 2, 0)
            s_model = ev.scores(np.moveaxis(mask, 2, 0), truth)
            s_otsu = ev.scores(ev.otsu_flair(case), truth)
            model_scores.append(s_model)
            otsu_scores.append(s_otsu)
            results["volumes"].append({"index": i, "lesions": case.lesions, "gateway_hard_dice": round(s_model["volume"]["hard_dice"], 4),
                                       "otsu_hard_dice": round(s_otsu["volume"]["hard_dice"], 4), "volume_mm3": out["volume_mm3"]})
            print(f"volume {i}: gateway hard dice {s_model['volume']['hard_dice']:.4f}  otsu {s_otsu['volume']['hard_dice']:.4f}", flush=True)
            cases.append((case, files))
        keep = ("volume_hard_dice", "volume_iou", "slice_hard_dice", "slice_iou", "slice_hard_dice_tumour_slices", "volume_hard_dice_min")
        results["gateway"] = {k: v for k, v in ev.summarise(model_scores).items() if k in keep or k == "volumes"}
        results["otsu_flair"] = {k: v for k, v in ev.summarise(otsu_scores).items() if k in keep or k == "volumes"}

        # ---- latency: one slice and one whole volume, end to end vs in-process
        import tensorflow as tf

        stats = mri.Stats.from_dict(json.loads((mf.assets_dir(vdir) / "normalization.json").read_text()))
        serve = tf.saved_model.load(str(vdir)).signatures["serving_default"]

        def in_process(files: dict[str, bytes], batch: int = 16) -> np.ndarray:
            scan = mri.load(files)
            x, fit = mri.model_input(scan, stats)
            probs = np.concatenate([serve(images=tf.constant(x[i : i + batch]))["probabilities"].numpy() for i in range(0, len(x), batch)])
            mask = mri.unfit(probs, fit)[..., 0] >= 0.5
            if scan.is_volume:
                mri.nifti_mask(mask, scan.affine, scan.header)
            else:
                mri.mask_png(mask[0]), mri.overlay_png(scan.data[0, ..., 0], mask[0])
            return mask

        case, vol_files = cases[0]
        k = int(np.argmax((case.label > 0).sum((0, 1))))
        slice_files = {}
        for c, m in enumerate(mri.MODALITIES):
            from PIL import Image

            buf = io.BytesIO()
            Image.fromarray(np.rint(case.image[:, :, k, c]).astype(np.uint16)).save(buf, format="PNG")
            slice_files[m] = buf.getvalue()
        post(client, slice_files)  # warm
        in_process(slice_files)
        e2e_slice, e2e_slice_all = timed(lambda: post(client, slice_files), max(args.repeats, 5))
        inp_slice, inp_slice_all = timed(lambda: in_process(slice_files), max(args.repeats, 5))
        server_timing = post(client, vol_files)["timing_ms"]
        e2e_vol, e2e_vol_all = timed(lambda: post(client, vol_files), args.repeats)
        inp_vol, inp_vol_all = timed(lambda: in_process(vol_files), args.repeats)
        results["latency_ms"] = {
            f"slice_{shape[0]}x{shape[1]}": {"end_to_end": round(e2e_slice, 1), "in_process": round(inp_slice, 1), "runs": {"e2e": e2e_slice_all, "in_process": inp_slice_all}},
            f"volume_{'x'.join(map(str, shape))}": {
                "end_to_end": round(e2e_vol, 1), "in_process": round(inp_vol, 1), "gateway_stage_timing_ms": server_timing,
                "upload_bytes": sum(len(v) for v in vol_files.values()), "runs": {"e2e": e2e_vol_all, "in_process": inp_vol_all},
            },
        }
    results["cpu"] = f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end"
    print(json.dumps({k: v for k, v in results.items() if k != "manifest_metrics"}, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
