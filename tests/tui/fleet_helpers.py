"""What the fleet's tests share: waiting on the pilot for a condition, and a terminal's row."""

from __future__ import annotations

import asyncio

from tui.backend import TerminalRow
from tui.widgets.fleet_table import FleetTable


async def until(pilot, condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    async def wait() -> None:
        while not condition():
            await pilot.pause(0.02)

    await asyncio.wait_for(wait(), timeout)


def row(table: FleetTable, terminal: str) -> TerminalRow:
    return next(r for r in table.rows if r.terminal == terminal)
