"""Options of the model server and the models it serves, read when the server is built (never at import).

Flags carry TF Serving's names and defaults where they mean the same thing (`--port`, `--rest_api_port`,
`--rest_api_num_threads`, `--rest_api_timeout_in_ms`, `--rest_api_enable_cors_support`,
`--monitoring_config_file`, `--model_config_file`, `--model_config_file_poll_wait_seconds`,
`--file_system_poll_wait_seconds`, `--enable_serialization_as_tensor_content`, `--grpc_max_message_size`);
ours are named for what they do. Only `--port` opens a port by default: REST (`--rest_api_port`) and our
stand-alone metrics port (`--monitoring_port`) are off unless asked for, so two servers on different
`--port`s never collide.

`models.config` is parsed with the OFFICIAL `tensorflow_serving.config` protos, so a file that this server
accepts is a file TF Serving accepts. Its `/models/<name>` container paths are mapped to the directory that
holds the file (docs/design.md §8, `common.repository.resolve_base_path`).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from google.protobuf import text_format

from common.repository import CONTAINER_ROOT, resolve_base_path

DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024
DEFAULT_REST_API_TIMEOUT_MS = 30000  # TF Serving's http_timeout_in_ms
PROMETHEUS_DEFAULT_PATH = "/monitoring/prometheus/metrics"  # TF Serving's PrometheusExporter::kPrometheusPath


def default_rest_api_num_threads() -> int:
    """TF Serving's default: 4 threads per schedulable CPU."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return 4 * max(cpus, 1)


class ConfigError(ValueError):
    """models.config (or a reload request) cannot be served; the message says what and where."""


@dataclass(frozen=True)
class VersionPolicy:
    """Which of the integer-named version directories a model aspires (TF Serving's ServableVersionPolicy)."""

    kind: str = "latest"  # latest | all | specific
    num_versions: int = 1  # latest
    versions: tuple[int, ...] = ()  # specific

    def select(self, available: Sequence[int]) -> list[int]:
        ordered = sorted(set(available))
        if self.kind == "all":
            return ordered
        if self.kind == "specific":
            return [v for v in ordered if v in set(self.versions)]
        return ordered[-max(self.num_versions, 1) :] if ordered else []


