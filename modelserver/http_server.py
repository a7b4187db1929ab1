"""The REST port: uvicorn (httptools, uvloop) on its own thread and event loop, in the model server's process.

Why uvicorn: already the gateway's server (a kept dependency), asyncio-native, and it drains in-flight
requests on shutdown. The event loop only reads bodies and writes answers; every request's work
(`RestApi.handle`: JSON, the TensorFlow call) runs on a pool of `--rest_api_num_threads` threads, as TF
Serving's HTTP server hands requests to its executor. The socket is bound before the thread starts, so a
port in use fails start-up at once (exit 2) instead of in the background.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import socket
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from modelserver.rest import RestApi

log = logging.getLogger(__name__)


class RestApp:
    """The ASGI application: one entry point, TF Serving's own dispatch (no framework routing, which would
    redirect trailing slashes or decode the path before TF Serving's regexes see it)."""

    def __init__(self, api: RestApi, executor: ThreadPoolExecutor) -> None:
        self.api = api
        self.executor = executor

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        if "gzip" in request.headers.get("content-encoding", ""):
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError, zlib.error):
                body = b""  # TF Serving drops a body it cannot uncompress (then: "The document is empty")
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        path = raw_path.split(b"?", 1)[0].decode("latin-1")
        origin = request.headers.get("origin", "")
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(self.executor, self.api.handle, scope["method"], path, body, origin)
        response = Response(content=answer.body, status_code=answer.status, headers=dict(answer.headers))
        await response(scope, receive, send)


class RestServer:
    def __init__(self, api: RestApi, port: int, *, num_threads: int, drain_seconds: float, host: str = "0.0.0.0") -> None:
        self.port = port
        self.host = host
        self.prometheus_path = api.prometheus_path
        self.executor = ThreadPoolExecutor(max(num_threads, 1), thread_name_prefix="modelserver-rest")
        self.config = uvicorn.Config(
            RestApp(api, self.executor),
            lifespan="off",
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=max(int(drain_seconds), 1),
        )
        self.server = uvicorn.Server(self.config)
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def start(self, timeout: float = 30.0) -> int:
        """Bind, serve on a background thread, return the bound port once uvicorn accepts connections."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT only; a listening port still fails
        try:
            sock.bind((self.host, self.port))
        except OSError as e:
            sock.close()
            raise OSError(f"cannot bind REST port {self.port}: {e.strerror or e}") from None
        sock.set_inheritable(True)
        self._socket = sock
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, name="modelserver-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self.server.started:
            raise RuntimeError(f"REST server on port {self.port} did not start (see the log)")
        return self.port

    def begin_stop(self) -> None:
        """Stop accepting; requests in flight go on (uvicorn waits up to the drain timeout)."""
        self.server.should_exit = True

    def stop(self, timeout: float | None = None) -> None:
        self.begin_stop()
        if self._thread is not None:
            self._thread.join(timeout)
        self.executor.shutdown(wait=False, cancel_futures=True)
