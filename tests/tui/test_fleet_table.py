"""The fleet table repaints only the screen lines whose content changed. What it leaves on the
screen after each thing a user does (filtering, the cursor, marks, a fan-out's progress, sorting,
scrolling, the window's countdown) must be exactly what a full repaint draws, styles included."""

from __future__ import annotations

import asyncio

import pytest
from fake_backend import NOW, FakeBackend
from textual.pilot import Pilot

from tui.app import WorkbenchApp
from tui.screens.fleet import FleetScreen

pytestmark = pytest.mark.timeout(45)


async def painted_is_whole(pilot: Pilot[None]) -> str:
    """The screen as incrementally painted, after checking it against a full repaint of the
    table; returns its text."""
    app = pilot.app
    await pilot.pause()
    painted = app.export_screenshot()
    app.fleet.table.notify_style_update()  # type: ignore[attr-defined]  # forget every drawn line
    await pilot.pause()
    assert app.export_screenshot() == painted
    return painted


async def test_what_stays_on_screen_is_what_a_full_repaint_draws() -> None:
    now = [NOW]
    app = WorkbenchApp(FakeBackend(300), reason="INC-1", clock=lambda: now[0])
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.fleet.table

        async def loaded() -> None:
            while len(table.rows) < 300:
                await pilot.pause(0.02)

        await asyncio.wait_for(loaded(), 10)
        await painted_is_whole(pilot)
        now[0] += 120  # the window column counts down on the three terminals it covers

        async def counted_down() -> None:  # at its next once-a-second tick, however late
            while "45m00s" not in app.export_screenshot():
                await pilot.pause(0.05)

        await asyncio.wait_for(counted_down(), 10)
        assert "45m00s" in await painted_is_whole(pilot)
        await pilot.press("slash")
        for key in "ksk-00[12]":  # the same rows, then none (a literal), then 20
            await pilot.press(key)
            await painted_is_whole(pilot)
        assert [r.terminal for r in table.shown] == [f"KSK-00{i}" for i in range(10, 30)]
        await pilot.press("enter", "down", "down", "space")
        assert "●" in await painted_is_whole(pilot)
        app.fleet.post_message(FleetScreen.Progress("KSK-0013", progress="3/11"))
        await pilot.pause()
        assert "3/11" in await painted_is_whole(pilot)
        await pilot.press("s", "s", "s", "s", "s", "s", "s")  # sorted by the run column
        assert table.sort_column == "run" and table.shown[-1].terminal == "KSK-0013"
        await painted_is_whole(pilot)
        await pilot.press("escape", "pagedown", "down", "space", "up")
        assert table.cursor > 20
        await painted_is_whole(pilot)
