"""Dependencies named as types: a handler's signature says what it needs (`registry: RegistryDep`).
Authorisation is a dependency, never a check inside a handler (POST /predict's router gets `require_api_key`
only when API keys are configured: no per-request cost otherwise). All are `async def`: FastAPI runs plain
`def` dependencies in a thread pool, a thread hop per dependency per request for nothing."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from gateway import errors as E
from gateway.core.config import Settings
from gateway.registry import Registry


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_registry(request: Request) -> Registry:
    return request.app.state.registry


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]


def _auth_failed(request: Request, scope: str, reason: str) -> None:
    """Counted (gateway_auth_failures): a burst of invalid keys is worth an alert."""
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.auth_failures.labels(scope, reason).inc()


async def require_admin(request: Request, settings: SettingsDep) -> None:
    """Bearer token, compared in constant time. Missing -> 401, wrong -> 403."""
    if settings.admin_token is None:  # the router is not even mounted then; defence in depth
        raise E.ModelNotFound("admin API disabled")
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token:
        _auth_failed(request, "admin", "missing")
        raise E.Unauthorized("admin API needs `Authorization: Bearer <token>`")
    if not hmac.compare_digest(token.strip().encode(), settings.admin_token.get_secret_value().encode()):
        _auth_failed(request, "admin", "invalid")
        raise E.Forbidden("invalid admin token")


async def require_api_key(request: Request, settings: SettingsDep) -> None:
    """When API keys are configured, /predict needs `X-API-Key` with one of them (401 missing, 403 wrong)."""
    if not settings.api_keys:
        return
    key = request.headers.get("x-api-key")
    if not key:
        _auth_failed(request, "predict", "missing")
        raise E.Unauthorized("this gateway requires an API key in header `X-API-Key`")
    good = False
    for candidate in settings.api_keys:  # no early exit: time does not depend on which key matched
        good |= hmac.compare_digest(key.encode(), candidate.encode())
    if not good:
        _auth_failed(request, "predict", "invalid")
        raise E.Forbidden("invalid API key")


AdminDep = Annotated[None, Depends(require_admin)]
