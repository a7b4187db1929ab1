"""`servectl bench`: load generator for the gateway, next to direct gRPC to the same backend.

For each model and concurrency it runs closed-loop clients for `--duration` seconds and prints p50/p99
latency and throughput, first through the gateway (POST /predict over HTTP/1.1 keep-alive) and then
straight to the backend (Predict over gRPC with the very tensors the gateway would send: the family's
preprocess on the served version's assets, encoded by the gateway's own backend client). The difference
is the gateway's own overhead (HTTP, validation, pre/post-processing, tensor conversion, JSON).

The HTTP client is a minimal asyncio keep-alive client (pre-encoded request bytes, Content-Length
responses) so the load generator costs little CPU beside the servers on a small machine.
Inputs: the family's example, one `--inputs` object, or `--inputs-file` (JSON Lines, one `inputs` object per
line, e.g. held-out messages): every worker then cycles through the lines from its own starting line, so
the servers see varied traffic, not one message answered over and over. Run benchmarks
one at a time (`flock /tmp/cpu.lock servectl bench ...`) so figures are not distorted.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional, Sequence
from urllib.parse import urlparse

import typer

from common.repository import default_repository
from servectl.app import app


@dataclass
class Run:
    path: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: int = 0
    seconds: float = 0.0
    error_sample: str = ""
    completed: int = 0  # all requests, warm-up included
    cpu_ms_per_request: float | None = None  # server process CPU (user+sys) per request, when its pid is known

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1e3

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def run_client(coro: Awaitable[Any]) -> Any:
    """Run a load generator on uvloop when it is installed (uvicorn[standard] brings it): the client shares
    the machine's cores with the servers it measures, and on uvloop it costs less CPU per request, so less
    of the figure is the load generator's own cost. Measured 2026-11-27 against trivial servers at c=32 on
    this 2-core VM (with a training job running): HTTP 46 vs 63-96 us per request, gRPC 270-300 vs 320-390."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)  # type: ignore[arg-type]
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)  # type: ignore[arg-type]


def process_cpu_seconds(pid: int) -> float:
    """user+system CPU seconds of a local process (Linux /proc): what a request costs, independent of how
    busy the machine is (latency on a shared machine is not)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def read_inputs_file(path: Path) -> list[dict[str, Any]]:
    """The `inputs` objects of a JSON Lines file (blank lines skipped); a bad line is named by its number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise typer.BadParameter(f"cannot read inputs file {path}: {e}") from None
    out = []
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            raise typer.BadParameter(f"{path} line {no} is not JSON ({e.msg}); each line must be one `inputs` object") from None
        if not isinstance(value, dict):
            raise typer.BadParameter(f"{path} line {no} is a JSON {type(value).__name__}; each line must be one `inputs` object")
        out.append(value)
    if not out:
        raise typer.BadParameter(f"inputs file {path} has no `inputs` object")
    return out


class HttpConnection:
    """One keep-alive HTTP/1.1 connection sending pre-encoded requests in turn, from request `start` on."""

    def __init__(self, host: str, port: int, requests: Sequence[bytes], start: int = 0) -> None:
        if not requests:
            raise ValueError("HttpConnection needs at least one request")
        self.host, self.port, self.requests = host, port, requests
        self.next = start % len(requests)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(self.requests[self.next])
        self.next = (self.next + 1) % len(self.requests)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def closed_loop(name: str, concurrency: int, duration: float, warmup: float, make_worker: Callable[[], Awaitable[Callable[[], Awaitable[str | None]]]]) -> Run:
    """`concurrency` workers each send, wait, send again; latencies counted after `warmup` seconds."""
    run = Run(name, concurrency)
    start = time.perf_counter()
    t_measure, t_end = start + warmup, start + warmup + duration

    async def worker() -> None:
        call = await make_worker()
        while True:
            t0 = time.perf_counter()
            if t0 >= t_end:
                return
            error = await call()
            t1 = time.perf_counter()
            run.completed += 1
            if t0 >= t_measure:
                if error is None:
                    run.latencies.append(t1 - t0)
                else:
                    run.errors += 1
                    run.error_sample = run.error_sample or error

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.seconds = duration
    return run


def http_worker_factory(host: str, port: int, requests: Sequence[bytes], connections: list[HttpConnection]) -> Callable[[], Awaitable[Callable[[], Awaitable[str | None]]]]:
    """closed_loop's `make_worker` for HTTP: one keep-alive connection per worker (kept in `connections`);
    worker k starts at request k, so concurrent workers send different requests."""

    async def make() -> Callable[[], Awaitable[str | None]]:
        conn = HttpConnection(host, port, requests, start=len(connections))
        connections.append(conn)

        async def call() -> str | None:
            status, payload = await conn.send()
            return None if status == 200 else f"HTTP {status}: {payload[:200]!r}"

        return call

    return make


