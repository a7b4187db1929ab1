"""`servables/<model>/history.jsonl`: the append-only record of every lifecycle change of a model
(train, canary, promote, rollback, gc) — who did what, to which versions, with which metrics.

Why JSON lines with O_APPEND + fsync under the repository lock: the file is an audit trail that several
processes (servectl runs, a gateway) may write; one `write()` of one whole line per record on an O_APPEND
descriptor never interleaves with another writer's, fsync makes a reported change durable, and the lock
orders records the same way as the models.config edits they describe. TF-free: servectl's admin commands
must not pay TensorFlow's import time.
"""

from __future__ import annotations

import getpass
import json
import os
import time
from pathlib import Path
from typing import Any, Iterator

from common import repository as repo

HISTORY_NAME = "history.jsonl"


def history_path(servables: Path, model: str) -> Path:
    return Path(servables) / model / HISTORY_NAME


def current_user() -> str:
    """`$SERVECTL_USER` (set by automation), else the login name, else the uid."""
    user = os.environ.get("SERVECTL_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def append(servables: Path, model: str, action: str, *, versions: dict[str, Any] | None = None,
           metrics: dict[str, Any] | None = None, lock: bool = True, **extra: Any) -> dict[str, Any]:
    """Append one record; `lock=False` when the caller already holds `RepositoryLock(servables)`."""
    record = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z",
        "user": current_user(),
        "action": action,
        "model": model,
        "versions": versions or {},
        "metrics": metrics or {},
        **extra,
    }
    line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    path = history_path(servables, model)
    path.parent.mkdir(parents=True, exist_ok=True)

    def write() -> None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    if lock:
        with repo.RepositoryLock(Path(servables)):
            write()
    else:
        write()
    return record


def read(servables: Path, model: str) -> Iterator[dict[str, Any]]:
    """Records oldest first; a torn last line (crash mid-write) is skipped, not fatal."""
    path = history_path(servables, model)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError:
            continue
