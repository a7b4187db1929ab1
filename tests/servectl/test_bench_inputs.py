"""Varied traffic in the load generator: `--inputs-file` parsing, and workers that take the inputs in turn
from different starting points (over a real socket for HTTP)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import typer

from servectl.bench import closed_loop, grpc_worker_factory, http_worker_factory, read_inputs_file, run_client


def test_inputs_file_is_one_object_per_line_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    f = tmp_path / "in.jsonl"
    f.write_text('{"text": "一"}\n\n{"texts": ["二", "三"]}\n', encoding="utf-8")
    assert read_inputs_file(f) == [{"text": "一"}, {"texts": ["二", "三"]}]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "ok"}\n{"text": \n', "line 2 is not JSON"),
        ('{"text": "ok"}\n["a"]\n', "line 2 is a JSON list"),
        ('"just a string"\n', "line 1 is a JSON str"),
        ("\n\n", "has no `inputs` object"),
    ],
)
def test_a_bad_inputs_file_is_refused_with_the_line_that_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    f = tmp_path / "in.jsonl"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(typer.BadParameter, match=message):
        read_inputs_file(f)


def test_a_missing_inputs_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(typer.BadParameter, match="cannot read inputs file"):
        read_inputs_file(tmp_path / "absent.jsonl")


def test_http_workers_send_the_requests_in_turn_from_their_own_start() -> None:
    """Two keep-alive workers against a real asyncio HTTP server that records which request it got."""
    requests = [f"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n{i}".encode() for i in range(3)]
    seen: dict[int, list[str]] = {}

    async def scenario() -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            conn = len(seen)
            seen[conn] = []
            try:
                while True:
                    await reader.readuntil(b"\r\n\r\n")
                    seen[conn].append((await reader.readexactly(1)).decode())
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    await writer.drain()
            except asyncio.IncompleteReadError:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        conns: list = []
        make = http_worker_factory("127.0.0.1", port, requests, conns)
        workers = [await make(), await make()]
        for _ in range(4):
            for call in workers:
                assert await call() is None
        for c in conns:
            await c.close()
        server.close()
        await server.wait_closed()

    run_client(scenario())
    assert sorted(seen.values()) == [["0", "1", "2", "0"], ["1", "2", "0", "1"]]


def test_grpc_workers_send_the_requests_in_turn_from_their_own_start() -> None:
    sent: list[tuple[int, bytes]] = []
    requests = [b"a", b"b", b"c"]

    async def scenario() -> None:
        current = 0

        async def predict(request: bytes, timeout: float) -> None:
            sent.append((current, request))

        make = grpc_worker_factory(predict, requests)
        workers = [await make(), await make()]
        for _ in range(2):
            for current, call in enumerate(workers):
                assert await call() is None

    asyncio.run(scenario())
    assert [r for w, r in sent if w == 0] == [b"a", b"b"]
    assert [r for w, r in sent if w == 1] == [b"b", b"c"]


def test_closed_loop_counts_every_request_of_varied_traffic() -> None:
    requests = [b"a", b"b"]
    got: list[bytes] = []

    async def predict(request: bytes, timeout: float) -> None:
        got.append(request)
        await asyncio.sleep(0.001)

    run = asyncio.run(closed_loop("direct gRPC", 2, 0.05, 0.0, grpc_worker_factory(predict, requests)))
    assert run.completed == len(got) > 2 and run.errors == 0
    assert set(got) == {b"a", b"b"}
