"""The terminal screen's history tab says why a run could not run: the run's own error (refused,
unreachable) and the reason of each test that could not be carried out."""

from __future__ import annotations

import pytest
from fake_backend import NOW, FakeBackend
from test_app import SIZE, app_for, cell_text
from textual.widgets import TabbedContent
from waits import filter_fleet, jump, on_top, until

from tui.screens.terminal import TerminalScreen
from workbench.records import DiagResult, MaintenanceRun

pytestmark = pytest.mark.timeout(45)

REFUSED = "KSK-0002 at 127.0.0.1:2222: the agent refused this certificate (expired)"


class ErrorHistory(FakeBackend):
    """KSK-0002's records: a run refused before any test, and one with a test not carried out."""

    def history(self, terminal: str | None, limit: int = 200) -> list[MaintenanceRun]:
        untested = DiagResult("ups_battery", "error", None, {"detail": "not tested: no answer"})
        runs = [
            MaintenanceRun("KSK-0002", "inspection", "al", NOW - 60, NOW - 59, "error", (),
                           id=4, error=REFUSED),
            MaintenanceRun("KSK-0002", "quick", "al", NOW - 600, NOW - 590, "error",
                           (DiagResult("print_head", "pass"), untested), id=3),
        ]  # fmt: skip
        return [r for r in runs if terminal in (None, r.terminal)][:limit]


async def test_history_shows_why_error_runs_did_not_run() -> None:
    app = app_for(ErrorHistory())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await filter_fleet(pilot, "0002")
        await pilot.press("enter")
        await until(pilot, lambda: on_top(app, TerminalScreen))
        screen = app.screen
        assert isinstance(screen, TerminalScreen) and screen.terminal == "KSK-0002"
        await pilot.press("5")
        await until(pilot, lambda: screen.query_one(TabbedContent).active == "history")
        await until(pilot, lambda: len(cell_text(screen, "#history-table")) == 2)
        rows = cell_text(screen, "#history-table")
        assert [(r[0], r[-1]) for r in rows] == [
            ("4", REFUSED),
            ("3", "ups_battery error (not tested: no answer)"),
        ]


async def test_reports_say_why_a_record_did_not_run() -> None:
    from textual.widgets import DataTable

    from tui.screens.reports import ReportsScreen

    app = app_for(ErrorHistory())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await jump(pilot, "reports")
        await until(pilot, lambda: on_top(app, ReportsScreen))
        screen = app.screen
        assert isinstance(screen, ReportsScreen)
        detail = screen.query_one("#reports-detail", DataTable)

        def rows() -> list[list[str]]:
            return [[str(c) for c in detail.get_row_at(i)] for i in range(detail.row_count)]

        await until(pilot, lambda: detail.row_count > 0)
        assert [(r[0], r[2]) for r in rows()] == [("(the run)", REFUSED)]  # not "every test passed"
        await pilot.press("down")
        await until(pilot, lambda: rows() and rows()[0][0] == "ups_battery")
        assert [(r[0], r[2]) for r in rows()] == [("ups_battery", "not tested: no answer")]
