"""What the fleet's tests share: a terminal's row (``NotListed`` while it is not loaded, which
:func:`waits.until` takes for a condition not met yet), and the wait itself."""

from __future__ import annotations

from waits import NotListed, until

from tui.backend import TerminalRow
from tui.widgets.fleet_table import FleetTable

__all__ = ["NotListed", "row", "until"]


def row(table: FleetTable, terminal: str) -> TerminalRow:
    found = next((r for r in table.rows if r.terminal == terminal), None)
    if found is None:
        raise NotListed(f"{terminal} is not in the fleet's {len(table.rows)} rows")
    return found
