"""``v`` on a terminal's screen: the Devices tab comes to the front with the status read again
now, as ``l`` brings the Logs tab (it used to read the status behind the Results tab)."""

from __future__ import annotations

import pytest
from fake_backend import NOW, FakeBackend
from textual.widgets import DataTable, TabbedContent
from waits import filter_fleet, on_top, until

from tui.app import WorkbenchApp
from tui.screens import terminal
from tui.screens.terminal import TerminalScreen

pytestmark = pytest.mark.timeout(45)
SIZE = (130, 34)


def devices(screen: TerminalScreen) -> list[list[str]]:
    table = screen.query_one("#devices-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_v_shows_the_devices_tab_with_the_status_read_now(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(terminal, "STATUS_EVERY_S", 600.0)  # only the key reads it again
    backend = FakeBackend()
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await filter_fleet(pilot, "0003")
        await pilot.press("enter")
        await until(pilot, lambda: on_top(app, TerminalScreen))
        screen = app.screen
        assert isinstance(screen, TerminalScreen)
        await until(pilot, lambda: devices(screen))
        tabs = screen.query_one(TabbedContent)
        assert tabs.active == "results"
        assert not any("printer.head_dirty" in cell for r in devices(screen) for cell in r)

        backend.faulty["KSK-0003"] = "printer.head_dirty"  # what the terminal says from now on
        await pilot.press("v")
        await until(pilot, lambda: tabs.active == "devices")
        await until(
            pilot, lambda: any("printer.head_dirty" in cell for r in devices(screen) for cell in r)
        )
