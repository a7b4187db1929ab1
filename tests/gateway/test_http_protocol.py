"""The coalescing transport under uvicorn (gateway.api.http_protocol): one write per loop step, nothing lost,
order kept, large bodies not copied, pending bytes sent before close."""

from __future__ import annotations

import asyncio

from gateway.api.http_protocol import COALESCE_MAX_BYTES, CoalescingTransport


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 1)}.get(name, default)


def test_headers_and_body_become_one_write_sent_with_the_body():
    async def run():
        real = RecordingTransport()
        t = CoalescingTransport(real, asyncio.get_running_loop())
        t.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        assert real.writes == [] and t.get_write_buffer_size() == 38  # the headers wait for the body
        t.write(b"{}")
        assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]  # sent with it, at once
        await asyncio.sleep(0)
        assert len(real.writes) == 1
        t.write(b"next")
        await asyncio.sleep(0)
        assert real.writes[1:] == [b"next"]
        assert t.get_extra_info("peername") == ("127.0.0.1", 1)  # the rest is the real transport's

    asyncio.run(run())


def test_large_body_is_written_after_pending_bytes_without_joining():
    async def run():
        real = RecordingTransport()
        t = CoalescingTransport(real, asyncio.get_running_loop())
        big = b"x" * (COALESCE_MAX_BYTES + 1)
        t.write(b"headers")
        t.write(big)
        assert real.writes == [b"headers", big]  # in order, at once
        await asyncio.sleep(0)
        assert real.writes == [b"headers", big]

    asyncio.run(run())


def test_close_sends_pending_bytes_first():
    async def run():
        real = RecordingTransport()
        t = CoalescingTransport(real, asyncio.get_running_loop())
        t.write(b"last words")
        t.close()
        assert real.writes == [b"last words"] and real.closed
        await asyncio.sleep(0)  # the scheduled flush finds nothing left to send
        assert real.writes == [b"last words"]

    asyncio.run(run())
