"""gRPC status codes of backend calls <-> the gateway's domain errors (`gateway.errors`).

Below the HTTP edge: the backend client turns every failed call into a domain error here, and the HTTP
edge (`gateway.api.errors`) answers it with the status the error class carries. Kept as tables so the
review is one read: `tests/gateway/test_grpc_status.py` checks every gRPC code lands on an HTTP status that
agrees with gRPC's canonical HTTP mapping, and that domain -> gRPC -> domain round-trips (KServe's REST and
gRPC tables drifted apart).
"""

from __future__ import annotations

import grpc

from gateway import errors as E

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
