"""POST /predict: JSON or multipart in, one version's answer out. The HTTP edge of the predict service.

Every request, JSON or multipart, takes this one route through the app's whole middleware stack; the route
only turns HTTP into a `PredictCall` and the service's result back into JSON (`gateway.service` runs it).
Validation order (so the first error a user sees is the most basic one): content type (415) -> body
readable and within the limit (400/413) -> envelope fields (422) -> model known and servable (404/503) ->
family inputs (422) -> version/label (404/503) -> the predict service."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import orjson
from fastapi import APIRouter, Request, params
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from common.repository import LABEL_PATTERN, MODEL_NAME_PATTERN
from gateway import errors as E
from gateway.api.errors import describe_validation_errors
from gateway.api.request_route import RequestRoute
from gateway.api.responses import ORJSONResponse
from gateway.core.config import Settings
from gateway.families import AnyFamily, UploadedFile
from gateway.registry import Registry
from gateway.service import PredictCall, PredictService
from gateway.schemas import PREDICT_ACCEPTED, ErrorBody, PredictRequest, PredictResponse

ERRORS = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 413, 415, 422, 503, 504)}
ACCEPTED_TYPES = "application/json or multipart/form-data"
ENVELOPE_FIELDS = ("model", "version", "version_label")


def _family_for(request: Request, registry: Registry, model: str) -> AnyFamily:
    record = registry.get(model)
    request.state.log["model"] = model  # known model: safe as a metrics label
    if record.family is None:
        raise E.ModelNotFound(f"model {model!r} is configured but this gateway has no family for it")
    return record.family


def _validate_inputs(family: AnyFamily, inputs: Any) -> Any:
    try:
        return family.Inputs.model_validate(inputs)
    except ValidationError as e:
        fields = ", ".join(family.Inputs.model_fields) or "none"
        raise E.InvalidInput(describe_validation_errors(e.errors(), prefix="inputs", accepted=f"inputs fields of {family.name!r}: {fields}")) from None


def request_deadline(header: str | None, cap_s: float) -> float | None:
    """`X-Request-Timeout-Ms`: the client's own deadline for this request (at most GATEWAY_BACKEND_TIMEOUT_S)."""
    if header is None:
        return None
    try:
        ms = float(header)
    except ValueError:
        ms = float("nan")
    if not ms > 0 or ms == float("inf"):
        raise E.BadRequest(f"header X-Request-Timeout-Ms must be a positive number of milliseconds, got {header!r}")
    return time.monotonic() + min(ms / 1e3, cap_s)


async def parse_json(request: Request, registry: Registry) -> PredictCall:
    body = await request.body()
    if not body:
        raise E.BadRequest(f"empty request body; send JSON {PREDICT_ACCEPTED}")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise E.BadRequest(f"request body is not valid JSON ({e}); send {PREDICT_ACCEPTED}") from None
    if not isinstance(data, dict):
        raise E.BadRequest(f"request body must be a JSON object, got {type(data).__name__}; send {PREDICT_ACCEPTED}")
    try:
        req = PredictRequest.model_validate(data)
    except ValidationError as e:
        raise E.InvalidInput(describe_validation_errors(e.errors(), accepted=PREDICT_ACCEPTED)) from None
    family = _family_for(request, registry, req.model)
    return PredictCall(req.model, family, _validate_inputs(family, req.inputs), req.version, req.version_label)


def _check_name(field: str, value: str, pattern: str) -> None:
    """Names reach a file path and a gRPC model_spec: only these characters, checked before anything else."""
    if not re.fullmatch(pattern, value):
        raise E.InvalidInput(f"form field `{field}` {value[:80]!r} is not a valid name: letters, digits, '_', '.', '-', "
                             f"starting with a letter or digit, at most {128 if field == 'model' else 64} characters")


