"""App factory. `create_app(settings)` builds a fresh app; its lifespan owns the gRPC channel(s), the
registry refresher and the hook thread pool, so nothing is built at import time.

Families: every module of `gateway.families` registers itself on import, plus the modules named in
GATEWAY_FAMILY_MODULES (out-of-tree families, e.g. the tests' version family). The gateway serves the
models that models.config lists AND that have a family.
"""

from __future__ import annotations

import importlib
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from gateway.admin import Admin
from gateway.api import docs as api_docs
from gateway.api import errors as api_errors
from gateway.api.middleware import RequestContextMiddleware
from gateway.api.responses import ORJSONResponse
from gateway.api.routes import admin, health, models, playground, predict
from gateway.backend import Backend
from gateway.core.config import Settings
from gateway.deps import require_api_key
from gateway.metrics import Metrics
from gateway.service import PredictService
from gateway.registry import ModelRecord, Registry
from gateway.schemas import PredictRequest

log = logging.getLogger("gateway")


def load_families(settings: Settings) -> dict[str, Any]:
    import gateway.families as families

    for module in settings.family_modules:
        importlib.import_module(module)
    return families.FAMILIES


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def configure_logging(level: str) -> None:
    """Plain message format: access lines are already JSON."""
    logger = logging.getLogger("gateway")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s" ))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level.upper())


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    families = load_families(settings)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        executor = ThreadPoolExecutor(max_workers=settings.hook_threads, thread_name_prefix="gateway-hook")
        backend = Backend(settings)
        backend.on_retry = metrics.backend_retries.inc
        await backend.start()
        service_box: list[PredictService] = []

        async def run_blocking(fn: Any, *args: Any) -> Any:
            return await service_box[0].run_blocking(fn, *args)

        def on_change(record: ModelRecord) -> None:
            v = record.default_version
            metrics.observe_record(record.name, v, dict(record.labels), record.canary_share)
            log.info('{"event": "model_record", "model": "%s", "status": "%s", "served": %s, "default_version": %s}', record.name, record.status, sorted(record.served), "null" if v is None else v)

        registry = Registry(settings, backend, run_blocking, on_change=on_change, assets_gauge=metrics.assets_loaded)
        service = PredictService(registry, backend, executor, metrics)
        service_box.append(service)
        app.state.backend, app.state.registry, app.state.predict_service = backend, registry, service
        app.state.admin = Admin(settings, backend, registry, run_blocking)
        await registry.start()
        log.info('{"event": "started", "backend": "%s", "models": %d, "families": %d}', backend.target, len(registry.records), len(families))
        try:
            yield
        finally:
            # uvicorn has stopped accepting and drained in-flight requests before the lifespan ends
            await registry.stop()
            await backend.close(grace=1.0)
            executor.shutdown(wait=True, cancel_futures=False)

    app = FastAPI(
        title="TensorLayer book serving gateway",
        version="0.1.0",
        description="HTTP API in front of TF Serving / modelserver for the book's five model families. Errors are "
        "`{\"error\": {\"code\", \"message\", \"request_id\"}}`; every response carries `X-Request-ID`.",
        lifespan=lifespan,
        # FastAPI checks for OpenTelemetry providers on every request unless told not to
        telemetry=None if settings.otel_enabled else {"tracing": False, "metrics": False, "logs": False},
        default_response_class=ORJSONResponse,
        generate_unique_id_function=_operation_id,
        docs_url=None,  # served by gateway.api.docs with local assets (no CDN)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    api_errors.install(app)
    # the API-key check is a router dependency only when keys are configured: no per-request cost otherwise
    app.include_router(predict.build_router([Depends(require_api_key)] if settings.api_keys else []))
    app.include_router(models.router)
    app.include_router(health.router)
    if settings.admin_enabled:
        app.include_router(admin.router)
    api_docs.install(app)
    if settings.playground_enabled:
        playground.install(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Content-Type", "X-API-Key", "X-Request-ID", "X-Request-Timeout-Ms", "Authorization"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes, metrics=metrics)
    app.openapi = lambda: _openapi(app, families)  # type: ignore[method-assign]
    return app


def _base64_bytes(node: Any) -> Any:
    """In JSON a `bytes` field travels as a base64 string: say so (`contentEncoding`), not pydantic's
    `format: binary`, which describes raw bytes (multipart parts) and which generators cannot put in JSON."""
    if isinstance(node, dict):
        if node.get("format") == "binary":
            node = {k: v for k, v in node.items() if k != "format"} | {"contentEncoding": "base64"}
        return {k: _base64_bytes(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_base64_bytes(v) for v in node]
    return node


def _openapi(app: FastAPI, families: dict[str, Any]) -> dict[str, Any]:
    """The generated schema plus, for POST /predict, one request example per model and each family's
    Inputs/Outputs schema (families register at runtime, so this is built on first request)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    examples: dict[str, Any] = {}
    one_of = []
    seen: set[int] = set()
    for model, family in sorted(families.items()):
        examples[model] = {"summary": f"{model} ({family.name})", "value": {"model": model, "inputs": family.example}}
        if id(family) in seen:
            continue
        seen.add(id(family))
        for kind in ("Inputs", "Outputs"):
            sub = _base64_bytes(getattr(family, kind).model_json_schema(ref_template="#/components/schemas/{model}"))
            components.update(sub.pop("$defs", {}))
            name = f"{type(family).__name__}{kind}"
            components[name] = sub
            if kind == "Inputs":
                one_of.append({"$ref": f"#/components/schemas/{name}"})
    req_schema = PredictRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    components["PredictRequest"] = req_schema
    if one_of:
        req_schema["properties"]["inputs"] = {"oneOf": one_of, "description": "the family's inputs (see the examples)"}
    # One JSON body schema per model (its name as a constant, its family's Inputs): the schema says exactly
    # what each model takes, and generators (schemathesis) reach the families instead of the validator only.
    per_model = []
    for model, family in sorted(families.items()):
        props = {k: v for k, v in req_schema["properties"].items() if k != "inputs"}
        props["model"] = {"const": model, "type": "string"}
        props["inputs"] = {"$ref": f"#/components/schemas/{type(family).__name__}Inputs"}
        per_model.append({"type": "object", "title": f"PredictRequest[{model}]", "required": ["model", "inputs"],
                          "properties": props, "additionalProperties": False})
    json_schema = {"oneOf": per_model} if per_model else {"$ref": "#/components/schemas/PredictRequest"}
    # multipart: named fields (no binary `additionalProperties`, which generators cannot build): every family's
    # file fields as binary parts, its other inputs as text fields
    fields: dict[str, Any] = {}
    for family in {id(f): f for f in families.values()}.values():
        for name in family.Inputs.model_fields:
            binary = name in family.file_fields
            fields.setdefault(name, {"type": "string", "format": "binary"} if binary else {"type": "string"})
    multipart = {
        "type": "object",
        "required": ["model"],
        "properties": {
            "model": {"type": "string", **({"enum": sorted(families)} if families else {})},
            "version": {"type": "integer", "minimum": 0},
            "version_label": {"type": "string"},
            **{k: fields[k] for k in sorted(fields) if k not in ("model", "version", "version_label")},
        },
        "description": "the family's file fields (binary parts) and options (text fields); see the JSON schema per model",
    }
    post = schema["paths"]["/predict"]["post"]
    post["requestBody"] = {
        "required": True,
        "content": {
            "application/json": {"schema": json_schema, "examples": examples},
            "multipart/form-data": {"schema": multipart},
        },
    }
    app.openapi_schema = schema
    return schema