@dataclass(frozen=True)
class ModelEntry:
    """One `config { ... }` of models.config, with its base path resolved on this host."""

    name: str
    base_path: Path
    policy: VersionPolicy = field(default_factory=VersionPolicy)
    labels: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerOptions:
    port: int = 8500
    model_config_file: Path | None = None
    model_config_file_poll_wait_seconds: float = 1.0
    file_system_poll_wait_seconds: float = 1.0
    enable_serialization_as_tensor_content: bool = False
    grpc_max_message_size: int = DEFAULT_MAX_MESSAGE_BYTES
    rest_api_port: int = 0  # TF Serving's REST API; 0 = off (TF Serving's default)
    rest_api_num_threads: int = field(default_factory=default_rest_api_num_threads)
    rest_api_timeout_in_ms: int = DEFAULT_REST_API_TIMEOUT_MS  # session-run timeout of REST calls (<= 0: none)
    rest_api_enable_cors_support: bool = False
    monitoring_config_file: Path | None = None  # TF Serving's MonitoringConfig text proto (Prometheus on the REST port)
    monitoring_port: int = 0  # ours: Prometheus /metrics on its own port; 0 (default) = off
    container_model_root: str = CONTAINER_ROOT
    grpc_max_threads: int = 16
    drain_timeout_seconds: float = 30.0
    num_load_threads: int = 1
    manage_state_interval_seconds: float = 0.1
    tensorflow_intra_op_parallelism: int = 0  # 0: TF picks (one thread per core)
    tensorflow_inter_op_parallelism: int = 0  # 0: TF picks; negative: every op runs in the RPC's own thread
    grpc_channel_arguments: tuple[tuple[str, int | str], ...] = ()  # extra gRPC server options (TF Serving's flag)
    grpc_bind_address: str = "0.0.0.0"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m modelserver",
        description="TF-Serving-compatible gRPC model server (PredictionService + ModelService) for SavedModels.",
    )
    p.add_argument("--port", type=int, default=8500, help="gRPC port (TF Serving: --port). 0 picks a free port.")
    p.add_argument("--model_config_file", type=Path, required=True, help="models.config in TF Serving's text format.")
    p.add_argument(
        "--model_config_file_poll_wait_seconds",
        type=float,
        default=1.0,
        help="How often models.config is checked for changes (<= 0: never). TF Serving's default is 0; ours is 1.",
    )
    p.add_argument(
        "--file_system_poll_wait_seconds", type=float, default=1.0, help="How often base paths are polled for versions."
    )
    p.add_argument(
        "--enable_serialization_as_tensor_content",
        type=_parse_bool,
        nargs="?",
        const=True,
        default=False,
        help="Answer in tensor_content instead of the typed *_val fields.",
    )
    p.add_argument(
        "--grpc_max_message_size",
        type=int,
        default=DEFAULT_MAX_MESSAGE_BYTES,
        help="Max gRPC message size in bytes, both directions (default 256 MiB).",
    )
    p.add_argument(
        "--rest_api_port",
        type=int,
        default=0,
        help="Port of TF Serving's HTTP/REST API (/v1/models/...). 0 (default): not exported. Must differ from --port.",
    )
    p.add_argument(
        "--rest_api_num_threads",
        type=int,
        default=None,
        help="Threads answering REST requests (each runs its TF session call). Default: 4 per CPU, as TF Serving.",
    )
    p.add_argument(
        "--rest_api_timeout_in_ms",
        type=int,
        default=DEFAULT_REST_API_TIMEOUT_MS,
        help="Timeout of a REST call's TensorFlow run, in ms (TF Serving's RunOptions timeout; <= 0: none).",
    )
    p.add_argument(
        "--rest_api_enable_cors_support",
        type=_parse_bool,
        nargs="?",
        const=True,
        default=False,
        help="Add CORS headers to REST responses (TF Serving's flag).",
    )
    p.add_argument(
        "--monitoring_config_file",
        type=Path,
        default=None,
        help="TF Serving's MonitoringConfig in text format; prometheus_config { enable: true path: ... } serves "
        "Prometheus metrics on the REST port at that path (default /monitoring/prometheus/metrics).",
    )
    p.add_argument(
        "--monitoring_port",
        type=int,
        default=0,
        help="Ours: an extra HTTP port serving Prometheus /metrics (0, the default: off). TF Serving serves metrics "
        "on the REST port instead (--monitoring_config_file).",
    )
    p.add_argument(
        "--container_model_root",
        default=CONTAINER_ROOT,
        help="Prefix of the base paths in models.config that is mapped to the directory holding models.config.",
    )
    p.add_argument("--grpc_max_threads", type=int, default=16, help="Worker threads answering RPCs (each runs its TF session call).")
    p.add_argument(
        "--drain_timeout_seconds", type=float, default=30.0, help="On SIGTERM, how long in-flight requests may take to finish."
    )
    p.add_argument("--num_load_threads", type=int, default=1, help="Threads loading versions (0: load on the manager thread).")
    p.add_argument(
        "--tensorflow_intra_op_parallelism",
        type=int,
        default=0,
        help="Threads one op may use (TF Serving's flag; 0: TF picks one per core). 1 suits small models under "
        "concurrent load: requests already run in parallel on the RPC threads.",
    )
    p.add_argument(
        "--tensorflow_inter_op_parallelism",
        type=int,
        default=0,
        help="Threads running independent ops of one request (TF Serving's flag; 0: TF picks). A negative value runs "
        "every op in the RPC's own thread (TF's ConfigProto rule): no thread hand-offs. Together with "
        "--tensorflow_intra_op_parallelism 1 it halved the tiny anti-spam RNN's session call (docs/modelserver.md).",
    )
    p.add_argument(
        "--grpc_channel_arguments",
        type=parse_channel_arguments,
        default=(),
        help="Comma-separated gRPC server arguments, e.g. grpc.max_connection_age_ms=30000 (TF Serving's flag): "
        "recycling connections makes clients with a dns:/// target re-resolve and find replicas added later.",
    )
    p.add_argument(
        "--grpc_bind_address",
        default="0.0.0.0",
        help="Address the gRPC port binds (ours; TF Serving always binds all). Several replicas on one host can "
        "share a port on different loopback addresses (127.0.0.2, 127.0.0.3, ...), one DNS name for all of them.",
    )
    return p


def parse_channel_arguments(text: str) -> tuple[tuple[str, int | str], ...]:
    """`k=v,k=v` -> ((k, v), ...), integer values as int (TF Serving's rule for --grpc_channel_arguments)."""
    out: list[tuple[str, int | str]] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise argparse.ArgumentTypeError(f"expected key=value in --grpc_channel_arguments, got {item!r}")
        value = value.strip()
        out.append((key.strip(), int(value) if value.lstrip("-").isdigit() else value))
    return tuple(out)


