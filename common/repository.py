"""The model repository on disk (design §2, §4, §8): `models.config` plus `<model>/<integer version>/`.

One mechanism for paths (design §8): `models.config` holds TF Serving's container paths (`/models/<name>`);
whoever runs on the host maps the `/models` prefix to the directory that holds `models.config`. Relative
base paths are resolved against that directory too.

`models.config` is read and written with our wire-compatible `ModelServerConfig` (same field names, so the
text is identical to what TF Serving parses); writes are atomic (temporary file + fsync + rename).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from google.protobuf import text_format

from protos import model_server_config_pb2 as msc

CONTAINER_ROOT = "/models"
CONFIG_NAME = "models.config"
DEFAULT_REPOSITORY = Path(__file__).resolve().parents[1] / "servables"  # the checkout's own repository


def default_repository() -> Path:
    """The one default model repository: `$SERVABLES_DIR` when set (the trainer container mounts it at
    /models), else the checkout's `servables/`. Read at call time, never at import."""
    return Path(os.environ.get("SERVABLES_DIR") or DEFAULT_REPOSITORY)


def parse_config_text(text: str) -> msc.ModelServerConfig:
    return text_format.Parse(text, msc.ModelServerConfig())


def read_config(path: Path) -> msc.ModelServerConfig:
    return parse_config_text(Path(path).read_text())


def format_config(config: msc.ModelServerConfig) -> str:
    return text_format.MessageToString(config)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Replace `path` so readers (TF Serving polls it) never see a half-written file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            # mkstemp creates 0600; the file is read by other users (TF Serving, the non-root gateway container)
            os.fchmod(f.fileno(), 0o644)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_config(path: Path, config: msc.ModelServerConfig) -> None:
    atomic_write_text(path, format_config(config))


def resolve_base_path(base_path: str, config_dir: Path, container_root: str = CONTAINER_ROOT) -> Path:
    """Map a base_path from models.config to a host path (see module docstring)."""
    root = container_root.rstrip("/")
    if base_path == root or base_path.startswith(root + "/"):
        return Path(config_dir) / base_path[len(root) :].lstrip("/")
    p = Path(base_path)
    return p if p.is_absolute() else Path(config_dir) / p


def parse_version_dir_name(name: str) -> int | None:
    """TF Serving's rule: a child whose whole name parses as a non-negative integer is a version ("00000123" -> 123)."""
    if not name.isascii() or not name.isdigit():
        return None
    return int(name)


def list_versions(model_dir: Path) -> dict[int, Path]:
    """Integer-named child directories of a model's base path, sorted; other names (temporaries, assets) are
    ignored and a missing base path means "no versions yet". Two names for one number ("7" and "007"): the
    first in sorted order wins, deterministically."""
    out: dict[int, Path] = {}
    try:
        entries = list(os.scandir(model_dir))
    except FileNotFoundError:
        return out
    for e in entries:
        v = parse_version_dir_name(e.name)
        if v is not None and e.is_dir() and (v not in out or e.name < out[v].name):
            out[v] = Path(e.path)
    return dict(sorted(out.items()))


def model_config(config: msc.ModelServerConfig, name: str) -> msc.ModelConfig | None:
    for mc in config.model_config_list.config:
        if mc.name == name:
            return mc
    return None


def ensure_model(config_path: Path, name: str) -> bool:
    """Add `name` (base path /models/<name>, platform tensorflow, latest-1 policy) if absent; True if added."""
    config_path = Path(config_path)
    config = read_config(config_path) if config_path.exists() else msc.ModelServerConfig()
    if model_config(config, name) is not None:
        return False
    mc = config.model_config_list.config.add(name=name, base_path=f"{CONTAINER_ROOT}/{name}", model_platform="tensorflow")
    mc.model_version_policy.latest.num_versions = 1
    config_path.parent.mkdir(parents=True, exist_ok=True)
    write_config(config_path, config)
    return True


class RepositoryLock:
    """An exclusive advisory lock (flock) on `<repo>/.lock`: serialises version numbering and config edits
    between concurrent exporters, servectl and the gateway's admin API on one host."""

    def __init__(self, repo: Path) -> None:
        self.path = Path(repo) / ".lock"
        self._fd: int | None = None

    def __enter__(self) -> "RepositoryLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        import fcntl

        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None
