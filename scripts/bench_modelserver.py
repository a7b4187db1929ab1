"""Benchmark: Predict latency (p50/p99) and throughput of `python -m modelserver` at concurrency 1, 8, 32,
next to calling the same signature in-process on the same kind of session.

Three ways, same SavedModel, same batch:
- in-process session: `SavedModelServable.run` (the session callable by tensor names; no protos, no gRPC);
- in-process predict: `modelserver.predict.run_predict` (adds request checks + TensorProto decode/encode);
- gRPC Predict: a real server subprocess on a free port, inputs as `tensor_content`, one channel shared by
  the client threads (what the gateway does).

Run it alone on the machine (`flock /tmp/cpu.lock .venv/bin/python scripts/bench_modelserver.py`); the
figures are printed as a table, nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common.signatures import Signature, TensorSpec  # noqa: E402
from training.export import ExportSpec, publish  # noqa: E402

MODEL = "benchmlp"
SIGNATURE = Signature(inputs={"x": TensorSpec("float32", (-1, 784))}, outputs={"probabilities": TensorSpec("float32", (-1, 10))})


def write_mlp(directory: Path) -> None:
    """A small MLP (784 -> 256 -> 256 -> 10, softmax): the size of a small real model's dense head."""
    import tensorflow as tf

    rng = np.random.default_rng(0)

    class MLP(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = [tf.Variable(rng.normal(0, 0.05, s).astype(np.float32)) for s in ((784, 256), (256, 256), (256, 10))]

        @tf.function(input_signature=[tf.TensorSpec([None, 784], tf.float32, name="x")])
        def serve(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
            h = tf.nn.relu(x @ self.w[0])
            h = tf.nn.relu(h @ self.w[1])
            return {"probabilities": tf.nn.softmax(h @ self.w[2])}

    m = MLP()
    tf.saved_model.save(m, str(directory), signatures={"serving_default": m.serve})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(call: Callable[[], object], concurrency: int, seconds: float) -> tuple[float, float, float, int]:
    """Run `call` from `concurrency` threads for `seconds`; (p50 ms, p99 ms, requests/s, count)."""
    for _ in range(20):
        call()  # warm
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    start_gate = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def worker(i: int) -> None:
        start_gate.wait()
        out = latencies[i]
        while time.perf_counter() < deadline[0]:
            t = time.perf_counter()
            call()
            out.append(time.perf_counter() - t)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    begin = time.perf_counter()
    deadline[0] = begin + seconds
    start_gate.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - begin
    flat = np.array([x for row in latencies for x in row]) * 1000
    return float(np.percentile(flat, 50)), float(np.percentile(flat, 99)), len(flat) / elapsed, len(flat)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="measuring time per cell")
    ap.add_argument("--batch", type=int, default=1, help="rows per request")
    ap.add_argument("--concurrency", default="1,8,32")
    args = ap.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]

    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from modelserver.loader import SavedModelLoader
    from modelserver.predict import run_predict
    from protos import codec, predict_pb2, rpc

    repo = Path(tempfile.mkdtemp(prefix="bench-modelserver-"))
    x = np.random.default_rng(1).random((args.batch, 784), dtype=np.float32)
    published = publish(
        ExportSpec(MODEL, "bench", "tiny", write_mlp, {"x": x[:2] if len(x) >= 2 else x}, "sha256:none", signature=SIGNATURE), repo
    )

    loader = SavedModelLoader(MODEL, published.version, published.path)
    loader.load()
    servable = loader.servable
    sig = servable.signatures["serving_default"]
    feed, fetch = sig.inputs["x"].name, sig.outputs["probabilities"].name
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    request.inputs["x"].CopyFrom(codec.make_tensor_proto(x))

    port = free_port()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    server = subprocess.Popen(
        [sys.executable, "-m", "modelserver", "--port", str(port),
         "--model_config_file", str(repo / "models.config")],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    rows = []
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = rpc.Stub(channel)
        deadline = time.time() + 300
        while True:
            try:
                if health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2).status == 1:
                    stub.Predict(request, timeout=10)
                    break
            except grpc.RpcError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("model server did not come up")
                time.sleep(0.2)

        ways = {
            "in-process session": lambda: servable.run([(feed, x)], [fetch]),
            "in-process predict": lambda: run_predict(servable, published.version, request),
            "gRPC Predict": lambda: stub.Predict(request, timeout=60),
        }
        for c in levels:
            for name, call in ways.items():
                p50, p99, rps, n = measure(call, c, args.seconds)
                rows.append((c, name, p50, p99, rps, n))
                print(f"  concurrency {c:>2}  {name:<20} p50 {p50:7.3f} ms  p99 {p99:7.3f} ms  {rps:8.1f} req/s  (n={n})", flush=True)
        channel.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        loader.unload()

    print()
    print(f"model {MODEL} (MLP 784-256-256-10), batch {args.batch}, {args.seconds:.0f} s per cell, {os.cpu_count()} CPUs")
    print(f"| concurrency | way | p50 ms | p99 ms | req/s |")
    print(f"| ---: | --- | ---: | ---: | ---: |")
    for c, name, p50, p99, rps, _n in rows:
        print(f"| {c} | {name} | {p50:.3f} | {p99:.3f} | {rps:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
