"""Domain errors, raised by families, the registry and the backend client. Each class carries its HTTP
status; `gateway/api/errors.py` answers them, `gateway/grpc_status.py` maps backend gRPC codes onto them.
Handlers and families never choose status codes by hand except through these."""

from __future__ import annotations


class GatewayError(Exception):
    status: int = 500
    code: str = "internal"

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class InvalidInput(GatewayError):
    """The request is well-formed HTTP but its content is unusable; say what was wrong and what is accepted."""

    status = 422
    code = "invalid_input"


class BadRequest(GatewayError):
    status = 400
    code = "bad_request"


class PayloadTooLarge(GatewayError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(GatewayError):
    status = 415
    code = "unsupported_media_type"


class ModelNotFound(GatewayError):
    status = 404
    code = "not_found"


class Unauthorized(GatewayError):
    status = 401
    code = "unauthorized"


class Forbidden(GatewayError):
    status = 403
    code = "forbidden"


class ModelNotReady(GatewayError):
    """Known model without a servable version yet (loading, or still being trained): 503 + Retry-After."""

    status = 503
    code = "model_not_ready"


class BackendUnavailable(GatewayError):
    status = 503
    code = "backend_unavailable"


class BackendTimeout(GatewayError):
    status = 504
    code = "backend_timeout"


class BackendError(GatewayError):
    status = 502
    code = "backend_error"


class Conflict(GatewayError):
    """The request is valid but conflicts with the current state (e.g. a label rollback without history)."""

    status = 409
    code = "conflict"


class ServableNotFound(ModelNotFound):
    """The backend answered NOT_FOUND for a (model, version) the gateway pinned. The pipeline decides whether
    that means "unknown" (404) or "swapping / still loading" (retry on the current record, else 503)."""

    code = "servable_not_found"
