"""Keeps the gateway's long-lived objects out of the cyclic garbage collector's full passes (`gc.freeze`).

Why: a full pass walks every container object in the process: the modules, jieba's dictionary, every
served version's assets. Under load (antispam, concurrency 32, about 1,000 requests/s) the gateway ran
three to five full passes per 8 s, 50-70 ms each. That is 2-3 % of its CPU, and each pass stalls every
request in flight for its whole length. Frozen, those objects are skipped; the passes over what is left
take about 2 ms (measured side by side, 2026-11-27; docs/gateway.md).

When: the registry freezes once the heap is *settled*, i.e. the only asset sets alive are the served ones
(`Registry.assets_settled`). It thaws at every registry change. Why not freeze for good at start-up: a
frozen object is never examined again, so a retired version's assets that sit in a reference cycle would
never be freed. After a change the heap is thawed until the retired versions are gone (reference counting
or an ordinary full pass frees them), then frozen again.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger("gateway.heap")
_frozen = False


def freeze() -> None:
    """Move every object the collector tracks now to the permanent generation (once until the next thaw)."""
    global _frozen
    if not _frozen:
        gc.freeze()
        _frozen = True
        log.info('{"event": "heap_frozen", "objects": %d}', gc.get_freeze_count())


def thaw() -> None:
    """Give the frozen objects back to the oldest generation, so full passes see them again."""
    global _frozen
    if _frozen:
        gc.unfreeze()
        _frozen = False
        log.info('{"event": "heap_thawed"}')


def is_frozen() -> bool:
    return _frozen
