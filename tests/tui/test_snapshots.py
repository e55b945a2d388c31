"""SVG snapshots of every screen at a pinned terminal size, clock and time zone, against the fake
backend. Update them (in a commit of their own) with ``pytest tests/tui/test_snapshots.py
--snapshot-update`` and look at the SVGs before committing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from fake_backend import NOW, FakeBackend
from textual.pilot import Pilot

from tui.app import WorkbenchApp

pytestmark = pytest.mark.timeout(45)
SIZE = (120, 34)


def app(size: int = 12, **kwargs: object) -> WorkbenchApp:
    return WorkbenchApp(FakeBackend(size, **kwargs), reason="INC-2041", clock=lambda: NOW)  # type: ignore[arg-type]


def settled(condition: Callable[[WorkbenchApp], bool], *keys: str) -> Callable[[Pilot], object]:
    """Wait for the fleet, press ``keys``, wait until the app shows what the snapshot is of, then
    drop the toasts (they time out)."""

    async def run_before(pilot: Pilot) -> None:
        async def wait(condition: Callable[[WorkbenchApp], bool]) -> None:
            while not condition(pilot.app):  # type: ignore[arg-type]
                await pilot.pause(0.02)

        await asyncio.wait_for(wait(loaded), 10)
        await pilot.press(*keys)
        await asyncio.wait_for(wait(condition), 10)
        await pilot.app.workers.wait_for_complete()
        await asyncio.wait_for(wait(measured), 10)
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before


def measured(a: WorkbenchApp) -> bool:
    """Every table has measured its columns (DataTable does it when idle: a loaded machine can
    take a screenshot before)."""
    from textual.widgets import DataTable

    return not any(
        t._require_update_dimensions or t._updated_cells for t in a.screen.query(DataTable)
    )


def loaded(a: WorkbenchApp) -> bool:
    """The fleet is there, with the open faults of the terminals the window reaches read live."""
    rows = a.fleet.table.rows
    reached = [r for r in rows if r.reachable == "up" and a.backend.refusal(r.terminal) is None]
    return len(rows) > 0 and all(r.faults_live for r in reached)


def test_fleet(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        app(), press=["down", "space"], terminal_size=SIZE, run_before=settled(loaded)
    )


def test_fleet_filtered_inverted(snap_compare) -> None:  # type: ignore[no-untyped-def]
    press = ["slash", *"!pass"]
    assert snap_compare(app(), press=press, terminal_size=SIZE, run_before=settled(loaded))


def test_terminal_after_inspection(snap_compare) -> None:  # type: ignore[no-untyped-def]
    def done(a: WorkbenchApp) -> bool:
        return type(a.screen).__name__ == "TerminalScreen" and "maintenance run" in str(
            a.screen.query_one("#terminal-last").render()
        )

    keys = ["slash", *"0002", "enter", "enter", "i"]
    assert snap_compare(app(), terminal_size=SIZE, run_before=settled(done, *keys))


def test_window_warning(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        app(window_left_s=9 * 60 + 5), press=["w"], terminal_size=SIZE, run_before=settled(loaded)
    )


def test_window_closed_terminal(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        app(window_left_s=-60), press=["enter"], terminal_size=SIZE, run_before=settled(loaded)
    )


def test_reports(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app(), press=["r"], terminal_size=SIZE, run_before=settled(loaded))


def test_trainer(snap_compare) -> None:  # type: ignore[no-untyped-def]
    def faults(a: WorkbenchApp) -> bool:
        return type(a.screen).__name__ == "TrainerScreen" and "active fault" in str(
            a.screen.query_one("#trainer-state").render()
        )

    assert snap_compare(app(), terminal_size=SIZE, run_before=settled(faults, "down", "t"))


def test_help(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app(), press=["f1"], terminal_size=SIZE, run_before=settled(loaded))


def test_light_theme(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app(), press=["ctrl+t"], terminal_size=SIZE, run_before=settled(loaded))


def staged(
    *steps: tuple[tuple[str, ...], Callable[[WorkbenchApp], bool]],
) -> Callable[[Pilot], object]:
    """Like :func:`settled`, for flows whose screens load in workers: press each step's keys, then
    wait for its condition, in turn."""

    async def run_before(pilot: Pilot) -> None:
        async def wait(condition: Callable[[WorkbenchApp], bool]) -> None:
            while not condition(pilot.app):  # type: ignore[arg-type]
                await pilot.pause(0.02)

        await asyncio.wait_for(wait(loaded), 10)
        for keys, condition in steps:
            await pilot.press(*keys)
            await asyncio.wait_for(wait(condition), 10)
        await pilot.app.workers.wait_for_complete()
        await asyncio.wait_for(wait(measured), 10)
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before


def on(name: str, text: str = "", where: str = "") -> Callable[[WorkbenchApp], bool]:
    """The screen ``name`` is up (and its label ``where`` shows ``text``)."""

    def condition(a: WorkbenchApp) -> bool:
        if type(a.screen).__name__ != name:
            return False
        return not text or text in str(a.screen.query_one(where).render())

    return condition


def library_loaded(a: WorkbenchApp) -> bool:
    from textual.widgets import DataTable

    return on("LibraryScreen")(a) and a.screen.query_one("#library-table", DataTable).row_count > 0


TRAINER_0003 = (("slash", *"0003", "enter", "t"), on("TrainerScreen", "active", "#trainer-state"))


def test_trainer_library(snap_compare) -> None:  # type: ignore[no-untyped-def]
    steps = staged(TRAINER_0003, (("n",), library_loaded))
    assert snap_compare(app(), terminal_size=SIZE, run_before=steps)


def test_trainer_scenario_running(snap_compare) -> None:  # type: ignore[no-untyped-def]
    def shown(a: WorkbenchApp) -> bool:  # the panel, and the fault list reloaded after the start
        return on("TrainerScreen", "running", "#scenario-head")(a) and "1 active" in str(
            a.screen.query_one("#trainer-state").render()
        )

    steps = staged(TRAINER_0003, (("n",), library_loaded), (("enter",), shown))
    assert snap_compare(app(), terminal_size=SIZE, run_before=steps)


def test_scorecard(snap_compare) -> None:  # type: ignore[no-untyped-def]
    steps = staged(
        TRAINER_0003,
        (("n",), library_loaded),
        (("enter",), on("TrainerScreen", "running", "#scenario-head")),
        (("g",), on("ScorecardScreen")),
    )
    assert snap_compare(app(), terminal_size=SIZE, run_before=steps)


def test_class(snap_compare) -> None:  # type: ignore[no-untyped-def]
    steps = staged(
        TRAINER_0003,
        (("l",), on("ClassScreen", "no class", "#class-state")),
        (("n",), library_loaded),
        (("enter",), on("ClassFormScreen")),
        (("enter",), on("ClassScreen", "running", "#class-state")),
    )
    assert snap_compare(app(), terminal_size=SIZE, run_before=steps)
