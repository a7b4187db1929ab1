"""`assets.extra/manifest.json`: what a version is (family, preset, data hash, signature, metrics,
preprocessing parameters). TF Serving ignores `assets.extra/` except its warm-up file, so this is where the
gateway's assets for exactly this graph live (docs/design.md §3)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

ASSETS_EXTRA = "assets.extra"
MANIFEST_NAME = "manifest.json"
WARMUP_NAME = "tf_serving_warmup_requests"
WARMUP_MAX_RECORDS = 1000  # TF Serving reads at most this many warm-up records


def assets_dir(version_dir: Path) -> Path:
    return Path(version_dir) / ASSETS_EXTRA


def manifest_path(version_dir: Path) -> Path:
    return assets_dir(version_dir) / MANIFEST_NAME


def read_manifest(version_dir: Path) -> dict[str, Any]:
    """The manifest of a version; raises FileNotFoundError / ValueError when absent or not JSON."""
    path = manifest_path(version_dir)
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from e


def hash_files(paths: Iterable[Path]) -> str:
    """sha256 over the files' bytes in the given order: the training data hash recorded in manifests."""
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return "sha256:" + h.hexdigest()


def hash_bytes(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return "sha256:" + h.hexdigest()
