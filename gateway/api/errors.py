"""THE mapping of failures to HTTP responses (the HTTP edge of the gateway).

Handlers, families, the registry and the backend client raise domain errors (`gateway.errors`), each with
its HTTP status as a class attribute; only this module turns them into responses. The gRPC side of the
same errors is `gateway.grpc_status`, below this layer (the backend client uses it);
`tests/gateway/test_grpc_status.py` checks that the two agree with gRPC's canonical HTTP mapping.

Every error leaves as `{"error": {"code", "message", "request_id"}}`, with `Retry-After` on 503; never a
stack trace (unexpected exceptions are logged with their traceback and answered with a generic 500).
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway import errors as E
from gateway.api.responses import ORJSONResponse

log = logging.getLogger("gateway.errors")

# Plain HTTP errors raised by the framework (unknown route, wrong method) -> error code.
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid_input", 503: "unavailable"}


def error_body(code: str, message: str, request_id: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "request_id": request_id}}


def request_id_of(request: Request) -> str:
    return getattr(request.state, "request_id", "") or ""


def error_response(request: Request, status: int, code: str, message: str, *, retry_after: int | None = None, headers: dict[str, str] | None = None) -> ORJSONResponse:
    hdrs = dict(headers or {})
    if status == 503:
        hdrs["Retry-After"] = str(retry_after or request.app.state.settings.retry_after_s)
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.errors.labels(code).inc()
    state = getattr(request.state, "log", None)
    if isinstance(state, dict):
        state["error"] = code
    return ORJSONResponse(error_body(code, message, request_id_of(request)), status_code=status, headers=hdrs)


def describe_validation_errors(errors: Iterable[dict[str, Any]], *, prefix: str = "", accepted: str | None = None) -> str:
    """Pydantic errors as one readable sentence per problem: `inputs.x.0: Input should be a valid number (got 'a')`."""
    parts = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        where = ".".join(([prefix] if prefix else []) + loc) or "request"
        msg = err.get("msg", "invalid value")
        if err.get("type") == "extra_forbidden":
            msg = "unexpected field"
        elif err.get("type") == "missing":
            msg = "required field is missing"
        detail = f"{where}: {msg}"
        if err.get("type") not in ("missing", "extra_forbidden") and "input" in err:
            shown = repr(err["input"])
            detail += f" (got {shown[:60] + '...' if len(shown) > 60 else shown})"
        parts.append(detail)
    text = "; ".join(parts)
    if accepted:
        text += f". Accepted: {accepted}"
    return text


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into the JSON error body."""

    @app.exception_handler(E.GatewayError)
    async def _domain(request: Request, exc: E.GatewayError) -> ORJSONResponse:
        status = exc.status
        retry = exc.retry_after
        if status == 503 and retry is None and isinstance(exc, E.ModelNotReady):
            retry = request.app.state.settings.loading_retry_after_s
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return error_response(request, status, exc.code, exc.message, retry_after=retry, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> ORJSONResponse:
        return error_response(request, 422, E.InvalidInput.code, describe_validation_errors(exc.errors()))

    @app.exception_handler(ValidationError)
    async def _pydantic(request: Request, exc: ValidationError) -> ORJSONResponse:
        return error_response(request, 422, E.InvalidInput.code, describe_validation_errors(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> ORJSONResponse:
        code = HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route {request.method} {request.url.path}; see /docs for the API"
        elif exc.status_code == 405:
            message = f"method {request.method} not allowed on {request.url.path}"
        return error_response(request, exc.status_code, code, message, headers=getattr(exc, "headers", None))