def _parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def parse_args(argv: Sequence[str] | None = None) -> ServerOptions:
    ns = build_parser().parse_args(argv)
    return ServerOptions(
        port=ns.port,
        model_config_file=ns.model_config_file.resolve(),
        model_config_file_poll_wait_seconds=ns.model_config_file_poll_wait_seconds,
        file_system_poll_wait_seconds=ns.file_system_poll_wait_seconds,
        enable_serialization_as_tensor_content=ns.enable_serialization_as_tensor_content,
        grpc_max_message_size=ns.grpc_max_message_size,
        rest_api_port=ns.rest_api_port,
        rest_api_num_threads=ns.rest_api_num_threads if ns.rest_api_num_threads is not None else default_rest_api_num_threads(),
        rest_api_timeout_in_ms=ns.rest_api_timeout_in_ms,
        rest_api_enable_cors_support=ns.rest_api_enable_cors_support,
        monitoring_config_file=ns.monitoring_config_file.resolve() if ns.monitoring_config_file else None,
        monitoring_port=ns.monitoring_port,
        container_model_root=ns.container_model_root,
        grpc_max_threads=ns.grpc_max_threads,
        drain_timeout_seconds=ns.drain_timeout_seconds,
        num_load_threads=ns.num_load_threads,
        tensorflow_intra_op_parallelism=ns.tensorflow_intra_op_parallelism,
        tensorflow_inter_op_parallelism=ns.tensorflow_inter_op_parallelism,
        grpc_channel_arguments=ns.grpc_channel_arguments,
        grpc_bind_address=ns.grpc_bind_address,
    )


# --- monitoring config ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrometheusSettings:
    """Whether and where the REST port serves Prometheus metrics (TF Serving's PrometheusConfig)."""

    enable: bool = False
    path: str = PROMETHEUS_DEFAULT_PATH


def read_monitoring_config(path: Path | None) -> PrometheusSettings:
    """Parse `--monitoring_config_file` (TF Serving's MonitoringConfig text proto); no file: metrics off.

    A file that cannot be read or parsed stops start-up, as in TF Serving (ParseProtoTextFile fails the server).
    """
    if path is None:
        return PrometheusSettings()
    from protos import monitoring_config_pb2

    try:
        text = Path(path).read_text()
    except OSError as e:
        raise ConfigError(f"--monitoring_config_file {path}: {e.strerror or e}") from e
    try:
        config = text_format.Parse(text, monitoring_config_pb2.MonitoringConfig())
    except text_format.ParseError as e:
        raise ConfigError(f"--monitoring_config_file {path}: {e}") from e
    prometheus = config.prometheus_config
    return PrometheusSettings(enable=prometheus.enable, path=prometheus.path or PROMETHEUS_DEFAULT_PATH)


# --- models.config -------------------------------------------------------------------------------------


def parse_config_text(text: str, source: str = "models.config"):
    """Parse TF Serving's text format with the official message (raises ConfigError with the parser's words)."""
    from tensorflow_serving.config import model_server_config_pb2

    try:
        return text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
    except text_format.ParseError as e:
        raise ConfigError(f"{source}: {e}") from e


def parse_config_bytes(data: bytes):
    """A ModelServerConfig from its wire bytes (a ReloadConfigRequest's `config`), with the official message."""
    from tensorflow_serving.config import model_server_config_pb2

    return model_server_config_pb2.ModelServerConfig.FromString(data)


def model_entries(config, config_dir: Path, container_root: str = CONTAINER_ROOT) -> list[ModelEntry]:
    """Validate an official ModelServerConfig and turn it into ModelEntry values.

    Only `model_config_list` is supported (as TF Serving's HandleReloadConfigRequest); every model must
    have a name, a base path and the `tensorflow` platform, and names must be unique.
    """
    which = config.WhichOneof("config")
    if which is None:
        return []
    if which != "model_config_list":
        raise ConfigError(
            "ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported"
        )
    entries: list[ModelEntry] = []
    seen: set[str] = set()
    for mc in config.model_config_list.config:
        if not mc.name:
            raise ConfigError("a model config has no name")
        if mc.name in seen:
            raise ConfigError(f"Illegal to list model {mc.name} multiple times in config list")
        seen.add(mc.name)
        if not mc.base_path:
            raise ConfigError(f"model {mc.name} has no base_path")
        platform = mc.model_platform or "tensorflow"
        if platform != "tensorflow":
            raise ConfigError(f"Model {mc.name} requests unsupported platform {platform}")
        entries.append(
            ModelEntry(
                name=mc.name,
                base_path=resolve_base_path(mc.base_path, Path(config_dir), container_root),
                policy=_policy(mc.model_version_policy),
                labels=dict(mc.version_labels),
            )
        )
    return entries


def _policy(proto) -> VersionPolicy:
    which = proto.WhichOneof("policy_choice")
    if which == "all":
        return VersionPolicy("all")
    if which == "specific":
        return VersionPolicy("specific", versions=tuple(int(v) for v in proto.specific.versions))
    if which == "latest":
        return VersionPolicy("latest", num_versions=max(int(proto.latest.num_versions), 1))
    return VersionPolicy("latest", num_versions=1)  # TF Serving's default policy
