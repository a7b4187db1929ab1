"""All gateway settings in one class, read from `GATEWAY_*` environment variables when the app is built
(never at import time: tests and `python -m gateway` build several apps with different settings).

Lists accept a comma-separated string (`GATEWAY_API_KEYS=k1,k2`) or JSON; `canary_shares` is JSON
(`GATEWAY_CANARY_SHARES='{"antispam": 0.1}'`). Every limit lives here, the families' included: a family
reads its limits from the Settings the registry hands to its `load_assets`, never from the environment.
The configuration table of docs/gateway.md is generated from these fields (`python -m gateway.core.config`);
a test fails when it is stale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from common import labels
from common.repository import DEFAULT_REPOSITORY

MiB = 1 << 20
PLACEHOLDER_TOKENS = {"changethis", "change-me", "changeme", "secret", "admin"}


def _split_list(value: Any) -> Any:
    """`a,b` or `["a","b"]` -> list; empty string -> []."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


@dataclass(frozen=True)
class BatchPolicy:
    """How one model's requests are merged (gateway/batching.py): the settings' defaults with the model's override."""

    enabled: bool
    max_batch_size: int  # rows, not requests
    max_latency_ms: float
    send_when_idle: bool = True  # False: always wait up to max_latency_ms for batch-mates (fixed window)


class BatchOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    max_batch_size: int | None = Field(None, ge=1)
    max_latency_ms: float | None = Field(None, ge=0)
    send_when_idle: bool | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_ignore_empty=True, extra="ignore")

    environment: Literal["development", "production"] = Field(
        "production", description="`development` allows placeholder admin tokens"
    )
    # --- server (python -m gateway)
    host: str = Field("127.0.0.1", description="bind address of `python -m gateway`")
    port: int = Field(8000, ge=0, le=65535, description="HTTP port of `python -m gateway`")
    workers: int = Field(1, ge=1, description="uvicorn worker processes")
    log_level: str = Field("info", description="logging level of the gateway's loggers")
    playground_enabled: bool = Field(True, description="serve the web playground at `/` (static files, gateway/static/playground)")
    shutdown_timeout_s: float = Field(30.0, gt=0, description="graceful shutdown: how long in-flight requests may drain")
    otel_enabled: bool = Field(
        False, description="FastAPI's native OpenTelemetry (spans, metrics, logs to the globally configured providers); "
        "off, its per-request check is skipped (measured 6 µs a request)",
    )

    # --- backend (TF Serving or modelserver)
    backend: str = Field(
        "localhost:8500",
        description="gRPC backend: `host:port`, a comma-separated list (balanced round robin), or a gRPC target: `dns:///tfs:8500` (every address of the name, re-resolved), `dns://dns-server:53/tfs:8500`, `ipv4:10.0.0.1:8500,10.0.0.2:8500`",
    )
    servables: Path = Field(DEFAULT_REPOSITORY, description="model repository holding models.config and the version directories")
    backend_timeout_s: float = Field(30.0, gt=0, description="deadline of one Predict call (all retries included)")
    status_timeout_s: float = Field(2.0, gt=0, description="deadline of GetModelStatus / metadata calls")
    reload_timeout_s: float = Field(30.0, gt=0, description="deadline of HandleReloadConfigRequest")
    backend_retries: int = Field(2, ge=0, description="extra attempts on UNAVAILABLE, with exponential backoff")
    retry_backoff_s: float = Field(0.05, gt=0, description="first backoff between attempts (doubles, with jitter)")
    max_message_bytes: int = Field(256 * MiB, ge=4 * MiB, description="gRPC send/receive message limit")
    backend_resolve_interval_s: float = Field(
        5.0,
        gt=0,
        description="a `dns:` backend's name is resolved again this often for the per-replica status and reload "
        "channels; also the least time between gRPC's own re-resolutions of the Predict channel",
    )
    reconnect_backoff_max_s: float = Field(2.0, gt=0, description="cap of gRPC's reconnect backoff (a restarted backend is found this fast)")
    asset_retry_s: float = Field(30.0, gt=0, description="how often the assets of a version that failed to load are tried again")
    refresh_interval_s: float = Field(0.5, gt=0, description="how often the registry polls GetModelStatus and models.config")

    # --- limits
    max_body_bytes: int = Field(16 * MiB, ge=1024, description="largest request body (JSON or multipart); larger -> 413")
    max_form_fields: int = Field(32, ge=1, description="largest number of multipart fields")
    max_form_files: int = Field(32, ge=1, description="largest number of multipart files (the classifiers take batches of up to 32 images)")
    max_header_bytes: int = Field(32 * 1024, ge=1024, description="largest request line + headers in bytes; larger -> 431 and the connection is closed")
    max_headers: int = Field(100, ge=8, description="most header lines in one request; more -> 431 and the connection is closed")
    hook_threads: int = Field(4, ge=1, description="thread pool for family hooks and asset loading")
    inline_hooks: bool | None = Field(
        None,
        description="run family hooks on the event loop (true) or in the pool (false); unset = each family's choice "
        "(`Family.light_hooks`: antispam inline, image families in the pool)",
    )
    retry_after_s: int = Field(1, ge=1, description="Retry-After when the backend is down")
    loading_retry_after_s: int = Field(5, ge=1, description="Retry-After when a model is loading or has no version yet")

    # --- security
    admin_token: SecretStr | None = Field(None, description="bearer token of /admin; unset = admin API disabled (404)")
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="if set, /predict requires header `X-API-Key` with one of these"
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="origins allowed to call the API from browsers (`*` for any)"
    )

    # --- models
    canary_shares: dict[str, float] = Field(
        default_factory=dict, description="default share (0..1) of unpinned requests sent to a model's `canary` label; the admin API overrides"
    )
    family_modules: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="extra modules to import for out-of-tree families (tests, plugins)"
    )
    admin_load_timeout_s: float = Field(120.0, gt=0, description="how long a label move waits for its version to become AVAILABLE")

    # --- batching (gateway/batching.py): defaults for every batchable model, `batching` overrides per model
    batching_enabled: bool = Field(
        True, description="merge concurrent requests of batchable families (antispam, vgg16, inception_v3); a lone request is sent at once"
    )
    batch_max_size: int = Field(32, ge=1, description="largest merged batch, in rows (a request with more rows is sent alone)")
    batch_max_latency_ms: float = Field(2.0, ge=0, description="longest a request waits in the queue for batch-mates while a batch is in flight")
    batch_send_when_idle: bool = Field(
        True, description="send a request at once when nothing of its model is queued or in flight (false: always wait max_latency_ms)"
    )
    batching: dict[str, BatchOverride] = Field(
        default_factory=dict,
        description='per-model overrides, JSON: `{"antispam": {"enabled": true, "max_batch_size": 64, "max_latency_ms": 1, "send_when_idle": true}}`',
    )

    # --- family limits (read by each family's load_assets; a request over a limit gets a 4xx naming it)
    antispam_max_chars: int = Field(5000, ge=1, description="antispam: longest message, in characters (413 above)")
    antispam_max_texts: int = Field(64, ge=1, description="antispam: most messages in one request (413 above)")
    image_max_batch: int = Field(32, ge=1, description="vgg16 / inception_v3: most images in one request (413 above)")
    image_max_pixels: int = Field(40_000_000, ge=1, description="every image input: most pixels (width x height) of a decoded image, checked from the header")
    image_max_side: int = Field(12_000, ge=1, description="every image input: longest side in pixels")
    image_max_bytes: int = Field(25 * MiB, ge=1, description="every image input: largest encoded image")
    unet_max_side: int = Field(512, ge=16, description="unet: in-plane side the model is run at, at most (larger planes are centre-cropped)")
    unet_max_input_side: int = Field(1024, ge=16, description="unet: longest in-plane side of an upload (larger ones are refused)")
    unet_max_slices: int = Field(512, ge=1, description="unet: most axial slices of a NIfTI volume")
    unet_max_voxels: int = Field(24_000_000, ge=1, description="unet: most voxels of one modality")
    srgan_tile_threshold: int = Field(800, ge=1, description="srgan: longer input side above which the image is cut into tiles")
    srgan_tile_size: int = Field(256, ge=16, description="srgan: tile side in input pixels when tiling")
    srgan_tile_overlap: int = Field(32, ge=0, description="srgan: overlap between tiles (raised to the model's receptive radius)")
    srgan_max_output_pixels: int = Field(25_000_000, ge=1, description="srgan: most output pixels (4W x 4H)")
    srgan_min_side: int = Field(16, ge=1, description="srgan: shortest input side accepted")
    srgan_png_compress_level: int = Field(1, ge=0, le=9, description="srgan: zlib level of the PNGs returned (1: fast, larger)")
    text2image_max_images: int = Field(16, ge=1, description="text2image: most images (`n`) per request")
    text2image_max_steps: int = Field(16, ge=2, description="text2image: most frames of an interpolation strip")
    text2image_max_tokens: int = Field(50, ge=1, description="text2image: most word tokens per caption")

    @field_validator("api_keys", "cors_origins", "family_modules", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("canary_shares")
    @classmethod
    def _shares(cls, value: dict[str, float]) -> dict[str, float]:
        for model, share in value.items():
            try:
                labels.check_share(share)  # the one rule (and message) the admin API and servectl use too
            except labels.InvalidShare as e:
                raise ValueError(f"GATEWAY_CANARY_SHARES[{model!r}]: {e}") from None
        return value

    @model_validator(mode="after")
    def _srgan_tiles(self) -> "Settings":
        if self.srgan_tile_overlap >= self.srgan_tile_size:
            raise ValueError(f"srgan_tile_overlap ({self.srgan_tile_overlap}, GATEWAY_SRGAN_TILE_OVERLAP) must be below srgan_tile_size ({self.srgan_tile_size})")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_token(self) -> "Settings":
        token = self.admin_token.get_secret_value() if self.admin_token else None
        if token is not None and self.environment != "development":
            if token.lower() in PLACEHOLDER_TOKENS or len(token) < 16:
                raise ValueError(
                    "GATEWAY_ADMIN_TOKEN is a placeholder or shorter than 16 characters; set a real secret "
                    "(or GATEWAY_ENVIRONMENT=development for local use)"
                )
        return self

    def batch_policy(self, model: str) -> BatchPolicy:
        o = self.batching.get(model) or BatchOverride()
        return BatchPolicy(
            enabled=self.batching_enabled if o.enabled is None else o.enabled,
            max_batch_size=o.max_batch_size or self.batch_max_size,
            max_latency_ms=self.batch_max_latency_ms if o.max_latency_ms is None else o.max_latency_ms,
            send_when_idle=self.batch_send_when_idle if o.send_when_idle is None else o.send_when_idle,
        )

    @property
    def admin_enabled(self) -> bool:
        return self.admin_token is not None

    @property
    def config_path(self) -> Path:
        return Path(self.servables) / "models.config"


def settings_table() -> str:
    """The Markdown table of every `GATEWAY_*` variable: docs/gateway.md carries it (a test compares)."""
    rows = ["| variable | default | bounds | what |", "| --- | --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if isinstance(default, Path):
            default = "checkout's `servables/`" if default == DEFAULT_REPOSITORY else str(default)
        elif isinstance(default, SecretStr):
            default = "(set)"
        shown = "(unset)" if default in (None, [], {}) else f"`{json.dumps(default) if isinstance(default, (bool, list, dict)) else default}`"
        bounds = " ".join(f"{sym} {getattr(m, attr)}" for m in field.metadata for attr, sym in
                          (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")) if getattr(m, attr, None) is not None)
        rows.append(f"| `GATEWAY_{name.upper()}` | {shown} | {bounds} | {(field.description or '').replace('|', '/')} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
