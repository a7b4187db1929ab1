"""End-to-end evaluation of the anti-spam servable through a RUNNING gateway (issues 4 and 20's acceptance).

Sends held-out corpus lines as raw text (the segmentation spaces removed) to `POST /predict`, one text per
request as a user would, and reports:
- accuracy, spam precision/recall/F1 and the confusion matrix of the gateway's labels;
- the robustness suite of `training.antispam.evaluate` computed from the gateway's answers (every
  perturbation of the held-out split, the robust floor, the hand-written challenge set), one raw text per
  request: the same functions that wrote the manifest's figures, so the two are directly comparable;
- batching/padding invariance: the challenge messages alone (one request each) vs. together in one
  `texts` request (padded to the longest), the largest |delta spam probability|;
- end-to-end latency p50/p99 and throughput at concurrency 1, 8 and 32;
- per-stage timings (normalise+jieba and lookup from the family's debug output; preprocess, backend and
  postprocess from the gateway's `timing_ms`).

Held-out lines: by default the `test` part of the fixed split of `--data` (the same split training used:
`training.antispam.data.load_corpus` with its default seed and fractions); `--all-lines` sends every line of
`--data` instead (for a held-back set in the corpus format).

    python scripts/eval_antispam_gateway.py --url http://127.0.0.1:8000
    python scripts/eval_antispam_gateway.py --start-stack --repo /tmp/repo     # modelserver + gateway on free ports

Run benchmarks under `flock /tmp/cpu.lock` so the figures are not distorted by other jobs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from training.antispam.data import load_corpus  # noqa: E402
from training.antispam.evaluate import classification_metrics, load_challenge, robustness_suite  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if values else float("nan")


async def send_all(client: httpx.AsyncClient, url: str, bodies: list[dict], concurrency: int) -> tuple[list[dict], list[float], float]:
    """POST every body with at most `concurrency` in flight; responses in order, latencies (ms), wall time (s)."""
    sem = asyncio.Semaphore(concurrency)
    results: list[dict] = [{}] * len(bodies)
    latencies: list[float] = [0.0] * len(bodies)

    async def one(i: int) -> None:
        async with sem:
            t0 = time.perf_counter()
            r = await client.post(url, json=bodies[i])
            latencies[i] = (time.perf_counter() - t0) * 1e3
            if r.status_code != 200:
                raise RuntimeError(f"request {i} -> {r.status_code}: {r.text[:300]}")
            results[i] = r.json()

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(len(bodies))))
    return results, latencies, time.perf_counter() - t0


def body(text: str, debug: bool = False) -> dict:
    inputs: dict = {"text": text}
    if debug:
        inputs["debug"] = True
    return {"model": "antispam", "inputs": inputs}


async def run(args: argparse.Namespace, url: str) -> dict:
    corpus = load_corpus(args.data)
    idx = np.arange(len(corpus.texts)) if args.all_lines else corpus.indices("test")
    texts = [corpus.texts[i] for i in idx]
    labels = corpus.labels[idx]
    predict = f"{url}/predict"
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    report: dict = {"gateway": url, "held_out_lines": len(texts), "source": "all lines" if args.all_lines else "test split"}
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        if (await client.get(f"{url}/models/antispam")).status_code != 200:
            raise RuntimeError(f"{url} does not serve model 'antispam'")

        responses, _lat, wall = await send_all(client, predict, [body(t) for t in texts], args.eval_concurrency)
        versions = sorted({r["version"] for r in responses})
        spam_p = np.array([r["outputs"]["spam_probability"] for r in responses])
        probs = np.stack([spam_p, 1.0 - spam_p], axis=1)
        gateway_labels = np.array([0 if r["outputs"]["label"] == "spam" else 1 for r in responses])
        metrics = classification_metrics(labels, probs)
        metrics["label_field_agrees_with_probability"] = bool((gateway_labels == probs.argmax(axis=1)).all())
        report["accuracy_via_gateway"] = {**metrics, "versions": versions, "seconds": round(wall, 1)}

        rng = np.random.default_rng(0)
        bench = {}
        for c in args.concurrency:
            n = max(args.requests, 2 * c)
            sample = [texts[i] for i in rng.integers(0, len(texts), size=n)]
            await send_all(client, predict, [body(t) for t in sample[: min(2 * c, 32)]], c)  # warm connections
            _r, lat, wall = await send_all(client, predict, [body(t) for t in sample], c)
            bench[str(c)] = {"requests": n, "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
                             "throughput_rps": round(n / wall, 1)}
        report["latency"] = bench

        sample = [texts[i] for i in rng.integers(0, len(texts), size=args.stage_requests)]
        responses, _lat, _wall = await send_all(client, predict, [body(t, debug=True) for t in sample], 1)
        stages: dict[str, list[float]] = {}
        for r in responses:
            for k, v in r["outputs"]["stage_ms"].items():
                stages.setdefault(k, []).append(v)
            for k, v in r["timing_ms"].items():
                stages.setdefault(k, []).append(v)
        report["stages_ms_concurrency_1"] = {
            k: {"p50": percentile(v, 50), "p99": percentile(v, 99), "mean": round(statistics.fmean(v), 3)} for k, v in stages.items()
        }
        report["tokens_per_text"] = {"p50": percentile([r["outputs"]["n_tokens"] for r in responses], 50)}
    return report


def gateway_predictor(url: str, concurrency: int, versions: set[int]):
    """`predict_texts` for the robustness suite: one raw text per POST /predict, `concurrency` in flight."""
    client = httpx.Client(timeout=120, limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency))

    def one(text: str) -> float:
        r = client.post(f"{url}/predict", json=body(text))
        if r.status_code != 200:
            raise RuntimeError(f"{text[:40]!r} -> {r.status_code}: {r.text[:300]}")
        data = r.json()
        versions.add(data["version"])
        return data["outputs"]["spam_probability"]

    def predict_texts(texts: list[str]) -> np.ndarray:
        with ThreadPoolExecutor(concurrency) as pool:
            spam = np.array(list(pool.map(one, texts)), dtype=np.float64)
        return np.stack([spam, 1.0 - spam], axis=1)

    predict_texts.client = client
    return predict_texts


def batching_invariance(url: str, texts: list[str], batch: int = 64) -> dict:
    """Each text alone vs. in one `texts` request with up to `batch` others (padded to the longest)."""
    with httpx.Client(timeout=120) as client:
        alone = [client.post(f"{url}/predict", json=body(t)).json()["outputs"]["spam_probability"] for t in texts]
        together: list[float] = []
        for s in range(0, len(texts), batch):
            r = client.post(f"{url}/predict", json={"model": "antispam", "inputs": {"texts": texts[s : s + batch]}})
            r.raise_for_status()
            together += [v["spam_probability"] for v in r.json()["outputs"]["results"]]
    delta = np.abs(np.array(alone) - np.array(together))
    return {"texts": len(texts), "batch": batch, "max_abs_delta_spam_probability": float(delta.max()),
            "labels_equal": bool(((np.array(alone) >= 0.5) == (np.array(together) >= 0.5)).all())}


def robustness_via_gateway(args: argparse.Namespace, url: str) -> dict:
    corpus = load_corpus(args.data)
    idx = np.arange(len(corpus.texts)) if args.all_lines else corpus.indices("test")
    versions: set[int] = set()
    predict = gateway_predictor(url, args.eval_concurrency, versions)
    t0 = time.perf_counter()
    suite = robustness_suite(predict, [corpus.segmented[i] for i in idx], corpus.labels[idx],
                             challenge=None if args.no_challenge else args.challenge)
    predict.client.close()
    suite["versions"] = sorted(versions)
    suite["seconds"] = round(time.perf_counter() - t0, 1)
    texts = load_challenge(args.challenge)[0] if not args.no_challenge else [corpus.texts[i] for i in idx[:128]]
    suite["batching"] = batching_invariance(url, texts)
    return suite


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a running gateway, e.g. http://127.0.0.1:8000")
    ap.add_argument("--start-stack", action="store_true", help="start modelserver + gateway over --repo on free ports")
    ap.add_argument("--repo", type=Path, help="model repository (models.config + antispam/<version>) for --start-stack")
    ap.add_argument("--data", type=Path, default=None, help="corpus dir (default: the repository's data/text-antispam or $ANTISPAM_DATA_DIR)")
    ap.add_argument("--all-lines", action="store_true", help="send every line of --data, not only the test split")
    ap.add_argument("--eval-concurrency", type=int, default=8)
    ap.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 32])
    ap.add_argument("--requests", type=int, default=400, help="requests per concurrency level")
    ap.add_argument("--stage-requests", type=int, default=200)
    ap.add_argument("--out", type=Path, help="also write the JSON report here")
    from training.antispam.evaluate import CHALLENGE_FILE

    ap.add_argument("--challenge", type=Path, default=CHALLENGE_FILE, help="challenge set (label, kind, text TSV)")
    ap.add_argument("--no-challenge", action="store_true", help="skip the challenge set")
    ap.add_argument("--no-robustness", action="store_true", help="skip the robustness suite and the batching check")
    ap.add_argument("--no-latency", action="store_true", help="skip the latency levels (accuracy, suite, stages only)")
    args = ap.parse_args()
    if bool(args.url) == bool(args.start_stack):
        ap.error("give --url of a running gateway, or --start-stack with --repo")

    with ExitStack() as stack:
        url = args.url
        if args.start_stack:
            if not args.repo:
                ap.error("--start-stack needs --repo")
            from tests.gateway.gateway_process import GatewayProcess
            from tests.utils.servers import ModelServerProcess, wait_model_available

            server = stack.enter_context(ModelServerProcess(args.repo / "models.config"))
            wait_model_available(server.address, "antispam")
            gateway = stack.enter_context(GatewayProcess(server.address, args.repo))
            gateway.wait_ready()
            url = gateway.url
        if args.no_latency:
            args.concurrency = []
        report = asyncio.run(run(args, url.rstrip("/")))
        if not args.no_robustness:
            report["robustness_via_gateway"] = robustness_via_gateway(args, url.rstrip("/"))
    text = json.dumps(report, indent=1, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
