"""Domain errors of the model server, each carrying TF Serving's status code by name.

Why names and not grpc objects: the core (manager, predict) stays transport-free; `service.py` maps the name
to a `grpc.StatusCode` in one place, and `status.py` to the numeric `error_code` of a StatusProto.
"""

from __future__ import annotations


class ServingError(Exception):
    code = "UNKNOWN"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(ServingError):
    code = "INVALID_ARGUMENT"


class NotFound(ServingError):
    code = "NOT_FOUND"


class FailedPrecondition(ServingError):
    code = "FAILED_PRECONDITION"


class Internal(ServingError):
    code = "INTERNAL"


class Unavailable(ServingError):
    code = "UNAVAILABLE"


class Unimplemented(ServingError):
    code = "UNIMPLEMENTED"


def status_string(error: ServingError) -> str:
    """absl::Status::ToString() of an error ("INVALID_ARGUMENT: <message>"), which TF Serving nests in messages."""
    return f"{error.code}: {error.message}"


class ServableNotFound(NotFound):
    """No servable answers a ServableRequest; the message is TF Serving's text with the request rendered."""

    def __init__(self, request: object) -> None:
        super().__init__(f"Servable not found for request: {request}")


def code_of(error: BaseException) -> str:
    """The status code name for any error: ours, TensorFlow's OpError (by its numeric code), else UNKNOWN."""
    if isinstance(error, ServingError):
        return error.code
    number = getattr(error, "error_code", None)
    if isinstance(number, int):
        from protos import status_pb2

        try:
            return status_pb2.ErrorCode.Name(number)
        except ValueError:
            return "UNKNOWN"
    return "UNKNOWN"


def message_of(error: BaseException) -> str:
    if isinstance(error, ServingError):
        return error.message
    return getattr(error, "message", None) or str(error) or type(error).__name__
