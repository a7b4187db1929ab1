"""TF Serving's HTTP/REST API (tensorflow_serving/model_servers/http_rest_api_handler.cc, http_server.cc):
routes, dispatch, status codes, answered from the same core, manager and handles as gRPC.

Routes (TF Serving's regexes, case-insensitive, on the raw request path without the query):

    GET  /v1/models/{name}[/versions/{N}|/labels/{L}]            model status
    GET  /v1/models/{name}[/versions/{N}|/labels/{L}]/metadata   model metadata
    POST /v1/models/{name}[/versions/{N}|/labels/{L}]:predict    (also :classify, :regress)

Any other path under /v1/ answers 400 `Malformed request: <METHOD> <path>`; paths outside /v1/ (and not
the Prometheus path of `--monitoring_config_file`) answer 404 as TF Serving's HTTP server does.

`RestApi.handle` is synchronous and transport-free (method, path, body in; status, headers, body out): the
HTTP server runs it on a worker thread, where the TensorFlow call releases the GIL, exactly like a gRPC
worker thread.
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.parse
from dataclasses import dataclass
from typing import Callable

from modelserver import classify, json_tensor
from modelserver.core import ServerCore
from modelserver.errors import InvalidArgument, ServingError, message_of
from modelserver.metrics import ServerMetrics
from modelserver.predict import DEFAULT_SIGNATURE, SIGNATURE_DEF_FIELD, check_predict_method, run_signature
from protos import get_model_status_pb2, model_pb2

log = logging.getLogger(__name__)

PREDICTION_PATH = re.compile(r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)", re.I)
MODEL_STATUS_PATH = re.compile(r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?", re.I)
API_PATH = re.compile(r"/v1/.*", re.I | re.S)
JSON_HEADERS = (("Content-Type", "application/json"),)
CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "POST, GET"),
    ("Access-Control-Allow-Headers", "Content-Type"),
)
# libevent's evhttp_send_error page, which TF Serving answers for paths outside /v1/
NOT_FOUND_PAGE = b"<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n<H1>Not Found</H1>\n</BODY></HTML>\n"
INT64_MAX = 2**63 - 1

# http_server.cc ToHTTPStatusCode
HTTP_STATUS = {
    "OK": 200,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}


@dataclass
class RestResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class _Target:
    """What a request path names; `api` is TF Serving's method ("predict", ..., "status", "metadata")."""

    model: str = ""
    version: int | None = None
    label: str | None = None
    api: str = ""
    model_for_metrics: str = ""
    version_for_metrics: str = ""

    def model_spec(self) -> model_pb2.ModelSpec:
        spec = model_pb2.ModelSpec(name=self.model)
        if self.version is not None:
            spec.version.value = self.version
        if self.label is not None:
            spec.version_label = self.label
        return spec


def _decode(text: str) -> str:
    """curl_easy_unescape: %XX sequences only ('+' stays '+')."""
    return urllib.parse.unquote(text, errors="surrogateescape")


def _parse_version(text: str | None) -> int | None:
    if not text:
        return None
    value = int(text)
    if value > INT64_MAX:
        raise InvalidArgument(f"Failed to convert version: {text} to numeric.")
    return value


