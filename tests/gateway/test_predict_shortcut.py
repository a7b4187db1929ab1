"""The /predict short path (gateway.api.app): which requests take it, and that it keeps the middleware that
matters (request context, CORS). The real-process tests in this directory exercise it end to end."""

from __future__ import annotations

import asyncio

from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware

from gateway.api.app import PredictShortcut
from gateway.api.middleware import RequestContextMiddleware
from gateway.core.config import Settings
from gateway.main import create_app


def _route(scope: dict) -> str:
    seen: list[str] = []

    def app(name: str):
        async def asgi(scope, receive, send):
            seen.append(name)

        return asgi

    asyncio.run(PredictShortcut(app("full"), app("fast"))(scope, None, None))
    return seen[0]


def test_only_post_predict_takes_the_short_path():
    assert _route({"type": "http", "method": "POST", "path": "/predict"}) == "fast"
    assert _route({"type": "http", "method": "GET", "path": "/predict"}) == "full"  # 405 from the router
    assert _route({"type": "http", "method": "OPTIONS", "path": "/predict"}) == "full"  # CORS preflight
    assert _route({"type": "http", "method": "POST", "path": "/predict/"}) == "full"
    assert _route({"type": "http", "method": "GET", "path": "/models"}) == "full"
    assert _route({"type": "lifespan"}) == "full"


def _chain(app) -> list[type]:
    layers = []
    while app is not None:
        layers.append(type(app))
        app = getattr(app, "app", None)
    return layers


def test_short_path_keeps_request_context_cors_and_error_handlers(tmp_path):
    (tmp_path / "models.config").write_text("model_config_list {}\n")
    plain = create_app(Settings(servables=str(tmp_path), backend="127.0.0.1:1"))
    stack = plain.build_middleware_stack()
    assert isinstance(stack, PredictShortcut)
    assert _chain(stack.fast)[:2] == [RequestContextMiddleware, ExceptionMiddleware]

    cors = create_app(Settings(servables=str(tmp_path), backend="127.0.0.1:1", cors_origins=["http://a.test"]))
    stack = cors.build_middleware_stack()
    assert _chain(stack.fast)[:3] == [RequestContextMiddleware, CORSMiddleware, ExceptionMiddleware]  # as in the full stack
    # the handlers that turn GatewayError into the JSON error body are the app's own
    from gateway import errors as E

    handlers = _exception_middleware(stack.fast)._exception_handlers
    assert handlers[E.GatewayError] is cors.exception_handlers[E.GatewayError]


def _exception_middleware(app) -> ExceptionMiddleware:
    while not isinstance(app, ExceptionMiddleware):
        app = app.app
    return app