def grpc_worker_factory(predict: Any, requests: Sequence[bytes]) -> Callable[[], Awaitable[Callable[[], Awaitable[str | None]]]]:
    """closed_loop's `make_worker` for direct gRPC: serialized PredictRequests in turn on a shared channel,
    worker k starting at request k (as the HTTP workers do)."""
    made = 0

    async def make() -> Callable[[], Awaitable[str | None]]:
        import grpc

        nonlocal made
        at = made % len(requests)
        made += 1

        async def call() -> str | None:
            nonlocal at
            request = requests[at]
            at = (at + 1) % len(requests)
            try:
                await predict(request, timeout=60)
            except grpc.aio.AioRpcError as e:
                return f"{e.code().name}: {e.details()}"
            return None

        return call

    return make


def direct_requests(model: str, version: int, inputs: Sequence[dict[str, Any]], servables: Path, backend: str) -> list[bytes]:
    """The serialized PredictRequests the gateway would send for each of `inputs` (same family code, same
    assets, loaded once); an input the family refuses is named by its position."""
    from pydantic import ValidationError

    from common import manifest as mf
    from common import repository as repo
    from gateway.backend import Backend
    from gateway.core.config import Settings
    from gateway.errors import GatewayError
    from gateway.families import family_for

    family = family_for(model)
    if family is None:
        raise typer.BadParameter(f"no gateway family for model {model!r}")
    config = repo.read_config(servables / repo.CONFIG_NAME)
    mc = repo.model_config(config, model)
    if mc is None:
        raise typer.BadParameter(f"model {model!r} is not in {servables / repo.CONFIG_NAME}")
    version_dir = repo.resolve_base_path(mc.base_path, servables) / str(version)
    settings = Settings(backend=backend, servables=servables)
    assets = family.load_assets(version_dir, mf.read_manifest(version_dir), settings)
    client = Backend(settings)
    out = []
    for i, one in enumerate(inputs):
        try:
            parsed = family.Inputs.model_validate(one)
            arrays = family.preprocess(parsed, assets).arrays
        except (ValidationError, GatewayError) as e:
            raise typer.BadParameter(f"inputs #{i + 1} is not valid for {model!r}: {e}") from None
        req = client.build_request(model, version, arrays, family.output_filter(parsed), family.signature_name(parsed))
        out.append(req.SerializeToString())
    return out


async def bench_model(model: str, gateway: str, backend: str | None, servables: Path, inputs: Sequence[dict[str, Any]] | None, levels: list[int], duration: float, warmup: float, api_key: str | None, gateway_pid: int | None = None) -> list[tuple[Run, Run | None]]:
    import grpc
    import httpx

    from protos import predict_pb2, rpc

    url = urlparse(gateway)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    detail = httpx.get(f"{gateway}/models/{model}", timeout=10)
    if detail.status_code != 200:
        raise typer.BadParameter(f"gateway does not serve {model!r}: {detail.text}")
    version = detail.json()["default_version"]
    if version is None:
        raise typer.BadParameter(f"model {model!r} has no served version yet")
    if inputs is None:
        from gateway.families import family_for

        family = family_for(model)
        if family is None:
            raise typer.BadParameter(f"no gateway family for {model!r}; pass --inputs")
        inputs = [family.example]
    http_requests = [predict_http_request(host, port, model, version, one, api_key) for one in inputs]
    direct_bytes = direct_requests(model, version, inputs, servables, backend) if backend else []

    connections: list[HttpConnection] = []
    http_worker = http_worker_factory(host, port, http_requests, connections)
    channel = None
    if backend:
        channel = grpc.aio.insecure_channel(backend, options=[("grpc.max_receive_message_length", 256 << 20), ("grpc.max_send_message_length", 256 << 20)])
        predict = channel.unary_unary(rpc.PREDICT.path, request_serializer=None, response_deserializer=predict_pb2.PredictResponse.FromString)
        grpc_worker = grpc_worker_factory(predict, direct_bytes)

    results = []
    try:
        for c in levels:
            cpu0 = process_cpu_seconds(gateway_pid) if gateway_pid else None
            via_gateway = await closed_loop("gateway", c, duration, warmup, http_worker)
            if cpu0 is not None and gateway_pid and via_gateway.completed:
                via_gateway.cpu_ms_per_request = (process_cpu_seconds(gateway_pid) - cpu0) * 1e3 / via_gateway.completed
            for conn in connections:
                await conn.close()
            connections.clear()
            direct = await closed_loop("direct gRPC", c, duration, warmup, grpc_worker) if backend else None
            results.append((via_gateway, direct))
    finally:
        if channel is not None:
            await channel.close()
    return results


