"""Measure the image classifiers through the running stack (acceptance of issue 5).

    python scripts/eval_classifier_gateway.py accuracy --repo DIR [--model vgg16 --model inception_v3]
    python scripts/eval_classifier_gateway.py latency --repo DIR --model vgg16 [--runs 20]

`--repo` starts `python -m modelserver` and `python -m gateway` on free ports over that repository (or pass
`--gateway URL` for a stack already running). `accuracy` uploads the fixed held-out digits (the split the
training job held out) as 8x8 PNG files, multipart batches of 32, and prints held-out top-1/top-5 as the
gateway answered them. `latency` compares, for batch 1 and 8, the SavedModel called in-process (TensorFlow,
same preprocessed tensor) with the end-to-end HTTP request through gateway -> gRPC -> modelserver, and prints
the medians and their ratio. Run heavy measurements under `flock /tmp/cpu.lock`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(pred, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(Exception):
            if pred():
                return
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


@contextlib.contextmanager
def stack(repo: Path) -> Iterator[str]:
    """modelserver + gateway subprocesses on free ports; SIGTERM on exit."""
    py = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
    grpc_port, http_port = free_port(), free_port()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", "GATEWAY_MAX_FORM_FILES": "32",
           "GATEWAY_BACKEND": f"127.0.0.1:{grpc_port}", "GATEWAY_SERVABLES": str(repo)}
    logs = Path(tempfile.mkdtemp(prefix="cls-eval-"))
    procs = []
    try:
        procs.append(subprocess.Popen([py, "-m", "modelserver", "--port", str(grpc_port),
                                       "--model_config_file", str(repo / "models.config")], cwd=ROOT, env=env,
                                      stdout=open(logs / "modelserver.log", "wb"), stderr=subprocess.STDOUT))
        procs.append(subprocess.Popen([py, "-m", "gateway", "--host", "127.0.0.1", "--port", str(http_port)], cwd=ROOT, env=env,
                                      stdout=open(logs / "gateway.log", "wb"), stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{http_port}"
        wait(lambda: httpx.get(url + "/readyz", timeout=5).status_code == 200, 900, f"gateway ready (logs in {logs})")
        yield url
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()


def png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


def accuracy(url: str, model: str, batch: int = 32) -> dict:
    from training.classifier.data import digits_held_out

    images, labels = digits_held_out()
    top1 = top5 = 0
    version = None
    t0 = time.perf_counter()
    with httpx.Client(timeout=600) as client:
        for s in range(0, len(images), batch):
            files = [("image", (f"{i}.png", png(images[i]), "image/png")) for i in range(s, min(s + batch, len(images)))]
            r = client.post(url + "/predict", data={"model": model, "top_k": "5"}, files=files)
            r.raise_for_status()
            body = r.json()
            version = body["version"]
            for pred, y in zip(body["outputs"]["predictions"], labels[s : s + batch]):
                got = [p["label"] for p in pred["top_k"]]
                top1 += got[0] == str(y)
                top5 += str(y) in got
    n = len(images)
    return {"model": model, "version": version, "held_out": n, "top1": top1 / n, "top5": top5 / n,
            "seconds": round(time.perf_counter() - t0, 1)}


def latency(url: str, repo: Path, model: str, runs: int) -> dict:
    import tensorflow as tf

    from common import images as im
    from common.manifest import read_manifest

    versions = sorted(int(p.name) for p in (repo / model).iterdir() if p.name.isdigit())
    vdir = repo / model / str(versions[-1])
    policy = im.ResizePolicy.from_dict(read_manifest(vdir)["preprocessing"]["resize"])
    fn = tf.saved_model.load(str(vdir)).signatures["serving_default"]
    rng = np.random.default_rng(0)
    photos = [rng.integers(0, 256, (300, 400, 3), dtype=np.uint8) for _ in range(8)]
    blobs = [png(p) for p in photos]
    out = {"model": model, "version": versions[-1], "runs": runs}
    with httpx.Client(timeout=600) as client:
        for b in (1, 8):
            x = tf.constant(np.stack([im.load_for_model(blob, policy) for blob in blobs[:b]]))
            fn(images=x)  # warm
            t_in = []
            for _ in range(runs):
                t = time.perf_counter()
                fn(images=x)["probabilities"].numpy()
                t_in.append(time.perf_counter() - t)
            files = [("image", (f"{i}.png", blobs[i], "image/png")) for i in range(b)]
            client.post(url + "/predict", data={"model": model}, files=files).raise_for_status()  # warm
            t_e2e = []
            for _ in range(runs):
                t = time.perf_counter()
                client.post(url + "/predict", data={"model": model}, files=files).raise_for_status()
                t_e2e.append(time.perf_counter() - t)
            a, e = statistics.median(t_in) * 1000, statistics.median(t_e2e) * 1000
            out[f"batch{b}"] = {"in_process_ms": round(a, 1), "end_to_end_ms": round(e, 1), "ratio": round(e / a, 3)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["accuracy", "latency"])
    ap.add_argument("--repo", type=Path, help="model repository: start modelserver + gateway on it")
    ap.add_argument("--gateway", help="URL of a running gateway (instead of --repo)")
    ap.add_argument("--model", action="append", help="vgg16 and/or inception_v3 (default: both for accuracy)")
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    models = args.model or (["vgg16", "inception_v3"] if args.what == "accuracy" else ["vgg16"])
    ctx = stack(args.repo) if args.repo and not args.gateway else contextlib.nullcontext(args.gateway)
    with ctx as url:
        for m in models:
            result = accuracy(url, m) if args.what == "accuracy" else latency(url, args.repo, m, args.runs)
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
