"""The terminal screen's history tab says why a run could not run: the run's own error (refused,
unreachable) and the reason of each test that could not be carried out."""

from __future__ import annotations

import pytest
from fake_backend import NOW, FakeBackend
from test_app import SIZE, app_for, cell_text, until

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
        await pilot.press("slash", *"0002", "enter", "enter")
        screen = app.screen
        assert isinstance(screen, TerminalScreen) and screen.terminal == "KSK-0002"
        await pilot.press("5")
        rows = cell_text(screen, "#history-table")
        assert [(r[0], r[-1]) for r in rows] == [
            ("4", REFUSED),
            ("3", "ups_battery error (not tested: no answer)"),
        ]
