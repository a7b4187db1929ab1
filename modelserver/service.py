"""Thin gRPC servicers: decode (done by the generic handlers), call the core, encode, map errors once.

Every RPC runs on a worker thread of the synchronous gRPC server, and so does its TensorFlow call:
TF releases the GIL inside `session.run`, so worker threads give real parallelism without an extra hop
from an event loop to an executor. Errors become TF Serving's code and message; anything unexpected is
logged and answered INTERNAL without a stack trace.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

import grpc

from modelserver.core import ServerCore
from modelserver.errors import InvalidArgument, ServingError, message_of
from modelserver.metrics import ServerMetrics
from modelserver.predict import model_metadata, run_predict, validate_metadata_request
from protos import get_model_status_pb2, model_management_pb2, rpc, status_pb2

log = logging.getLogger(__name__)
_UNCONFIGURED = "_unconfigured"  # metrics label for names that are not configured (bounded cardinality)


# TF Serving turns the gRPC deadline into the run's timeout (DeadlineToTimeoutMillis), so a run whose client
# has given up is cancelled instead of holding a CPU for its whole length and delaying everything queued
# behind it. The loader builds one Session callable per timeout, so the remaining time is rounded *up* to
# one of these steps: a run is cancelled at most one step after its deadline, and the callables stay few.
DEADLINE_STEPS_MS = (50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 120_000, 300_000)


def deadline_bucket_ms(remaining_s: float) -> int | None:
    """The run timeout for `remaining_s` seconds of deadline (None: longer than any step, no timeout)."""
    ms = max(1.0, remaining_s * 1000.0)
    return next((step for step in DEADLINE_STEPS_MS if ms <= step), None)


class _Call:
    """Bookkeeping of one RPC: which model/version it resolved to, for the metrics."""

    __slots__ = ("model", "version", "timeout_ms")

    def __init__(self) -> None:
        self.model = ""
        self.version = ""
        self.timeout_ms: int | None = None  # what is left of the client's deadline when the call starts


class Servicers:
    def __init__(self, core: ServerCore, metrics: ServerMetrics, *, tensor_content: bool = False) -> None:
        self.core = core
        self.metrics = metrics
        self.tensor_content = tensor_content

    def handlers(self) -> list[Any]:
        return [
            rpc.generic_handler(
                rpc.PREDICTION_SERVICE,
                {"Predict": self._wrap("Predict", self.predict), "GetModelMetadata": self._wrap("GetModelMetadata", self.get_model_metadata)},
            ),
            rpc.generic_handler(
                rpc.MODEL_SERVICE,
                {
                    "GetModelStatus": self._wrap("GetModelStatus", self.get_model_status),
                    "HandleReloadConfigRequest": self._wrap("HandleReloadConfigRequest", self.handle_reload_config_request),
                },
            ),
        ]

    def _wrap(self, method: str, fn: Callable[[Any, _Call], Any]) -> Callable[[Any, grpc.ServicerContext], Any]:
        def behaviour(request: Any, context: grpc.ServicerContext) -> Any:
            call = _Call()
            remaining = context.time_remaining()
            if remaining is not None:
                call.timeout_ms = deadline_bucket_ms(remaining)
            started = time.perf_counter()
            code, message = "OK", ""
            self.metrics.inflight.inc()
            try:
                return fn(request, call)
            except ServingError as e:
                code, message = e.code, e.message
            except Exception as e:  # noqa: BLE001 - never a stack trace to the client
                log.exception("%s failed", method)
                code, message = "INTERNAL", f"{type(e).__name__}: {message_of(e)}"
            finally:
                self.metrics.inflight.dec()
                model = call.model or _UNCONFIGURED
                self.metrics.observe_request(method, model, call.version, code, time.perf_counter() - started)
            context.abort(grpc.StatusCode[code], message)

        return behaviour

    def _note_model(self, call: _Call, name: str) -> None:
        if any(e.name == name for e in self.core.entries):
            call.model = name

    # --- PredictionService ----------------------------------------------------------------------------
    def predict(self, request, call: _Call):
        if not request.HasField("model_spec"):
            raise InvalidArgument("Missing ModelSpec")
        self._note_model(call, request.model_spec.name)
        with self.core.get_handle(request.model_spec) as handle:
            call.version = str(handle.version)
            return run_predict(handle.servable, handle.version, request, as_content=self.tensor_content, timeout_ms=call.timeout_ms)

    def get_model_metadata(self, request, call: _Call):
        if not request.HasField("model_spec"):
            raise InvalidArgument("Missing ModelSpec")
        validate_metadata_request(request)
        self._note_model(call, request.model_spec.name)
        with self.core.get_handle(request.model_spec) as handle:
            call.version = str(handle.version)
            return model_metadata(handle.servable, handle.model, handle.version)

    # --- ModelService ---------------------------------------------------------------------------------
    def get_model_status(self, request, call: _Call):
        if not request.HasField("model_spec"):
            raise InvalidArgument("Missing ModelSpec")
        spec = request.model_spec
        self._note_model(call, spec.name)
        version = spec.version.value if spec.WhichOneof("version_choice") == "version" else None
        response = get_model_status_pb2.GetModelStatusResponse()
        for event in self.core.monitor.get_model_status(spec.name, version):
            status = response.model_version_status.add(version=event.version, state=int(event.state))
            status.status.error_code = status_pb2.ErrorCode.Value(event.error_code)
            status.status.error_message = event.error_message
        return response

    def handle_reload_config_request(self, request, call: _Call):
        if not request.HasField("config") or request.config.WhichOneof("config") != "model_config_list":
            raise InvalidArgument(
                "ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported"
            )
        self.core.reload_config_request(request.config.SerializeToString())
        response = model_management_pb2.ReloadConfigResponse()
        response.status.error_code = status_pb2.OK
        return response


