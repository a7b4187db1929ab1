"""POST /predict with a JSON body, answered from the HTTP protocol without the ASGI request cycle.

Why: on the 2-core VM the gateway's one event-loop thread is what limits throughput with batching on, and
the ASGI cycle around the route cost about a tenth of its work per request. The cycle is: uvicorn's
RequestResponseCycle with its event, the `receive`/`send` messages, the proxy-headers layer,
FastAPI/Starlette's `__call__`, the short path's middleware closures, the exception middleware and
`Response.__call__`. Measured side by side against GATEWAY_FAST_PREDICT=false (session 7, 2026-11-27,
docs/gateway.md "Fourth look"), concurrency 32 with batching, three alternating rounds: gateway CPU per
request 0.92-0.99 ms instead of 1.03-1.13, and 943-1,032 requests/s instead of 834-864.

The same code answers either way:
- the route `predict_endpoint`, on a Starlette `Request`;
- the app's exception handlers;
- the request-context helpers of `gateway.api.middleware` for the request id, the request counter, the
  access line and the last-resort 500.

Only the transport differs. This path takes only the plain case (`takes_fast_path`):
- a `Content-Length` body within GATEWAY_MAX_BODY_BYTES, not chunked;
- a JSON content type;
- no `Expect`, no `Origin` (CORS stays with its middleware), no upgrade.

Anything else — multipart, oversize, browsers' cross-origin calls — takes the ASGI stack, where the same
route answers. GATEWAY_FAST_PREDICT=false turns this path off. Its access lines carry `"fast": true`.
"""

from __future__ import annotations

import inspect
import time
from typing import Any, Callable

from starlette.requests import Request

from gateway.api.middleware import count_predict, internal_error, json_headers, log_access, request_id
from gateway.api.responses import dumps

JSON_TYPES = (b"application/json",)
Writer = Callable[[int, list[tuple[bytes, bytes]], bytes], None]


def takes_fast_path(headers: list[tuple[bytes, bytes]], max_body_bytes: int) -> bool:
    """True for the plain case this path answers; `headers` are uvicorn's (lower-case name, value) pairs."""
    length = None
    json_body = False
    for name, value in headers:
        if name == b"content-length":
            if length is not None or not value.isdigit():
                return False
            length = int(value)
        elif name == b"content-type":
            mtype = value.split(b";", 1)[0].strip().lower()
            json_body = mtype in JSON_TYPES or mtype.endswith(b"+json")
        elif name in (b"transfer-encoding", b"expect", b"origin", b"upgrade"):
            return False
    return json_body and length is not None and length <= max_body_bytes


def find_app(app: Any) -> Any:
    """The gateway's own app inside uvicorn's wrappers (proxy headers, message logger), or None."""
    from gateway.api.app import GatewayApp

    for _ in range(8):
        if isinstance(app, GatewayApp):
            return app
        app = getattr(app, "app", None)
    return None


async def answer(app: Any, scope: dict[str, Any], body: bytes, write: Writer) -> None:
    """Answer one POST /predict: `write(status, headers, body)` once, then count it and log it."""
    from gateway.api.routes.predict import predict_endpoint

    started = time.perf_counter()
    metrics = app.state.metrics
    rid = request_id(next((v for k, v in scope["headers"] if k == b"x-request-id"), None))
    entry: dict[str, Any] = {"fast": True}  # in the access line: which path answered
    scope["state"].update(request_id=rid, log=entry)
    scope["app"] = app
    extra = [(b"x-request-id", rid.encode())]
    if app.state.settings.cors_origins:  # as Starlette's CORS middleware answers a request without Origin
        extra.append((b"vary", b"Origin"))
    status = 500
    metrics.inflight.inc()
    try:
        try:
            request = Request(scope, _receive_once(body))
            try:
                response = await predict_endpoint(request)
            except Exception as exc:
                handler = _handler_for(app, exc)
                if handler is None:
                    raise
                response = handler(request, exc)
                if inspect.isawaitable(response):
                    response = await response
            status = response.status_code
            write(status, [*response.raw_headers, *extra], response.body)
        except Exception:
            payload = dumps(internal_error(metrics, entry, rid))
            status = 500
            write(500, [*json_headers(payload), *extra], payload)
    finally:
        metrics.inflight.dec()
        count_predict(metrics, entry, status)
        log_access(rid, "POST", "/predict", status, started, entry)


def _handler_for(app: Any, exc: Exception) -> Any:
    """The app's exception handler for `exc`, looked up along its classes as Starlette does."""
    handlers = app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers and cls is not Exception:
            return handlers[cls]
    return None


def _receive_once(body: bytes) -> Callable[[], Any]:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
