"""uvicorn's httptools protocol with one socket write per response instead of two, and POST /predict
answered without the ASGI cycle in the plain case (`GatewayHttpProtocol`, gateway.api.fast_predict).

Why: uvicorn writes the status line and headers when the app sends `http.response.start`, then the body
when it sends `http.response.body`: two `write` system calls, and on loopback two TCP segments, so the
client wakes up twice. Sampling the gateway under load (py-spy, 2026-11-27) put 13 % of its CPU in
those two writes. Here the headers wait for the body and both go out in one `write`, at the moment the
body is sent, so the response is not held back. A write that no second write follows in the same loop
step is sent on the loop's next turn.

Measured together with the /predict short path (gateway.api.app), side by side with the previous gateway
against one modelserver, two rounds each (2026-11-27): gateway CPU per request at concurrency 32 with
batching 1.08-1.13 ms instead of 1.16-1.18 ms; at concurrency 1 no difference beyond the run-to-run noise.

Large bodies (above `COALESCE_MAX_BYTES`) are not joined: copying megabytes of PNGs to save one system
call costs more than it saves. `close()` sends what is pending first, so nothing written is lost; flow
control (pause/resume) stays with the real transport, which still receives every byte in order.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from gateway.api import fast_predict

COALESCE_MAX_BYTES = 64 * 1024


class CoalescingTransport:
    """A transport proxy: a write is held until the next write of the same loop step (headers until the
    body), then both go to the real transport as one; a lone write goes on the loop's next turn."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._pending_bytes = 0

    def write(self, data: bytes) -> None:
        """The first write of a loop step waits (the status line and headers); the next one (the body) goes
        out at once together with it, so the response is not held back; a lone write goes on the next turn."""
        if not data:
            return
        if not self._pending:
            if len(data) > COALESCE_MAX_BYTES:
                self._transport.write(data)
                return
            self._loop.call_soon(self.flush)
            self._pending.append(bytes(data))
            self._pending_bytes = len(data)
            return
        if self._pending_bytes + len(data) > COALESCE_MAX_BYTES:
            self.flush()
            self._transport.write(data)
            return
        self._pending.append(bytes(data))
        self.flush()

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending = []
        self._pending_bytes = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._pending_bytes + self._transport.get_write_buffer_size()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # everything else (is_closing, get_extra_info, pause_reading, abort...)
        return getattr(self._transport, name)


class FastCycle:
    """What uvicorn's protocol reads of the request in flight, for a POST /predict answered by
    `gateway.api.fast_predict`. While one is in flight, uvicorn queues pipelined requests behind it as it does
    behind its own cycles, and its shutdown waits for the answer (`keep_alive` off: close after it)."""

    __slots__ = ("body", "keep_alive", "response_complete", "disconnected")

    class _NoEvent:
        @staticmethod
        def set() -> None:  # uvicorn wakes a waiting ASGI `receive`; nobody waits here
            return None

    message_event = _NoEvent()

    def __init__(self, keep_alive: bool) -> None:
        self.body = bytearray()
        self.keep_alive = keep_alive
        self.response_complete = False
        self.disconnected = False


class GatewayHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with coalesced writes (`CoalescingTransport`) and POST /predict answered
    without the ASGI cycle when the request is the plain case (gateway.api.fast_predict says why and which).
    Pass as `uvicorn.run(..., http=GatewayHttpProtocol)`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
        self._gateway_app = fast_predict.find_app(self.app)  # None: not the gateway's app, ASGI for all

    def on_headers_complete(self) -> None:
        if (
            self.url == b"/predict"
            and self.parser.get_method() == b"POST"
            and (self.cycle is None or self.cycle.response_complete)
            and not self.root_path
            and self.limit_concurrency is None
            and not self.parser.should_upgrade()
        ):
            app = self._gateway_app
            settings = None if app is None else app.state.settings
            if settings is not None and settings.fast_predict and fast_predict.takes_fast_path(self.headers, settings.max_body_bytes):
                self.scope.update(method="POST", path="/predict", raw_path=b"/predict", query_string=b"")
                self.cycle = FastCycle(keep_alive=self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive())  # type: ignore[assignment]
                return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if isinstance(self.cycle, FastCycle):
            self.cycle.body += body
            return
        super().on_body(body)

    def on_message_complete(self) -> None:
        cycle = self.cycle
        if isinstance(cycle, FastCycle):
            task = self.loop.create_task(fast_predict.answer(self._gateway_app, self.scope, bytes(cycle.body), partial(self._write_fast, cycle)))
            self.tasks.add(task)  # uvicorn's shutdown waits for these
            task.add_done_callback(self.tasks.discard)
            return
        super().on_message_complete()

    def _write_fast(self, cycle: FastCycle, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """The whole response in one write; then what uvicorn does after each response (keep-alive timer,
        the next pipelined request)."""
        cycle.response_complete = True
        if self.transport.is_closing():  # the client went away meanwhile
            return
        content = [STATUS_LINE[status]]
        for name, value in (*self.server_state.default_headers, *headers):
            content.extend((name, b": ", value, b"\r\n"))
        if not cycle.keep_alive:
            content.append(b"connection: close\r\n")
        content.extend((b"\r\n", body))
        self.transport.write(b"".join(content))
        if not cycle.keep_alive:
            self.transport.close()
        self.on_response_complete()