class RestApi:
    def __init__(
        self,
        core: ServerCore,
        metrics: ServerMetrics,
        *,
        timeout_ms: int = 0,
        cors: bool = False,
        prometheus_path: str | None = None,
        metrics_page: Callable[[], bytes] | None = None,
    ) -> None:
        self.core = core
        self.metrics = metrics
        self.timeout_ms = timeout_ms if timeout_ms > 0 else None
        self.cors = cors
        self.prometheus_path = prometheus_path
        self.metrics_page = metrics_page

    # --- dispatch (http_server.cc) --------------------------------------------------------------------
    def handle(self, method: str, path: str, body: bytes, origin: str = "") -> RestResponse:
        """Answer one request; `path` is the raw (still %-encoded) path without the query string."""
        if self.prometheus_path is not None and path == self.prometheus_path and self.metrics_page is not None:
            return RestResponse(200, [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], self.metrics_page())
        if not API_PATH.fullmatch(path):
            return RestResponse(404, [("Content-Type", "text/html; charset=ISO-8859-1")], NOT_FOUND_PAGE)
        if method == "OPTIONS":  # CORS preflight: answered without the handler (no body, no JSON header)
            ok = re.search(r"https?://", origin) is not None
            headers = list(CORS_HEADERS) if self.cors else []
            return RestResponse(200 if ok else HTTP_STATUS["FAILED_PRECONDITION"], headers, b"")
        target = _Target()
        started = time.perf_counter()
        code = "OK"
        self.metrics.inflight.inc()
        try:
            output = self._process(method, path, body, target)
        except ServingError as e:
            code, output = e.code, json_tensor.error_body(e.message)
        except Exception as e:  # noqa: BLE001 - never a stack trace to the client
            log.exception("REST %s %s failed", method, path)
            code, output = "INTERNAL", json_tensor.error_body(f"{type(e).__name__}: {message_of(e)}")
        finally:
            self.metrics.inflight.dec()
        if any(e.name == target.model for e in self.core.entries):
            target.model_for_metrics = target.model
        self.metrics.observe_request(
            f"rest:{target.api or 'unknown'}", target.model_for_metrics or "_unconfigured", target.version_for_metrics, code,
            time.perf_counter() - started,
        )
        headers = list(JSON_HEADERS) + (list(CORS_HEADERS) if self.cors else [])
        return RestResponse(HTTP_STATUS.get(code, 500), headers, output)

    # --- HttpRestApiHandler::ProcessRequest -----------------------------------------------------------
    def _process(self, method: str, path: str, body: bytes, target: _Target) -> bytes:
        malformed = InvalidArgument(f"Malformed request: {method} {path}")
        match = None
        if method == "POST":
            match = PREDICTION_PATH.fullmatch(path)
        elif method == "GET":
            match = MODEL_STATUS_PATH.fullmatch(path)
        if match is None:
            raise malformed
        name, version, label, what = match.groups()
        target.model = _decode(name) if name else ""
        target.version = _parse_version(version)
        target.label = _decode(label) if label else None
        if method == "POST":
            # the regex ignores case but the dispatch does not: ":PREDICT" is malformed (as in TF Serving)
            handlers = {"predict": self._predict, "classify": self._classify, "regress": self._regress}
            if what not in handlers:
                raise malformed
            target.api = what
            return handlers[what](target, body)
        if what == "metadata":
            target.api = "metadata"
            return self._metadata(target)
        target.api = "status"
        return self._status(target)

    # --- GET ------------------------------------------------------------------------------------------
    def _status(self, target: _Target) -> bytes:
        """GetModelStatus as JSON. A version label is ignored (every version is listed), as in TF Serving,
        whose GetModelStatusImpl reads only `version`."""
        if not target.model:
            raise InvalidArgument("Missing model name in request.")
        events = self.core.monitor.get_model_status(target.model, target.version)
        states = get_model_status_pb2.ModelVersionStatus.State
        doc = {
            "model_version_status": [
                {
                    "version": str(e.version),
                    "state": states.Name(int(e.state)),
                    "status": {"error_code": e.error_code, "error_message": e.error_message},
                }
                for e in events
            ]
        }
        return _json(doc)

    def _metadata(self, target: _Target) -> bytes:
        """GetModelMetadata as JSON: the official SignatureDef protos printed with their field names and every
        field (TF Serving's MessageToJsonString options), so the JSON equals TF Serving's."""
        if not target.model:
            raise InvalidArgument("Missing model name in request.")
        from google.protobuf import json_format
        from tensorflow.core.protobuf import meta_graph_pb2 as tf_meta_graph_pb2

        with self.core.get_handle(target.model_spec()) as handle:
            target.version_for_metrics = str(handle.version)
            signatures = {
                key: json_format.MessageToDict(
                    tf_meta_graph_pb2.SignatureDef.FromString(sig.SerializeToString()),
                    preserving_proto_field_name=True,
                    always_print_fields_with_no_presence=True,
                )
                for key, sig in handle.servable.signatures.items()
            }
            doc = {
                "model_spec": {"name": handle.model, "signature_name": "", "version": str(handle.version)},
                "metadata": {SIGNATURE_DEF_FIELD: {SIGNATURE_DEF_FIELD: signatures}},
            }
        return _json(doc)

    # --- POST -----------------------------------------------------------------------------------------
    def _predict(self, target: _Target, body: bytes) -> bytes:
        doc = json_tensor.parse_json(body)
        signame = json_tensor.signature_name(doc)
        with self.core.get_handle(target.model_spec()) as handle:
            target.version_for_metrics = str(handle.version)
            key = signame or DEFAULT_SIGNATURE
            signature = handle.servable.signatures.get(key)
            if signature is None:
                raise InvalidArgument(f'Serving signature name: "{key}" not found in signature def')
            dtypes = {alias: info.dtype for alias, info in signature.inputs.items()}
            inputs, fmt = json_tensor.predict_inputs(doc, dtypes, signame)
            check_predict_method(signature)
            aliases = sorted(signature.outputs)
            outputs = run_signature(handle.servable, signature, sorted(inputs.items()), aliases, timeout_ms=self.timeout_ms)
        return json_tensor.predict_response(dict(zip(aliases, outputs)), fmt)

    def _examples(self, body: bytes) -> tuple[str, list[bytes]]:
        doc = json_tensor.parse_json(body)
        return json_tensor.signature_name(doc), json_tensor.examples(doc)

    def _classify(self, target: _Target, body: bytes) -> bytes:
        signame, examples = self._examples(body)  # TF Serving parses the whole body before the model lookup
        with self.core.get_handle(target.model_spec()) as handle:
            target.version_for_metrics = str(handle.version)
            results = classify.classify(handle.servable, signame, examples, timeout_ms=self.timeout_ms)
        return json_tensor.classification_response(results)

    def _regress(self, target: _Target, body: bytes) -> bytes:
        signame, examples = self._examples(body)
        with self.core.get_handle(target.model_spec()) as handle:
            target.version_for_metrics = str(handle.version)
            values = classify.regress(handle.servable, signame, examples, timeout_ms=self.timeout_ms)
        return json_tensor.regression_response(values)


def _json(doc: object) -> bytes:
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8", "surrogateescape")
