"""gateway/grpc_status.py's tables agree with the HTTP status each domain error carries (KServe's drifted apart)."""

from __future__ import annotations

import grpc
import pytest

from gateway import errors as E
from gateway import grpc_status
from gateway.api import errors as api_errors

# gRPC's canonical HTTP mapping (google.rpc.Code docs); where we deliberately differ, the reason is given.
CANONICAL_HTTP = {
    grpc.StatusCode.INVALID_ARGUMENT: {400, 415, 422},  # 422: parsed but unusable content; 415: wrong content type
    grpc.StatusCode.OUT_OF_RANGE: {400, 422},
    grpc.StatusCode.NOT_FOUND: {404},
    grpc.StatusCode.FAILED_PRECONDITION: {400, 502},  # the gateway sent what the backend refuses: our fault, not the user's
    grpc.StatusCode.RESOURCE_EXHAUSTED: {413, 429},  # message size limit
    grpc.StatusCode.UNAVAILABLE: {503},
    grpc.StatusCode.CANCELLED: {499, 503},
    grpc.StatusCode.ABORTED: {409, 503},
    grpc.StatusCode.DEADLINE_EXCEEDED: {504},
    grpc.StatusCode.UNAUTHENTICATED: {401, 502},  # the gateway's credentials to the backend, not the user's
    grpc.StatusCode.PERMISSION_DENIED: {403, 502},
    grpc.StatusCode.UNIMPLEMENTED: {501, 502},
    grpc.StatusCode.INTERNAL: {500, 502},
    grpc.StatusCode.UNKNOWN: {500, 502},
    grpc.StatusCode.DATA_LOSS: {500, 502},
    grpc.StatusCode.ALREADY_EXISTS: {409, 502},
}


def _all_domain_errors() -> set[type[E.GatewayError]]:
    out, todo = set(), [E.GatewayError]
    while todo:
        cls = todo.pop()
        out.add(cls)
        todo.extend(cls.__subclasses__())
    return out


def test_every_domain_error_has_a_grpc_meaning() -> None:
    for cls in _all_domain_errors():
        assert cls in grpc_status.DOMAIN_TO_GRPC, f"{cls.__name__} missing from DOMAIN_TO_GRPC"


@pytest.mark.parametrize("code", [c for c in grpc.StatusCode if c != grpc.StatusCode.OK], ids=lambda c: c.name)
def test_grpc_code_maps_to_a_domain_error_with_the_canonical_http_status(code: grpc.StatusCode) -> None:
    cls = grpc_status.GRPC_TO_DOMAIN[code]
    assert cls.status in CANONICAL_HTTP[code]


@pytest.mark.parametrize("cls", sorted(_all_domain_errors(), key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_domain_error_has_the_same_meaning_in_http_and_grpc(cls: type[E.GatewayError]) -> None:
    assert cls.status in CANONICAL_HTTP[grpc_status.DOMAIN_TO_GRPC[cls]]


@pytest.mark.parametrize("cls", sorted(set(grpc_status.GRPC_TO_DOMAIN.values()), key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_backend_errors_round_trip_domain_grpc_domain(cls: type[E.GatewayError]) -> None:
    back = grpc_status.GRPC_TO_DOMAIN[grpc_status.DOMAIN_TO_GRPC[cls]]
    assert back.status == cls.status, (cls.__name__, back.__name__)


def test_from_grpc_keeps_the_backend_message() -> None:
    err = grpc_status.from_grpc(grpc.StatusCode.INVALID_ARGUMENT, "input size does not match signature", what="Predict m version 1")
    assert isinstance(err, E.InvalidInput) and "input size does not match signature" in err.message
    assert isinstance(grpc_status.from_grpc(grpc.StatusCode.DEADLINE_EXCEEDED, "", what="Predict"), E.BackendTimeout)


def test_validation_messages_name_the_field_the_problem_and_the_value() -> None:
    text = api_errors.describe_validation_errors(
        [{"loc": ("body", "x", 0), "msg": "Input should be a valid number", "type": "float_parsing", "input": "abc"},
         {"loc": ("y",), "msg": "Extra inputs are not permitted", "type": "extra_forbidden", "input": 1}],
        prefix="inputs", accepted="x",
    )
    assert text == "inputs.x.0: Input should be a valid number (got 'abc'); inputs.y: unexpected field. Accepted: x"
