"""The garbage collector in the long-running processes (a kiosk host, the TUI): what start-up
built is frozen out of the collector's reach once it is built, so a full collection no longer
walks it.

CPython's full (generation 2) collection visits every tracked container. In a kiosk host or the
TUI most of them are made once at start (modules, classes, the device models, the widgets, the
fleet's rows) and live until exit, so each full collection re-checks them all: 90-260 ms with
nothing else running, the longest pauses of a flooded kiosk and of the 5,000-row TUI.
``gc.freeze()`` moves every object alive now into a permanent generation that collections skip;
what is made later is collected as before. The cost: cyclic garbage already in the frozen set is
never freed, so a collection runs first, and only processes that keep what they froze freeze.

``WORKBENCH_GC_FREEZE=0`` leaves the collector alone (the benches compare both in one run).
"""

from __future__ import annotations

import gc
import logging
import os
import time

log = logging.getLogger(__name__)

ENV = "WORKBENCH_GC_FREEZE"


def enabled() -> bool:
    """Whether start-up objects are frozen (unless ``WORKBENCH_GC_FREEZE=0``)."""
    return os.environ.get(ENV, "1") != "0"


def freeze_startup(what: str) -> bool:
    """Collect once, then freeze every object alive now; False (and nothing done) when disabled.
    ``what`` names the process for the log line."""
    if not enabled():
        return False
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    log.info(
        "%s: %d objects frozen out of the garbage collector in %.0f ms",
        what,
        gc.get_freeze_count(),
        (time.perf_counter() - started) * 1e3,
    )
    return True


def thaw() -> None:
    """Give the frozen objects back to the collector (a host closing inside a longer process)."""
    gc.unfreeze()
