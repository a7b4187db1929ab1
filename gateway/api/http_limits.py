"""uvicorn's httptools protocol with limits on the request head (431 Request Header Fields Too Large).

Why: httptools (llhttp) has no header limit at all — a 2 MB header or 20,000 header lines were parsed,
buffered and handed to the app (measured, issue 25). h11 has one, but the gateway runs httptools for speed.
This subclass only counts: the request line and header bytes as the parser hands them over, and the bytes
fed while a request's head is still incomplete (so memory stays within the limit plus one socket read even
while llhttp buffers one endless header), at most GATEWAY_MAX_HEADER_BYTES; and the header lines, at most
GATEWAY_MAX_HEADERS. Past either, the connection gets a JSON 431 and is
closed. Everything else is uvicorn's.
"""

from __future__ import annotations

import functools

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.core.config import Settings


@functools.cache
def _limits() -> tuple[int, int]:
    """Read once per worker process (the protocol is built per connection)."""
    s = Settings()
    return s.max_header_bytes, s.max_headers


LINGER_S = 2.0


class _HeadTooLarge(Exception):
    pass


class HeaderLimitedHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        self._head_bytes, self._head_lines, self._in_head, self._too_large = 0, 0, True, ""
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._too_large:
            return  # refused: the rest of the head is read and dropped until the lingering close
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        max_bytes, _ = _limits()
        if self._in_head and self._head_bytes > max_bytes and not self.transport.is_closing():
            self._too_large = f"request line and headers exceed {max_bytes} bytes"
            self.send_400_response("")

    def on_message_begin(self) -> None:
        self._in_head, self._head_lines, self._parsed = True, 0, 0
        super().on_message_begin()

    def _count(self, n: int) -> None:
        self._parsed += n
        max_bytes, _ = _limits()
        if self._parsed > max_bytes:
            self._too_large = f"request line and headers exceed {max_bytes} bytes"
            raise _HeadTooLarge  # httptools turns it into a parser error -> send_400_response below

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_lines += 1
        _, max_lines = _limits()
        if self._head_lines > max_lines:
            self._too_large = f"more than {max_lines} header lines"
            raise _HeadTooLarge
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes = False, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes = True, 0  # the next request on this connection starts its head

    def send_400_response(self, msg: str) -> None:
        if not self._too_large:
            return super().send_400_response(msg)
        max_bytes, max_lines = _limits()
        body = orjson.dumps({"error": {"code": "headers_too_large", "message": f"{self._too_large}; the limits are {max_bytes} bytes "
                                       f"and {max_lines} lines (GATEWAY_MAX_HEADER_BYTES, GATEWAY_MAX_HEADERS)", "request_id": ""}})
        head = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
                b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n")
        self.transport.write(head + body)
        # Lingering close: closing now with the client's bytes still unread makes the kernel send a reset,
        # which can destroy the 431 before the client reads it. Half-close instead, drop what still
        # arrives, and close for good shortly after.
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()
