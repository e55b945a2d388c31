"""TUI tests: the fake backend's module is importable by name, and local time is UTC so that
times on screen (and in snapshots) do not depend on the machine."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


@pytest.fixture(autouse=True)
def hasty_pilot(monkeypatch: pytest.MonkeyPatch) -> None:
    """``WB_HASTY_PILOT=1``: ``Pilot.press`` returns as soon as its keys are posted, as it can on
    a loaded machine (where the process looks idle before the keys' effects land): a test that
    asserts a key's effect without waiting for it fails at once instead of once in a while."""
    if not os.environ.get("WB_HASTY_PILOT"):
        return
    import asyncio

    import textual.app
    from textual.pilot import Pilot

    async def posted(min_sleep: float = 0.0, max_sleep: float = 0.0) -> None:
        await asyncio.sleep(0)

    async def no_wait(self: Pilot, timeout: float = 30.0) -> bool:
        return True

    monkeypatch.setattr(textual.app, "wait_for_idle", posted)
    monkeypatch.setattr(Pilot, "_wait_for_screen", no_wait)
