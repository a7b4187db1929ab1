"""The file-system source: on every poll, the complete aspired version set of each model (TF Serving's
FileSystemStoragePathSource).

Why stateless: each item carries the *whole* wanted set of one model, and leaving a version out means
"unload it", so the source never diffs or remembers anything; a missed poll is repaired by the next one.
Only children whose whole name is a non-negative integer are versions ("00000123" is 123), so a publish in
progress (`.tmp-export-*`) is never seen. A base path that cannot be read becomes an error item, not an
exception: errors travel to the manager (and from there to the logs) by the same road as data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from common.repository import list_versions
from modelserver.config import ModelEntry, VersionPolicy


@dataclass(frozen=True)
class AspiredVersion:
    version: int
    path: Path


@dataclass(frozen=True)
class AspiredVersions:
    """The full wanted set for one model, or an error (then `versions` is empty and must not be applied)."""

    model: str
    versions: tuple[AspiredVersion, ...] = ()
    error: str | None = None


list_version_dirs = list_versions  # TF Serving's directory rule, shared with export, gateway and servectl


def aspired_versions(model: str, base_path: Path, policy: VersionPolicy) -> AspiredVersions:
    try:
        if base_path.exists() and not base_path.is_dir():
            return AspiredVersions(model, error=f"base path {base_path} of model {model} is not a directory")
        available = list_version_dirs(base_path)
    except OSError as e:
        return AspiredVersions(model, error=f"cannot list base path {base_path} of model {model}: {e}")
    chosen = policy.select(list(available))
    return AspiredVersions(model, tuple(AspiredVersion(v, available[v]) for v in chosen))


def poll(models: Iterable[ModelEntry]) -> list[AspiredVersions]:
    """One poll over every configured model."""
    return [aspired_versions(m.name, m.base_path, m.policy) for m in models]
