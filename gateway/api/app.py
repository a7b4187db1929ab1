"""The gateway's FastAPI subclass: POST /predict takes a short path through the ASGI stack.

Why: FastAPI wraps every request in about ten ASGI layers (server-error and telemetry middleware, its body
limit, the exception middleware, an exit stack, the router's route scan, the endpoint wrapper). /predict
needs only three of them: our request-context middleware (request id, body limit, access log, last-resort
500), CORS when it is configured, and the exception middleware that turns `GatewayError` into the JSON
error body. At concurrency 1 every layer is paid at the speed of a CPU that was idle while the backend
worked, which on the 2-core VM is several times slower than back-to-back code (docs/gateway.md, "Where the
gateway's time goes"). With the one-write responses of gateway.api.http_protocol, it took the gateway's
CPU per request at concurrency 32 from 1.16-1.18 to 1.08-1.13 ms (side by side, 2026-11-27).

The short path is built from the same pieces as the full stack: the same user middleware classes with the
same arguments, Starlette's own `ExceptionMiddleware` with the app's exception handlers, and the endpoint of
the plain Starlette route, called by `endpoint_app` (Starlette's route wrapper would add a second
exception-handling layer and a per-request closure for nothing: the exception middleware around it already
answers every error). Any other request, and a /predict the short path does not recognise (another
method, a `root_path` prefix), goes through the full FastAPI stack, where the same route answers it.
FastAPI's OpenTelemetry layer is not on the short path: the gateway's own Prometheus metrics and access
log cover /predict.
Plain JSON requests go one step further and skip the ASGI cycle altogether (gateway.api.fast_predict, under
GATEWAY_FAST_PREDICT); the short path answers the rest: multipart, CORS, chunked or oversize bodies.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from fastapi import FastAPI
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

PREDICT_PATH = "/predict"


class PredictShortcut:
    """Outermost ASGI layer: POST /predict to `fast`, everything else (lifespan included) to `full`."""

    def __init__(self, full: ASGIApp, fast: ASGIApp) -> None:
        self.full = full
        self.fast = fast

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PREDICT_PATH and scope["method"] == "POST":
            await self.fast(scope, receive, send)
        else:
            await self.full(scope, receive, send)


def endpoint_app(endpoint: Callable[[Request], Awaitable[ASGIApp]]) -> ASGIApp:
    """The ASGI app of a `Request -> Response` endpoint, for use inside `ExceptionMiddleware`."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await endpoint(Request(scope, receive, send))
        await response(scope, receive, send)

    return app


class GatewayApp(FastAPI):
    """FastAPI with the /predict short path. Set `predict_route` (a Starlette `Route`) before the first request."""

    predict_route: Route | None = None

    def build_middleware_stack(self) -> ASGIApp:
        full = super().build_middleware_stack()
        if self.predict_route is None:
            return full
        handlers: dict[Any, Any] = {k: v for k, v in self.exception_handlers.items() if k not in (500, Exception)}
        fast: ASGIApp = ExceptionMiddleware(endpoint_app(self.predict_route.endpoint), handlers=handlers, debug=self.debug)
        for cls, args, kwargs in reversed(self.user_middleware):
            fast = cls(fast, *args, **kwargs)
        return PredictShortcut(full, fast)
