"""Liveness, readiness and metrics. /readyz is computed from the registry and the backend's last answer
(never a constant): 503 + Retry-After while the backend is down or a published model is not served yet."""

from __future__ import annotations

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from gateway.api.responses import ORJSONResponse
from gateway.deps import RegistryDep, SettingsDep
from gateway.schemas import Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def read_health() -> dict[str, str]:
    return {"status": "alive"}


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}}, summary="Backend answers and every published model is served")
async def read_ready(registry: RegistryDep, settings: SettingsDep) -> ORJSONResponse:
    ready, reasons = registry.ready()
    body = {"ready": ready, "reasons": reasons, "models": {r.name: r.status for r in registry.records.values()}}
    if ready:
        return ORJSONResponse(body)
    return ORJSONResponse(body, status_code=503, headers={"Retry-After": str(settings.retry_after_s)})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def read_metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
