"""Steady client load on a gateway for the fault cases and the swap soak (scripts/soak_swaps.py).

Why threads with their own keep-alive client each: that is what a real client pool looks like to the
gateway, and a swap or a fault must not break a connection that is in use.
"""

from __future__ import annotations

import threading
import time

import httpx

from tests.gateway.version_family import MODEL
from tests.reliability.figures import Tally

BODY = {"model": MODEL, "inputs": {"x": [1.0, 2.0]}}


class Load:
    """Client threads sending `body` back to back (own keep-alive client each) until stopped.

    Outcomes are tallied by status code, or by exception name for transport errors; `versions` lists the
    version of every 200 in order, per thread.
    """

    def __init__(self, url: str, body: dict = BODY, threads: int = 3, headers: dict | None = None, check=None) -> None:
        self.url, self.body, self.headers, self.check = url, body, headers or {}, check
        self.tally = Tally()
        self.versions: list[list[int]] = [[] for _ in range(threads)]
        self.problems: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def _run(self, i: int) -> None:
        with httpx.Client(base_url=self.url, timeout=120) as c:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    r = c.post("/predict", json=self.body, headers=self.headers)
                except httpx.HTTPError as e:
                    self.tally.add(type(e).__name__, started)
                    self.problems.append(f"thread {i}: {e!r}")
                    continue
                self.tally.add(str(r.status_code), started)
                if r.status_code != 200:
                    self.problems.append(f"thread {i}: {r.status_code} {r.text[:300]}")
                    continue
                out = r.json()
                if out["outputs"]["graph_tag"] != out["outputs"]["asset_tag"] or out["outputs"]["graph_tag"] != out["version"]:
                    self.problems.append(f"thread {i}: mixed versions {out}")
                self.versions[i].append(out["version"])

    def __enter__(self) -> "Load":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=180)

    def wait_for(self, n: int, timeout: float = 120) -> None:
        from tests.utils.servers import wait_until

        target = self.tally.sent + n
        wait_until(lambda: self.tally.sent >= target, timeout=timeout, message=f"{n} more requests answered")