async def parse_multipart(request: Request, registry: Registry, settings: Settings) -> PredictCall:
    try:
        form = await request.form(max_files=settings.max_form_files, max_fields=settings.max_form_fields)
    except E.GatewayError:
        raise
    except Exception as e:  # multipart parser errors (bad boundary, too many fields, ...)
        detail = getattr(e, "detail", None) or str(e) or type(e).__name__
        raise E.BadRequest(f"malformed multipart/form-data body: {detail}") from None
    fields: dict[str, str] = {}
    files: list[UploadedFile] = []
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                files.append(UploadedFile(key, value.filename, value.content_type, await value.read()))
            elif key in fields:
                raise E.InvalidInput(f"form field {key!r} given more than once")
            else:
                fields[key] = value
    finally:
        await form.close()
    model = fields.pop("model", None)
    if not model:
        raise E.InvalidInput("multipart form needs a `model` field (and optional `version` or `version_label`), plus the family's file fields")
    version: int | None = None
    if "version" in fields:
        raw = fields.pop("version")
        if not raw.strip().isdigit():
            raise E.InvalidInput(f"form field `version` must be a non-negative integer, got {raw!r}")
        version = int(raw)
    label = fields.pop("version_label", None) or None
    _check_name("model", model, MODEL_NAME_PATTERN)
    if label is not None:
        _check_name("version_label", label, LABEL_PATTERN)
    if version is not None and label is not None:
        raise E.InvalidInput("give either `version` or `version_label`, not both")
    family = _family_for(request, registry, model)
    accepted_files = ", ".join(family.file_fields)
    if family.file_fields:
        if not files:
            raise E.InvalidInput(f"multipart request has no file; model {model!r} expects file field(s): {accepted_files}")
        unknown = sorted({f.field for f in files} - set(family.file_fields))
        if unknown:
            raise E.InvalidInput(f"unexpected file field(s) {unknown}; model {model!r} accepts: {accepted_files}")
    try:
        inputs = family.parse_multipart(fields, files)
    except ValidationError as e:
        raise E.InvalidInput(describe_validation_errors(e.errors(), prefix="form")) from None
    return PredictCall(model, family, inputs, version, label)


async def predict(request: Request) -> ORJSONResponse:
    # the service and settings are read from app.state directly: every dependency costs time on the hot path
    service: PredictService = request.app.state.predict_service
    settings: Settings = request.app.state.settings
    ctype = request.headers.get("content-type", "")
    mtype = ctype.split(";", 1)[0].strip().lower()
    registry = service.registry
    if mtype == "application/json" or mtype.endswith("+json"):
        call = await parse_json(request, registry)
    elif mtype == "multipart/form-data":
        call = await parse_multipart(request, registry, settings)
    else:
        raise E.UnsupportedMediaType(f"Content-Type {ctype or '(none)'!r} is not accepted; use {ACCEPTED_TYPES}")
    deadline = request_deadline(request.headers.get("x-request-timeout-ms"), settings.backend_timeout_s)
    if deadline is not None:
        call = replace(call, deadline=deadline)
    entry = request.state.log
    result = await service.predict(call, request.state.request_id)
    entry["version"] = result.version
    entry["timing_ms"] = result.timing_ms
    return ORJSONResponse(result.as_dict())


def build_router(dependencies: Sequence[params.Depends] = ()) -> APIRouter:
    """The /predict router. `dependencies` (the API-key check when keys are configured) sit on the router, not
    on `include_router`, so the route sees them: a `RequestRoute` with a dependency is handled by FastAPI's
    own handler (gateway.api.request_route says why the route is a RequestRoute)."""
    router = APIRouter(tags=["predict"], route_class=RequestRoute, dependencies=list(dependencies))
    router.add_api_route(
        "/predict",
        predict,
        methods=["POST"],
        response_model=PredictResponse,
        responses=ERRORS,  # type: ignore[arg-type]
        summary="Run a model",
        description=(
            "JSON `{\"model\", \"version\"?, \"version_label\"?, \"inputs\"}` or multipart/form-data (`model`, optional "
            "`version`/`version_label`, the family's file fields). Unpinned requests go to the `stable` label, else the "
            "latest served version (a configured canary share goes to `canary`). See the examples per model."
        ),
        openapi_extra={"parameters": [{
            "name": "X-Request-Timeout-Ms", "in": "header", "required": False, "schema": {"type": "number", "exclusiveMinimum": 0},
            "description": "this request's deadline in milliseconds (capped by GATEWAY_BACKEND_TIMEOUT_S); 504 when it passes",
        }]},
    )
    return router
