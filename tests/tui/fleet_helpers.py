"""What the fleet's tests share: waiting on the pilot for a condition, and a terminal's row."""

from __future__ import annotations

import asyncio

from tui.backend import TerminalRow
from tui.widgets.fleet_table import FleetTable


class NotListed(LookupError):
    """The fleet does not list the terminal (not yet loaded, when waited for)."""


async def until(pilot, condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Wait for ``condition()``; one that asks for a row not listed yet is not met yet."""

    def met() -> bool:
        try:
            return bool(condition())
        except NotListed:
            return False

    async def wait() -> None:
        while not met():
            await pilot.pause(0.02)

    await asyncio.wait_for(wait(), timeout)


def row(table: FleetTable, terminal: str) -> TerminalRow:
    found = next((r for r in table.rows if r.terminal == terminal), None)
    if found is None:
        raise NotListed(f"{terminal} is not in the fleet's {len(table.rows)} rows")
    return found
