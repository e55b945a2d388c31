"""The fleet table repaints only the screen lines whose content changed. What it leaves on the
screen after each thing a user does (filtering, the cursor, marks, a fan-out's progress, sorting,
scrolling, the window's countdown) must be exactly what a full repaint draws, styles included."""

from __future__ import annotations

import re

import pytest
from fake_backend import NOW, FakeBackend
from fleet_helpers import row, until
from textual.pilot import Pilot
from textual.widgets import Input
from waits import on_top

from tui.app import WorkbenchApp
from tui.screens.fleet import FleetScreen
from tui.widgets.countdown import Countdown

pytestmark = pytest.mark.timeout(45)


async def painted_is_whole(pilot: Pilot[None]) -> str:
    """The screen as incrementally painted, after checking it against a full repaint of the
    table; returns its text. The caller has waited for what it did to land: anything landing
    between the two screenshots shows as a difference."""
    app = pilot.app
    await pilot.pause()
    painted = app.export_screenshot()
    app.fleet.table.notify_style_update()  # type: ignore[attr-defined]  # forget every drawn line
    await pilot.pause()
    repainted = app.export_screenshot()
    if repainted != painted:  # the lines that differ (pytest's diff of two SVGs takes minutes)
        ours = r"terminal-\d+"  # each SVG's own class prefix
        old, new = (re.sub(ours, "", svg).splitlines() for svg in (painted, repainted))
        changed = [f"- {a}\n+ {b}" for a, b in zip(old, new, strict=False) if a != b]
        raise AssertionError("a full repaint differs:\n" + "\n".join(changed[:10]))
    return painted


async def test_what_stays_on_screen_is_what_a_full_repaint_draws() -> None:
    now = [NOW]
    app = WorkbenchApp(FakeBackend(300), reason="INC-1", clock=lambda: now[0])
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.fleet.table
        # settled: the rows are in and the open faults of the window's terminals read (each
        # read changes its row when it lands: not between the two screenshots of a check)
        window = ("KSK-0001", "KSK-0002", "KSK-0003")
        await until(
            pilot, lambda: len(table.rows) == 300 and all(row(table, t).faults_live for t in window)
        )
        await app.workers.wait_for_complete()
        await painted_is_whole(pilot)
        now[0] += 120  # the window column counts down on the three terminals it covers

        def counted_down() -> bool:  # each at its own next once-a-second tick, however late
            bar = app.screen.query_one(Countdown)
            return "[45m left]" in str(bar.content) and "45m00s" in app.export_screenshot()

        await until(pilot, counted_down)
        assert "45m00s" in await painted_is_whole(pilot)
        # the filter's cursor is steady: blinking (every 0.5 s) it would change the screen
        # between a check's two screenshots whenever they are that far apart (a loaded machine)
        box = app.fleet.query_one("#fleet-filter", Input)
        box.cursor_blink = False
        await pilot.press("slash")
        await until(pilot, lambda: on_top(app, FleetScreen, "#fleet-filter"))
        typed = ""
        for key in "ksk-00[12]":  # the same rows, then none (a literal), then 20
            await pilot.press(key)
            typed += key
            await until(pilot, lambda t=typed: box.value == t)  # the filter runs in the key's turn
            await painted_is_whole(pilot)
        assert [r.terminal for r in table.shown] == [f"KSK-00{i}" for i in range(10, 30)]
        await pilot.press("enter")
        await until(pilot, lambda: on_top(app, FleetScreen, "FleetTable"))
        await pilot.press("down", "down", "space")
        await until(pilot, lambda: table.marked == {"KSK-0012"})
        assert "●" in await painted_is_whole(pilot)
        app.fleet.post_message(FleetScreen.Progress("KSK-0013", progress="3/11"))
        await until(pilot, lambda: row(table, "KSK-0013").progress == "3/11")
        assert "3/11" in await painted_is_whole(pilot)
        await pilot.press("s", "s", "s", "s", "s", "s", "s")  # sorted by the run column
        await until(pilot, lambda: table.sort_column == "run")
        assert table.shown[-1].terminal == "KSK-0013"
        await painted_is_whole(pilot)
        await pilot.press("escape", "pagedown", "down", "space", "up")

        def marked_then_up() -> bool:  # the second mark is in, and the cursor one row above it
            if len(table.marked) != 2 or table.filter.text:
                return False
            second = next(
                i for i, r in enumerate(table.shown) if r.terminal in table.marked - {"KSK-0012"}
            )
            return table.cursor == second - 1

        await until(pilot, marked_then_up)
        assert table.cursor > 20
        await painted_is_whole(pilot)
