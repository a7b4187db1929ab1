"""`servectl bench-suite`: every served model measured three ways, with gateway batching off and on.

For each model (latest version; the family's example input, or every line of `--inputs-file` in turn):
- (a) in-process, the limit: the same SavedModel in this process, in a TF1 session as TF Serving runs it
  (`modelserver.loader`), called from `concurrency` threads. Two rows: the model call alone on the
  preprocessed tensors, and the whole in-process path on the same input (family preprocess + model +
  postprocess) — what a user would run without any serving.
- (b) direct gRPC Predict to the backend with the very request the gateway would send.
- (c) end to end: POST /predict through a gateway with batching off, then one with batching on.
Each at every concurrency level (default 1, 8, 32): p50, p99, throughput, and CPU seconds per request
(a: this process; b: the backend; c: gateway + backend). Ratios: (c)/(a) p50 at concurrency 1, and
(c, batching on)/(c, batching off) throughput at the highest level, plus the batching cost at
concurrency 1 (p50 on - off) next to the configured `max_latency_ms`.

It starts its own modelserver (unless --backend) and two gateways on free ports, writes `report.json` and
`report.md` into --out, and prints the Markdown. Nothing is asserted: targets are read off the report.
Run it alone on the machine (`flock /tmp/cpu.lock servectl bench-suite ...`).
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import httpx
import typer

from common import manifest as mf
from common import repository as repo_mod
from servectl.app import app
from servectl.bench import (
    HttpConnection, Run, closed_loop, direct_requests, grpc_worker_factory, http_worker_factory, predict_http_request,
    process_cpu_seconds, read_inputs_file, run_client,
)
from servectl.up import Stack, tf_thread_flags


@dataclass
class Row:
    model: str
    path: str  # in-process model | in-process end-to-end | direct gRPC | gateway batching off | gateway batching on
    concurrency: int
    p50_ms: float
    p99_ms: float
    rps: float
    cpu_s_per_request: float | None
    n: int
    errors: int


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, model: str, stack: Stack, out: Path, timeout: float = 600.0) -> None:
    """Until the gateway at `url` serves `model`; fails at once when one of the servers exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in stack.procs:
            if proc.poll() is not None:
                typer.echo(f"{name} exited with {proc.returncode} while starting; its log is in {out}", err=True)
                raise typer.Exit(1)
        try:
            body = httpx.get(f"{url}/models/{model}", timeout=2).json()
            if body.get("default_version") is not None:
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.3)
    typer.echo(f"{model} did not become available at {url} within {timeout:.0f}s; logs in {out}", err=True)
    raise typer.Exit(1)


def threaded_loop(call: Callable[[], object], concurrency: int, duration: float, warmup: float) -> tuple[Run, float]:
    """`concurrency` threads call `call` back to back; returns the run and this process's CPU seconds."""
    run = Run("in-process", concurrency)
    lock = threading.Lock()
    start = time.perf_counter()
    t_measure, t_end = start + warmup, start + warmup + duration

    def worker() -> None:
        local: list[float] = []
        while True:
            t0 = time.perf_counter()
            if t0 >= t_end:
                break
            call()
            t1 = time.perf_counter()
            if t0 >= t_measure:
                local.append(t1 - t0)
        with lock:
            run.latencies.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    time.sleep(max(0.0, t_measure - time.perf_counter()))
    cpu0 = time.process_time()
    for t in threads:
        t.join()
    cpu = time.process_time() - cpu0
    run.seconds = duration
    return run, cpu


