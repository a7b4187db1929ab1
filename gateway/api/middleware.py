"""The one ASGI middleware every request passes: request id, body-size limit, access log, last-resort 500.

Pure ASGI (not BaseHTTPMiddleware) because it sits on the hot path of every /predict.
- `X-Request-ID`: taken from the request when it is a sane token (≤128 chars of [A-Za-z0-9._:-]), else 32
  random hex digits (as `uuid4().hex`, without the system call and the UUID object); stored in
  `request.state.request_id` and set on every response, errors included.
- Body limit: a `Content-Length` above the limit is answered 413 at once; a body without length (chunked)
  is counted while it is read and the read fails with PayloadTooLarge (the route's error handler answers
  413). The rest of an oversize body is drained up to a cap first, so an ordinary client gets to read the
  413 instead of a reset connection.
- One JSON log line per request (logger `gateway.access`): method, path, status, duration, model, version,
  stage timings, error code — the route fills `request.state.log`. The record is made without
  `Logger.info`'s caller lookup (a stack walk per request; the line says where it comes from).
- An exception escaping everything becomes a JSON 500 without a stack trace (the trace goes to the log).
Every request passes it: POST /predict has one route and no path around the app's middleware stack.
"""

from __future__ import annotations

import logging
import random
import re
import time
from typing import Any

import orjson

from gateway import errors as E
from gateway.api.errors import error_body
from gateway.metrics import Metrics

log = logging.getLogger("gateway.access")
_RID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
DRAIN_FACTOR = 4  # drain at most this many times the limit before giving up on a polite 413


def request_id(header: bytes | None) -> str:
    """The client's `X-Request-ID` when it is a sane token, else a new random one."""
    rid_in = header.decode("latin-1") if header else ""
    return rid_in if _RID.match(rid_in) else f"{random.getrandbits(128):032x}"


def count_predict(metrics: Metrics, entry: dict[str, Any], status: int) -> None:
    metrics.requests.labels(entry.get("model", "-"), str(entry.get("version", "-")), str(status)).inc()


def log_access(rid: str, method: str | None, path: str, status: int, started: float, entry: dict[str, Any]) -> None:
    """The request's one JSON access line (`started`: its time.perf_counter() on arrival)."""
    if log.isEnabledFor(logging.INFO):
        line = {"request_id": rid, "method": method, "path": path, "status": status, "duration_ms": round((time.perf_counter() - started) * 1e3, 3), **entry}
        log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, orjson.dumps(line).decode(), None, None))


def internal_error(metrics: Metrics, entry: dict[str, Any], rid: str) -> dict[str, Any]:
    """Log the exception being handled; the body of the last-resort 500."""
    log.exception("unhandled error in request %s", rid)
    entry["error"] = "internal"
    metrics.errors.labels("internal").inc()
    return error_body("internal", f"internal error; quote request id {rid} when reporting it", rid)


class RequestContextMiddleware:
    def __init__(self, app: Any, *, max_body_bytes: int, metrics: Metrics) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        headers = dict(scope.get("headers") or ())
        rid = request_id(headers.get(b"x-request-id"))
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        entry: dict[str, Any] = {}
        state["log"] = entry
        rid_header = (b"x-request-id", rid.encode())
        status_box = [0]
        started = [False]

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started[0] = True
                status_box[0] = message["status"]
                message["headers"] = [*message.get("headers", []), rid_header]
            await send(message)

        limit = self.max_body
        length = headers.get(b"content-length")
        self.metrics.inflight.inc()
        try:
            if length is not None and length.isdigit() and int(length) > limit:
                await _drain(receive, DRAIN_FACTOR * limit)
                msg = f"request body of {int(length)} bytes exceeds the limit of {limit} bytes (GATEWAY_MAX_BODY_BYTES)"
                entry["error"] = E.PayloadTooLarge.code
                self.metrics.errors.labels(E.PayloadTooLarge.code).inc()
                await _send_json(send_wrapper, 413, error_body(E.PayloadTooLarge.code, msg, rid))
                return
            received = [0]

            async def receive_limited() -> dict[str, Any]:
                message = await receive()
                if message["type"] == "http.request":
                    received[0] += len(message.get("body", b""))
                    if received[0] > limit:
                        if message.get("more_body"):
                            await _drain(receive, DRAIN_FACTOR * limit)
                        raise E.PayloadTooLarge(f"request body exceeds the limit of {limit} bytes (GATEWAY_MAX_BODY_BYTES)")
                return message

            await self.app(scope, receive_limited, send_wrapper)
        except Exception:
            body = internal_error(self.metrics, entry, rid)
            status_box[0] = 500
            if not started[0]:
                await _send_json(send_wrapper, 500, body)
        finally:
            self.metrics.inflight.dec()
            path = scope.get("path", "")
            if path == "/predict" and scope.get("method") == "POST":
                count_predict(self.metrics, entry, status_box[0])
            log_access(rid, scope.get("method"), path, status_box[0], start, entry)


async def _drain(receive: Any, cap: int) -> None:
    seen = 0
    while seen <= cap:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body"):
            return


def json_headers(payload: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]


async def _send_json(send: Any, status: int, body: dict[str, Any]) -> None:
    payload = orjson.dumps(body)
    await send({"type": "http.response.start", "status": status, "headers": json_headers(payload)})
    await send({"type": "http.response.body", "body": payload})
