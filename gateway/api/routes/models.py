"""GET /models and GET /models/{name}: what the gateway serves, from the registry (no backend call)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from common import manifest as mf
from common import repository as repo
from common.repository import MODEL_NAME_PATTERN
from gateway.deps import RegistryDep
from gateway.registry import ModelRecord, Registry
from gateway.schemas import ErrorBody, ModelDetail, ModelsList, VersionInfo

router = APIRouter(prefix="/models", tags=["models"])


def summary(record: ModelRecord) -> dict[str, Any]:
    return {
        "name": record.name,
        "family": record.family.name if record.family else None,
        "status": record.status,
        "default_version": record.default_version,
        "labels": dict(record.labels),
        "served_versions": sorted(record.served),
    }


@router.get("", response_model=ModelsList, summary="List models")
async def read_models(registry: RegistryDep) -> dict[str, Any]:
    return {"models": [summary(r) for r in sorted(registry.records.values(), key=lambda r: r.name)]}


def _version_infos(registry: Registry, record: ModelRecord) -> list[dict[str, Any]]:
    by_label: dict[int, list[str]] = {}
    for label, v in record.labels.items():
        by_label.setdefault(v, []).append(label)
    out = []
    mc = registry.model_config(record.name)
    base = repo.resolve_base_path(mc.base_path, registry.settings.servables) if mc is not None else None
    for v in sorted(set(record.on_disk) | set(record.backend_states) | set(record.served)):
        st = record.backend_states.get(v)
        served = record.served.get(v)
        manifest: dict[str, Any] | None = served.manifest if served else None
        if manifest is None and base is not None and v in record.on_disk:
            try:
                manifest = mf.read_manifest(base / str(v))
            except (OSError, ValueError):
                manifest = None
        out.append(
            {
                "version": v,
                "state": st.state if st else "ON_DISK",
                "served": served is not None,
                "labels": sorted(by_label.get(v, [])),
                "error": (st.error or None) if st else None,
                "preset": manifest.get("preset") if manifest else None,
                "created": manifest.get("created") if manifest else None,
                "metrics": manifest.get("metrics") if manifest else None,
            }
        )
    return out


@router.get("/{name}", response_model=ModelDetail, responses={404: {"model": ErrorBody}}, summary="One model: versions, states, labels, signature, metrics")
async def read_model(name: Annotated[str, Path(pattern=MODEL_NAME_PATTERN, max_length=128)], registry: RegistryDep) -> dict[str, Any]:
    record = registry.get(name)
    default = record.default_version
    signature = record.served[default].manifest.get("signature") if default is not None else None
    return {
        **summary(record),
        "message": record.message,
        "canary_share": record.canary_share,
        "signature": signature,
        "versions": [VersionInfo(**v).model_dump() for v in _version_infos(registry, record)],
    }
