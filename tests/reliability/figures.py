"""Figures of the fault and soak cases, for docs/reliability.md (scripts/reliability_report.py).

Why a side channel and not assertions: the doc reports what was measured (requests sent, failed, max latency,
RSS), while the tests assert only outcomes. When RELIABILITY_FIGURES names a file, each case appends one JSON
line to it; otherwise recording is a no-op.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_lock = threading.Lock()


def record(case: str, **figures: Any) -> None:
    path = os.environ.get("RELIABILITY_FIGURES")
    if not path:
        return
    with _lock, Path(path).open("a") as f:
        f.write(json.dumps({"case": case, **figures}, sort_keys=True) + "\n")


@dataclass
class Tally:
    """Requests sent, by outcome, with the slowest one (thread-safe)."""

    outcomes: dict[str, int] = field(default_factory=dict)
    max_latency_s: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: str, started: float) -> None:
        elapsed = time.monotonic() - started
        with self._lock:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
            self.max_latency_s = max(self.max_latency_s, elapsed)

    @property
    def sent(self) -> int:
        return sum(self.outcomes.values())

    def figures(self, *, ok: tuple[str, ...] = ("200",)) -> dict[str, Any]:
        failed = sum(n for k, n in self.outcomes.items() if k not in ok)
        return {"sent": self.sent, "failed": failed, "outcomes": dict(sorted(self.outcomes.items())),
                "max_latency_ms": round(self.max_latency_s * 1000, 1)}