def in_process_calls(model: str, version_dir: Path, inputs: Sequence[dict[str, Any]], threads: tuple[int, int] = (0, 0)) -> tuple[Callable[[], object], Callable[[], object]]:
    """(model call on preprocessed tensors, whole in-process path) for one model version, in a Session with
    the same thread settings as the benchmarked modelserver (so (a) and (b) run the same graph the same way).
    Successive calls, from any thread, take `inputs` in turn, as the served paths' workers do."""
    from gateway.core.config import Settings
    from gateway.families import family_for
    from modelserver.loader import SavedModelLoader, SessionThreads

    family = family_for(model)
    assert family is not None
    assets = family.load_assets(version_dir, mf.read_manifest(version_dir), Settings())
    loader = SavedModelLoader(model, int(version_dir.name), version_dir, threads=SessionThreads(*threads))
    loader.load()
    servable = loader.servable
    assert servable is not None
    parsed = [family.Inputs.model_validate(one) for one in inputs]
    sig = servable.signatures[family.signature_name(parsed[0])]
    wanted = family.output_filter(parsed[0]) or list(sig.outputs)
    feeds_for = lambda arr: [(sig.inputs[k].name, v) for k, v in arr.items()]  # noqa: E731
    feeds = [feeds_for(family.preprocess(p, assets).arrays) for p in parsed]
    fetches = [sig.outputs[k].name for k in wanted]
    turn = itertools.count()  # next() on a count is atomic under the GIL: threads share it safely

    def model_only() -> object:
        return servable.run(feeds[next(turn) % len(feeds)], fetches)

    def end_to_end() -> object:
        p = family.Inputs.model_validate(inputs[next(turn) % len(inputs)])
        prepared = family.preprocess(p, assets)
        out = servable.run(feeds_for(prepared.arrays), fetches)
        return family.postprocess(dict(zip(wanted, out)), assets, p, prepared.context)

    return model_only, end_to_end


