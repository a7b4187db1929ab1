"""THE mapping of failures to HTTP, side by side with the gRPC status -> domain error table.

Handlers, families, the registry and the backend client raise domain errors (`gateway.errors`); only this
module turns them into responses. Both tables live here so they cannot drift apart (KServe's REST and
gRPC tables did): `tests/gateway/test_errors.py` checks that every gRPC code lands on an HTTP status that
agrees with gRPC's canonical HTTP mapping, and that domain -> gRPC -> domain round-trips.

Every error leaves as `{"error": {"code", "message", "request_id"}}`, with `Retry-After` on 503; never a
stack trace (unexpected exceptions are logged with their traceback and answered with a generic 500).
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway import errors as E
from gateway.api.responses import ORJSONResponse

log = logging.getLogger("gateway.errors")

# Domain error -> HTTP status. The status also sits on each class (`GatewayError.status`, what the lead's
# interface exposes); this table is the reviewed list, and the test asserts the two agree.
HTTP_STATUS: dict[type[E.GatewayError], int] = {
    E.BadRequest: 400,
    E.Unauthorized: 401,
    E.Forbidden: 403,
    E.ModelNotFound: 404,
    E.ServableNotFound: 404,
    E.Conflict: 409,
    E.PayloadTooLarge: 413,
    E.UnsupportedMediaType: 415,
    E.InvalidInput: 422,
    E.GatewayError: 500,
    E.BackendError: 502,
    E.ModelNotReady: 503,
    E.BackendUnavailable: 503,
    E.BackendTimeout: 504,
}

# gRPC status of a backend call -> domain error (design §6 codes). NOT_FOUND is refined by the pipeline
# with GetModelStatus: unknown model -> 404, still loading / mid-swap -> retry, then 503 + Retry-After.
GRPC_TO_DOMAIN: dict[grpc.StatusCode, type[E.GatewayError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: E.InvalidInput,
    grpc.StatusCode.OUT_OF_RANGE: E.InvalidInput,
    grpc.StatusCode.NOT_FOUND: E.ServableNotFound,
    grpc.StatusCode.FAILED_PRECONDITION: E.BackendError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: E.PayloadTooLarge,
    grpc.StatusCode.UNAVAILABLE: E.BackendUnavailable,
    grpc.StatusCode.CANCELLED: E.BackendUnavailable,
    grpc.StatusCode.ABORTED: E.BackendUnavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: E.BackendTimeout,
    grpc.StatusCode.UNAUTHENTICATED: E.BackendError,
    grpc.StatusCode.PERMISSION_DENIED: E.BackendError,
    grpc.StatusCode.UNIMPLEMENTED: E.BackendError,
    grpc.StatusCode.INTERNAL: E.BackendError,
    grpc.StatusCode.UNKNOWN: E.BackendError,
    grpc.StatusCode.DATA_LOSS: E.BackendError,
    grpc.StatusCode.ALREADY_EXISTS: E.BackendError,
}

# Domain error -> gRPC status, for anything that answers in gRPC on the gateway's behalf.
DOMAIN_TO_GRPC: dict[type[E.GatewayError], grpc.StatusCode] = {
    E.BadRequest: grpc.StatusCode.INVALID_ARGUMENT,
    E.InvalidInput: grpc.StatusCode.INVALID_ARGUMENT,
    E.Unauthorized: grpc.StatusCode.UNAUTHENTICATED,
    E.Forbidden: grpc.StatusCode.PERMISSION_DENIED,
    E.ModelNotFound: grpc.StatusCode.NOT_FOUND,
    E.ServableNotFound: grpc.StatusCode.NOT_FOUND,
    E.Conflict: grpc.StatusCode.ABORTED,
    E.PayloadTooLarge: grpc.StatusCode.RESOURCE_EXHAUSTED,
    E.UnsupportedMediaType: grpc.StatusCode.INVALID_ARGUMENT,
    E.ModelNotReady: grpc.StatusCode.UNAVAILABLE,
    E.BackendUnavailable: grpc.StatusCode.UNAVAILABLE,
    E.BackendTimeout: grpc.StatusCode.DEADLINE_EXCEEDED,
    E.BackendError: grpc.StatusCode.INTERNAL,
    E.GatewayError: grpc.StatusCode.INTERNAL,
}

# Plain HTTP errors raised by the framework (unknown route, wrong method) -> error code.
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid_input", 503: "unavailable"}


def http_status(error: E.GatewayError) -> int:
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500


def from_grpc(code: grpc.StatusCode, details: str, *, what: str) -> E.GatewayError:
    """A backend failure as a domain error; `what` says which call failed (kept in the message)."""
    cls = GRPC_TO_DOMAIN.get(code, E.BackendError)
    message = f"{what}: {details}" if details else f"{what}: backend answered {code.name}"
    if cls is E.BackendUnavailable:
        message = f"{what}: the model backend is unavailable ({details or code.name}); retry shortly"
    elif cls is E.BackendTimeout:
        message = f"{what}: the model backend did not answer within the deadline"
    elif cls is E.PayloadTooLarge:
        message = f"{what}: message exceeds the backend's size limit ({details})"
    return cls(message)


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
        status = http_status(exc)
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
