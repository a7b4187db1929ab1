"""What the admin API must remember that models.config cannot hold: canary shares and label history.

Stored as `<servables>/.gateway-admin.json` (hidden, so TF Serving and modelserver ignore it), written
atomically under the repository lock, and re-read by every gateway worker's registry when it changes —
so several workers (or gateways) behind one repository agree on canary shares and rollback targets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from common import repository as repo

STATE_NAME = ".gateway-admin.json"
HISTORY_DEPTH = 20


class AdminState:
    def __init__(self, servables: Path) -> None:
        self.path = Path(servables) / STATE_NAME
        self._key: tuple[int, int, int] | None = None
        self.data: dict[str, Any] = {"canary_shares": {}, "label_history": {}}

    def reload(self) -> None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._key = None
            self.data = {"canary_shares": {}, "label_history": {}}
            return
        key = (st.st_ino, st.st_mtime_ns, st.st_size)  # atomic replace = new inode
        if key == self._key:
            return
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return  # keep the last good state; a writer replaces the file atomically
        self.data = {"canary_shares": dict(data.get("canary_shares", {})), "label_history": dict(data.get("label_history", {}))}
        self._key = key

    def save(self) -> None:
        """Call with the repository lock held."""
        repo.atomic_write_text(self.path, json.dumps(self.data, indent=2, sort_keys=True))
        self._key = None

    def canary_share(self, model: str, default: float) -> float:
        return float(self.data["canary_shares"].get(model, default))

    def set_canary_share(self, model: str, share: float) -> None:
        self.data["canary_shares"][model] = share

    def push_label(self, model: str, label: str, previous: int) -> None:
        stack = self.data["label_history"].setdefault(model, {}).setdefault(label, [])
        stack.append(previous)
        del stack[:-HISTORY_DEPTH]

    def pop_label(self, model: str, label: str) -> int | None:
        stack = self.data["label_history"].get(model, {}).get(label, [])
        return stack.pop() if stack else None

    def history(self, model: str, label: str) -> list[int]:
        return list(self.data["label_history"].get(model, {}).get(label, []))
