"""Admin API (bearer token). Mounted only when GATEWAY_ADMIN_TOKEN is set: without a token the routes do not
exist (404), as the template's development-only router."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from gateway.deps import AdminDep
from gateway.schemas import CanaryShare, CanaryShareOut, ErrorBody, LabelChange, LabelMove, ReloadOut

router = APIRouter(prefix="/admin", tags=["admin"], responses={c: {"model": ErrorBody} for c in (401, 403, 404, 409, 422, 503, 504)})


def _admin(request: Request) -> Any:
    return request.app.state.admin


@router.put("/models/{name}/labels/{label}", response_model=LabelChange, summary="Point a version label at a version (loads it first if needed)")
async def move_label(name: str, label: str, body: LabelMove, request: Request, _auth: AdminDep) -> dict[str, Any]:
    return await _admin(request).move_label(name, label, body.version)


@router.post("/models/{name}/labels/{label}/rollback", response_model=LabelChange, summary="Move a label back to its previous version")
async def rollback_label(name: str, label: str, request: Request, _auth: AdminDep) -> dict[str, Any]:
    return await _admin(request).rollback_label(name, label)


@router.delete("/models/{name}/labels/{label}", response_model=LabelChange, summary="Remove a version label")
async def delete_label(name: str, label: str, request: Request, _auth: AdminDep) -> dict[str, Any]:
    return await _admin(request).delete_label(name, label)


@router.put("/models/{name}/canary", response_model=CanaryShareOut, summary="Share (a fraction 0..1) of unpinned requests sent to the `canary` label")
async def set_canary(name: str, body: CanaryShare, request: Request, _auth: AdminDep) -> dict[str, Any]:
    return await _admin(request).set_canary_share(name, body.share)


@router.post("/reload", response_model=ReloadOut, summary="Re-read models.config and send it to the backend(s)")
async def reload_config(request: Request, _auth: AdminDep) -> dict[str, Any]:
    return await _admin(request).reload()