def predict_http_request(host: str, port: int, model: str, version: int | None, inputs: dict[str, Any], api_key: str | None = None) -> bytes:
    """One pre-encoded POST /predict (HTTP/1.1, JSON body), sent as is by `HttpConnection`."""
    body = json.dumps({"model": model, "version": version, "inputs": inputs}).encode()
    extra = f"X-API-Key: {api_key}\r\n" if api_key else ""
    head = f"POST /predict HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _print(model: str, results: list[tuple[Run, Run | None]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{model}: latency (ms) and throughput (requests/s)")
    for col in ("concurrency", "path", "p50", "p99", "req/s", "errors", "added p50", "added p99", "gw CPU ms/req"):
        table.add_column(col, justify="right")
    for gw, direct in results:
        cpu = "" if gw.cpu_ms_per_request is None else f"{gw.cpu_ms_per_request:.2f}"
        table.add_row(str(gw.concurrency), gw.path, f"{gw.pct(0.5):.2f}", f"{gw.pct(0.99):.2f}", f"{gw.throughput:.0f}", str(gw.errors), "", "", cpu)
        if direct is not None:
            table.add_row(
                "", direct.path, f"{direct.pct(0.5):.2f}", f"{direct.pct(0.99):.2f}", f"{direct.throughput:.0f}", str(direct.errors),
                f"{gw.pct(0.5) - direct.pct(0.5):+.2f}", f"{gw.pct(0.99) - direct.pct(0.99):+.2f}", "",
            )
    Console().print(table)
    for gw, direct in results:
        for run in (gw, direct):
            if run is not None and run.errors:
                typer.echo(f"  {run.path} c={run.concurrency}: {run.errors} errors, e.g. {run.error_sample}", err=True)


@app.command()
def bench(
    model: list[str] = typer.Option(..., "--model", "-m", help="model to load (repeatable)"),
    gateway: str = typer.Option("http://127.0.0.1:8000", help="gateway base URL"),
    backend: Optional[str] = typer.Option(None, help="backend gRPC host:port for the direct comparison (omit to skip it)"),
    servables: Optional[Path] = typer.Option(None, help="model repository (the direct path preprocesses with the served version's assets) (default: $SERVABLES_DIR, else the checkout's servables/)"),
    concurrency: str = typer.Option("1,8,32", help="comma-separated concurrency levels"),
    duration: float = typer.Option(10.0, help="measured seconds per level and path"),
    warmup: float = typer.Option(2.0, help="unmeasured seconds before each measurement"),
    inputs: Optional[str] = typer.Option(None, help="JSON `inputs` object (default: the family's example)"),
    inputs_file: Optional[Path] = typer.Option(None, help="JSON Lines, one `inputs` object per line: workers cycle through them (varied traffic)"),
    family_module: list[str] = typer.Option([], help="extra family module to import (out-of-tree families)"),
    api_key: Optional[str] = typer.Option(None, envvar="GATEWAY_API_KEY", help="X-API-Key for gateways that require one"),
    json_out: Optional[Path] = typer.Option(None, help="also write the figures as JSON here"),
    gateway_pid: Optional[int] = typer.Option(None, help="pid of a local gateway process: also report its CPU time per request"),
) -> None:
    """Latency percentiles and throughput per model through the gateway, and the gateway's added latency."""
    import importlib

    for module in family_module:
        importlib.import_module(module)
    levels = [int(c) for c in concurrency.split(",") if c.strip()]
    if inputs and inputs_file:
        raise typer.BadParameter("give --inputs or --inputs-file, not both")
    parsed_inputs = [json.loads(inputs)] if inputs else read_inputs_file(inputs_file) if inputs_file else None
    report: dict[str, Any] = {}
    for m in model:
        results = run_client(bench_model(m, gateway.rstrip("/"), backend, (servables or default_repository()).resolve(), parsed_inputs, levels, duration, warmup, api_key, gateway_pid))
        _print(m, results)
        report[m] = [
            {
                "concurrency": gw.concurrency,
                "gateway": {"p50_ms": gw.pct(0.5), "p99_ms": gw.pct(0.99), "rps": gw.throughput, "errors": gw.errors, "n": len(gw.latencies), "cpu_ms_per_request": gw.cpu_ms_per_request},
                "direct": None if d is None else {"p50_ms": d.pct(0.5), "p99_ms": d.pct(0.99), "rps": d.throughput, "errors": d.errors, "n": len(d.latencies)},
                "added_p50_ms": None if d is None else gw.pct(0.5) - d.pct(0.5),
            }
            for gw, d in results
        ]
    if json_out:
        json_out.write_text(json.dumps(report, indent=2))