async def _http_run(url: str, model: str, version: int, inputs: Sequence[dict[str, Any]], concurrency: int, duration: float, warmup: float) -> Run:
    from urllib.parse import urlparse

    u = urlparse(url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    requests = [predict_http_request(host, port, model, version, one) for one in inputs]
    conns: list[HttpConnection] = []
    try:
        return await closed_loop("gateway", concurrency, duration, warmup, http_worker_factory(host, port, requests, conns))
    finally:
        for c in conns:
            await c.close()


async def _grpc_run(address: str, requests: Sequence[bytes], concurrency: int, duration: float, warmup: float) -> Run:
    import grpc

    from protos import predict_pb2, rpc

    channel = grpc.aio.insecure_channel(address, options=[("grpc.max_receive_message_length", 256 << 20), ("grpc.max_send_message_length", 256 << 20)])
    predict = channel.unary_unary(rpc.PREDICT.path, request_serializer=None, response_deserializer=predict_pb2.PredictResponse.FromString)
    try:
        return await closed_loop("direct gRPC", concurrency, duration, warmup, grpc_worker_factory(predict, requests))
    finally:
        await channel.close()


def _cpu(pids: list[int]) -> float:
    return sum(process_cpu_seconds(p) for p in pids)


def _row(model: str, path: str, run: Run, cpu_s: float | None, cpu_requests: int | None = None) -> Row:
    """`cpu_s` was spent on `cpu_requests` requests (default: the measured ones)."""
    n = len(run.latencies) + run.errors
    per = cpu_requests or n
    return Row(model, path, run.concurrency, run.pct(0.5), run.pct(0.99), run.throughput,
               None if cpu_s is None or not per else cpu_s / per, n, run.errors)


def ratios(rows: list[Row], max_latency_ms: float) -> dict[str, Any]:
    """The issue-11 figures per model, from the rows of one run."""
    out: dict[str, Any] = {}
    for model in sorted({r.model for r in rows}):
        by = {(r.path, r.concurrency): r for r in rows if r.model == model}
        top = max(r.concurrency for r in rows if r.model == model)
        low = min(r.concurrency for r in rows if r.model == model)
        m: dict[str, Any] = {"lowest_concurrency": low, "highest_concurrency": top}
        on, off = by.get(("gateway batching on", top)), by.get(("gateway batching off", top))
        if on and off and off.rps:
            m["throughput_on_over_off_at_highest"] = on.rps / off.rps
        on1, off1 = by.get(("gateway batching on", low)), by.get(("gateway batching off", low))
        if on1 and off1:
            m["p50_on_minus_off_at_lowest_ms"] = on1.p50_ms - off1.p50_ms
            m["batching_cost_allowed_ms"] = max_latency_ms + 1.0
        for path in ("in-process end-to-end", "in-process model"):
            a = by.get((path, low))
            for gw_path in ("gateway batching off", "gateway batching on"):
                c = by.get((gw_path, low))
                if a and c and a.p50_ms:
                    m[f"p50 {gw_path} / {path} at lowest"] = c.p50_ms / a.p50_ms
        d, c = by.get(("direct gRPC", low)), by.get(("gateway batching off", low))
        if d and c:
            m["gateway_added_p50_at_lowest_ms"] = c.p50_ms - d.p50_ms
        out[model] = m
    return out


def markdown(rows: list[Row], summary: dict[str, Any], meta: dict[str, Any]) -> str:
    source = meta.get("inputs", {})
    inputs = "the family's example" if not source.get("file") else f"{source['count']} inputs from {source['file']}, in turn"
    lines = [f"# Serving benchmark ({meta['date']})", "", f"Machine: {meta['cpus']} CPUs, load average before the run {meta['load_before']}. "
             f"Batching on: max_batch_size {meta['max_batch_size']}, max_latency_ms {meta['max_latency_ms']}. "
             f"{meta['duration_s']} s measured per row after {meta['warmup_s']} s warm-up. Gateway workers: {meta['workers']}. Inputs: {inputs}.", ""]
    lines += ["| model | path | concurrency | p50 ms | p99 ms | req/s | CPU ms/req | n | errors |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        cpu = "" if r.cpu_s_per_request is None else f"{r.cpu_s_per_request * 1e3:.2f}"
        lines.append(f"| {r.model} | {r.path} | {r.concurrency} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.rps:.0f} | {cpu} | {r.n} | {r.errors} |")
    lines += ["", "CPU per request: in-process rows = this process; direct gRPC = the backend; gateway rows = gateway + backend.", ""]
    for model, m in summary.items():
        lines.append(f"## {model}")
        for k, v in m.items():
            lines.append(f"- {k}: {v:.3f}" if isinstance(v, float) else f"- {k}: {v}")
        lines.append("")
    return "\n".join(lines)


@app.command("bench-suite")
def bench_suite(
    servables: Optional[Path] = typer.Option(None, help="model repository (models.config + versions) (default: $SERVABLES_DIR, else the checkout's servables/)"),
    model: list[str] = typer.Option([], "--model", "-m", help="models to measure (default: every configured model with a version and a family)"),
    backend: Optional[str] = typer.Option(None, help="use this gRPC backend (TF Serving) instead of starting modelserver; CPU of the backend is then not counted"),
    concurrency: str = typer.Option("1,8,32", help="comma-separated concurrency levels"),
    duration: float = typer.Option(8.0, help="measured seconds per row"),
    warmup: float = typer.Option(2.0, help="unmeasured seconds before each row"),
    max_batch_size: int = typer.Option(32, help="batching-on gateway: largest merged batch (rows)"),
    max_latency_ms: float = typer.Option(2.0, help="batching-on gateway: longest queue wait"),
    workers: int = typer.Option(1, help="uvicorn workers per gateway"),
    out: Path = typer.Option(Path("bench-results"), help="directory for report.json, report.md and server logs"),
    skip_in_process: bool = typer.Option(False, help="skip (a): do not load the models in this process"),
    intra_op_threads: int = typer.Option(0, help="modelserver --tensorflow_intra_op_parallelism, also used in process (0: TF picks)"),
    inter_op_threads: int = typer.Option(0, help="modelserver --tensorflow_inter_op_parallelism, also used in process (0: TF picks; <0: caller's thread)"),
    inputs_file: Optional[Path] = typer.Option(None, help="JSON Lines, one `inputs` object per line, sent in turn on every path (default: each family's example)"),
) -> None:
    """Benchmark every served model in-process, over direct gRPC and through the gateway (batching off/on)."""
    from gateway.families import family_for

    servables = (servables or repo_mod.default_repository()).resolve()
    out.mkdir(parents=True, exist_ok=True)
    levels = [int(c) for c in concurrency.split(",") if c.strip()]
    config = repo_mod.read_config(servables / repo_mod.CONFIG_NAME)
    targets: dict[str, Path] = {}
    for mc in config.model_config_list.config:
        if model and mc.name not in model:
            continue
        versions = repo_mod.list_versions(repo_mod.resolve_base_path(mc.base_path, servables))
        if versions and family_for(mc.name) is not None:
            targets[mc.name] = repo_mod.resolve_base_path(mc.base_path, servables) / str(max(versions))
    missing = sorted(set(model) - set(targets))
    if missing:
        raise typer.BadParameter(f"not configured, no version on disk, or no gateway family: {missing}")
    if not targets:
        raise typer.BadParameter(f"no model with a published version in {servables}")

    file_inputs = read_inputs_file(inputs_file) if inputs_file else None
    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "inputs": {"file": str(inputs_file) if inputs_file else None, "count": len(file_inputs or [])}, "cpus": os.cpu_count(), "load_before": os.getloadavg()[0], "max_batch_size": max_batch_size,
            "max_latency_ms": max_latency_ms, "duration_s": duration, "warmup_s": warmup, "workers": workers, "levels": levels,
            "tensorflow_intra_op_parallelism": intra_op_threads, "tensorflow_inter_op_parallelism": inter_op_threads}
    address = backend or f"127.0.0.1:{_free_port()}"
    # every input through each family's own checks and preprocessing first: a bad line stops the run here
    prepared = {}
    for m, version_dir in targets.items():
        family = family_for(m)
        assert family is not None
        inputs = file_inputs or [family.example]
        prepared[m] = (inputs, direct_requests(m, int(version_dir.name), inputs, servables, address))
    stack = Stack()
    rows: list[Row] = []
    try:
        backend_pids: list[int] = []
        if backend is None:
            port = int(address.rsplit(":", 1)[1])
            ms = stack.start("modelserver", [sys.executable, "-m", "modelserver", "--port", str(port),
                                             "--model_config_file", str(servables / repo_mod.CONFIG_NAME), *tf_thread_flags(intra_op_threads, inter_op_threads)],
                             env={"TF_CPP_MIN_LOG_LEVEL": "2"}, log=out / "modelserver.log")
            backend_pids.append(ms.pid)
        gateways: dict[str, tuple[str, Any]] = {}
        for name, batching in (("off", "false"), ("on", "true")):
            port = _free_port()
            env = {"GATEWAY_BATCHING_ENABLED": batching, "GATEWAY_BATCH_MAX_SIZE": str(max_batch_size), "GATEWAY_BATCH_MAX_LATENCY_MS": str(max_latency_ms),
                   "GATEWAY_LOG_LEVEL": "warning", "GATEWAY_API_KEYS": "", "GATEWAY_BATCHING": "{}"}
            proc = stack.start(f"gateway batching {name}", [sys.executable, "-m", "gateway", "--port", str(port), "--backend", address, "--servables", str(servables),
                                                             "--workers", str(workers)], env=env, log=out / f"gateway-{name}.log")
            gateways[name] = (f"http://127.0.0.1:{port}", proc)
        for m in targets:
            for url, _proc in gateways.values():
                _wait(url, m, stack, out)
        for m, version_dir in targets.items():
            inputs, direct = prepared[m]
            typer.echo(f"[bench-suite] {m} version {version_dir.name}", err=True)
            if not skip_in_process:
                model_only, end_to_end = in_process_calls(m, version_dir, inputs, (intra_op_threads, inter_op_threads))
                for c in levels:
                    for label, fn in (("in-process model", model_only), ("in-process end-to-end", end_to_end)):
                        run, cpu = threaded_loop(fn, c, duration, warmup)
                        rows.append(_row(m, label, run, cpu))
            for c in levels:
                cpu0 = _cpu(backend_pids) if backend_pids else None
                run = run_client(_grpc_run(address, direct, c, duration, warmup))
                rows.append(_row(m, "direct gRPC", run, None if cpu0 is None else _cpu(backend_pids) - cpu0, run.completed))
                for name, (url, proc) in gateways.items():
                    pids = [proc.pid, *_children(proc.pid), *backend_pids]
                    cpu0 = _cpu(pids)
                    run = run_client(_http_run(url, m, int(version_dir.name), inputs, c, duration, warmup))
                    rows.append(_row(m, f"gateway batching {name}", run, _cpu(pids) - cpu0, run.completed))
                for r in rows[-3:]:
                    typer.echo(f"  c={c:<3} {r.path:<22} p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:7.2f} ms  {r.rps:7.0f} req/s  errors {r.errors}", err=True)
    finally:
        stack.stop()
    summary = ratios(rows, max_latency_ms)
    (out / "report.json").write_text(json.dumps({"meta": meta, "rows": [asdict(r) for r in rows], "summary": summary}, indent=2))
    text = markdown(rows, summary, meta)
    (out / "report.md").write_text(text)
    typer.echo(text)


def _children(pid: int) -> list[int]:
    """uvicorn worker processes of a multi-worker gateway (their CPU is the gateway's)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
