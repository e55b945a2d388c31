"""SVG snapshots of every screen at a pinned terminal size, clock and time zone, against the fake
backend. Update them (in a commit of their own) with ``pytest tests/tui/test_snapshots.py
--snapshot-update`` and look at the SVGs before committing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fake_backend import NOW, FakeBackend
from textual.pilot import Pilot
from waits import until

from tui.app import WorkbenchApp

pytestmark = pytest.mark.timeout(45)
SIZE = (120, 34)


def app(size: int = 12, **kwargs: object) -> WorkbenchApp:
    return WorkbenchApp(FakeBackend(size, **kwargs), reason="INC-2041", clock=lambda: NOW)  # type: ignore[arg-type]


def trainer() -> WorkbenchApp:
    """The app as a trainer runs it: no window (one without the trainer group is a trainee's,
    offered no trainer screen)."""
    return app(window_left_s=None)


Step = tuple[tuple[str, ...], Callable[[WorkbenchApp], bool]]


def staged(*steps: Step) -> Callable[[Pilot], object]:
    """Wait for the fleet; press each step's keys, then wait for its condition (what the keys
    open or focus, before the next step's keys go to it), in turn; then drop the toasts (they
    time out). The snapshot is taken of what the last condition waited for: keys pressed through
    ``snap_compare(press=...)`` are not waited for, and a loaded machine takes the screenshot
    before their effect lands."""

    async def run_before(pilot: Pilot) -> None:
        app: WorkbenchApp = pilot.app  # type: ignore[assignment]
        await until(pilot, lambda: loaded(app))
        for keys, condition in steps:
            await pilot.press(*keys)
            await until(pilot, lambda c=condition: c(app))  # type: ignore[misc]
        await app.workers.wait_for_complete()
        await until(pilot, lambda: measured(app))
        app.clear_notifications()
        await pilot.pause()

    return run_before


def settled(condition: Callable[[WorkbenchApp], bool], *keys: str) -> Callable[[Pilot], object]:
    """:func:`staged` with one step: press ``keys`` once the fleet is loaded, wait for
    ``condition``."""
    return staged((keys, condition))


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


def focused(selector: str) -> Callable[[WorkbenchApp], bool]:
    """The widget ``selector`` has the focus (keys typed next go to it)."""
    return lambda a: a.focused is not None and a.focused in a.screen.query(selector).results()


FILTER = (("slash",), focused("#fleet-filter"))


def test_fleet(snap_compare) -> None:  # type: ignore[no-untyped-def]
    marked = staged((("down", "space"), lambda a: a.fleet.table.marked == {"KSK-0002"}))
    assert snap_compare(app(), terminal_size=SIZE, run_before=marked)


def test_fleet_filtered_inverted(snap_compare) -> None:  # type: ignore[no-untyped-def]
    inverted = staged(FILTER, (tuple("!pass"), lambda a: a.fleet.table.filter.text == "!pass"))
    assert snap_compare(app(), terminal_size=SIZE, run_before=inverted)


def test_terminal_after_inspection(snap_compare) -> None:  # type: ignore[no-untyped-def]
    steps = staged(
        FILTER,
        ((*"0002", "enter"), focused("FleetTable")),
        (("enter",), on("TerminalScreen")),
        (("i",), on("TerminalScreen", "maintenance run", "#terminal-last")),
    )
    assert snap_compare(app(), terminal_size=SIZE, run_before=steps)


def test_window_warning(snap_compare) -> None:  # type: ignore[no-untyped-def]
    window = settled(on("WindowScreen"), "w")
    assert snap_compare(app(window_left_s=9 * 60 + 5), terminal_size=SIZE, run_before=window)


def test_window_closed_terminal(snap_compare) -> None:  # type: ignore[no-untyped-def]
    closed = settled(on("TerminalScreen", "remote actions disabled", "#terminal-reach"), "enter")
    assert snap_compare(app(window_left_s=-60), terminal_size=SIZE, run_before=closed)


def test_reports(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app(), terminal_size=SIZE, run_before=settled(on("ReportsScreen"), "r"))


def test_trainer(snap_compare) -> None:  # type: ignore[no-untyped-def]
    def faults(a: WorkbenchApp) -> bool:
        return type(a.screen).__name__ == "TrainerScreen" and "active fault" in str(
            a.screen.query_one("#trainer-state").render()
        )

    assert snap_compare(trainer(), terminal_size=SIZE, run_before=settled(faults, "down", "t"))


def test_help(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app(), terminal_size=SIZE, run_before=settled(on("HelpScreen"), "f1"))


def test_light_theme(snap_compare) -> None:  # type: ignore[no-untyped-def]
    light = settled(lambda a: a.theme == "textual-light", "ctrl+t")
    assert snap_compare(app(), terminal_size=SIZE, run_before=light)


def on(name: str, text: str = "", where: str = "") -> Callable[[WorkbenchApp], bool]:
    """The screen ``name`` is up with its focus given (and its label ``where`` shows ``text``)."""

    def condition(a: WorkbenchApp) -> bool:
        if type(a.screen).__name__ != name or a.focused is None or a.focused.screen is not a.screen:
            return False
        return not text or text in str(a.screen.query_one(where).render())

    return condition


def library_loaded(a: WorkbenchApp) -> bool:
    from textual.widgets import DataTable

    return on("LibraryScreen")(a) and a.screen.query_one("#library-table", DataTable).row_count > 0


TRAINER_0003 = (
    FILTER,
    ((*"0003", "enter"), focused("FleetTable")),
    (
        ("t",),
        lambda a: (
            on("TrainerScreen", "active", "#trainer-state")(a) and focused("#trainer-faults")(a)
        ),
    ),
)


def test_trainer_library(snap_compare) -> None:  # type: ignore[no-untyped-def]
    steps = staged(*TRAINER_0003, (("n",), library_loaded))
    assert snap_compare(trainer(), terminal_size=SIZE, run_before=steps)


def test_trainer_scenario_running(snap_compare) -> None:  # type: ignore[no-untyped-def]
    def shown(a: WorkbenchApp) -> bool:  # the panel, and the fault list reloaded after the start
        return on("TrainerScreen", "running", "#scenario-head")(a) and "1 active" in str(
            a.screen.query_one("#trainer-state").render()
        )

    steps = staged(*TRAINER_0003, (("n",), library_loaded), (("enter",), shown))
    assert snap_compare(trainer(), terminal_size=SIZE, run_before=steps)


def test_scorecard(snap_compare) -> None:  # type: ignore[no-untyped-def]
    steps = staged(
        *TRAINER_0003,
        (("n",), library_loaded),
        (("enter",), on("TrainerScreen", "running", "#scenario-head")),
        (("g",), on("ScorecardScreen")),
    )
    assert snap_compare(trainer(), terminal_size=SIZE, run_before=steps)


def test_class(snap_compare) -> None:  # type: ignore[no-untyped-def]
    steps = staged(
        *TRAINER_0003,
        (("l",), on("ClassScreen", "no class", "#class-state")),
        (("n",), library_loaded),
        (("enter",), on("ClassFormScreen")),
        (("enter",), on("ClassScreen", "running", "#class-state")),
    )
    assert snap_compare(trainer(), terminal_size=SIZE, run_before=steps)
