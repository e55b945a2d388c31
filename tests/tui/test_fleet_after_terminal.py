"""What an engineer did on a terminal's screen shows on its fleet row when they come back to the
fleet: the run or remedy as its last record, and its open faults as its status reads now, with no
reload and no wait for the minute's reading."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fake_backend import NOW, TESTS, FakeBackend
from fleet_helpers import row, until
from textual.widgets import DataTable
from waits import filter_fleet, on_top, type_into

from tui.app import WorkbenchApp
from tui.backend import RemedyView, TerminalRow
from tui.screens import fleet_follow, terminal
from tui.screens.confirm import ConfirmScreen
from tui.screens.fleet import FleetScreen
from tui.screens.pick import PickScreen
from tui.screens.terminal import TerminalScreen
from workbench.records import DiagResult, MaintenanceRun

pytestmark = pytest.mark.timeout(45)
SIZE = (130, 34)


class Recording(FakeBackend):
    """Runs and remedies are kept as maintenance records (newest first in the history)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[MaintenanceRun] = []
        self.loads = 0

    def terminals(self) -> list[TerminalRow]:
        self.loads += 1
        return super().terminals()

    def _record(self, terminal: str, suite: str, outcome: str, tests: list[str]) -> None:
        fault = self.faulty.get(terminal)
        findings = tuple(
            DiagResult(t, "fail", fault) if fault and t == "print_head" else DiagResult(t, "pass")
            for t in tests
        )
        run_id = len(self.records) + 10
        run = MaintenanceRun(terminal, suite, self.engineer, NOW, NOW, outcome, findings, id=run_id)
        self.records.insert(0, run)

    async def run(self, terminal: str, suite: str) -> AsyncIterator[dict[str, Any]]:
        async for line in super().run(terminal, suite):
            if line.get("event") == "done":
                self._record(terminal, suite, str(line["outcome"]), TESTS)
            yield line

    async def remedy(self, terminal: str, action: str) -> RemedyView:
        view = await super().remedy(terminal, action)
        self._record(terminal, f"remedy {action}", view.outcome, ["print_head"])
        return view

    def history(self, terminal: str | None, limit: int = 200) -> list[MaintenanceRun]:
        mine = [r for r in self.records if terminal in (None, r.terminal)]
        return [*mine, *super().history(terminal, limit)][:limit]


async def test_the_fleet_row_shows_what_was_done_on_the_terminal() -> None:
    backend = Recording()
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        table = app.fleet.table
        await until(pilot, lambda: row(table, "KSK-0002").faults_live)
        before = row(table, "KSK-0002")
        assert before.faults_text(NOW) == "printer.offline" and before.last_run == NOW - 86400 * 2

        await filter_fleet(pilot, "0002")
        await pilot.press("enter")
        await until(pilot, lambda: on_top(app, TerminalScreen))
        screen = app.screen
        assert isinstance(screen, TerminalScreen)
        await pilot.press("i")
        await until(pilot, lambda: backend.records and not screen.busy)
        await pilot.press("m")  # printer.reset, confirmed: it clears the fault
        await type_into(pilot, PickScreen, "OptionList", "enter")
        await until(pilot, lambda: on_top(app, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: backend.remedies and not screen.busy)
        await pilot.press("escape")  # the terminal, then the filter
        await until(pilot, lambda: on_top(app, FleetScreen, "FleetTable"))
        await pilot.press("escape")
        await until(pilot, lambda: table.filter.text == "")

        # the remedy is its last record, and its status (read after the remedy) says none
        await until(pilot, lambda: row(table, "KSK-0002").last_outcome == "cleared")
        await until(pilot, lambda: row(table, "KSK-0002").faults_text(NOW) == "none")
        assert row(table, "KSK-0002").last_run == NOW
        assert backend.loads == 1  # no reload


class Dying(Recording):
    """Terminals in ``dead`` have lost their agent: a probe finds the port closed, a run breaks
    and the status cannot be read."""

    def __init__(self) -> None:
        super().__init__()
        self.dead: set[str] = set()

    async def probe(self, terminal: str) -> str:
        return "down" if terminal in self.dead else await super().probe(terminal)

    async def run(self, terminal: str, suite: str) -> AsyncIterator[dict[str, Any]]:
        if terminal in self.dead:
            self.runs.append((terminal, suite))
            yield {"event": "done", "outcome": "error", "error": "no answer", "run_id": None}
            return
        async for line in super().run(terminal, suite):
            yield line

    async def status(self, terminal: str) -> dict[str, Any]:
        if terminal in self.dead:
            raise OSError(f"{terminal}: no answer within 10 s")
        return await super().status(terminal)


def head(screen: TerminalScreen) -> str:
    return str(screen.query_one("#terminal-head").render())


def devices(screen: TerminalScreen) -> list[list[str]]:
    table = screen.query_one("#devices-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)] or [[""]]


async def test_the_terminal_screen_says_when_its_agent_stops_answering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run that breaks on the terminal's screen has the terminal probed: the screen's head line
    and the fleet row say ``down`` (not the ``up`` it was opened with), and the fleet follows it
    until it is back."""
    monkeypatch.setattr(fleet_follow, "REPROBE_FIRST_S", 0.05)
    monkeypatch.setattr(terminal, "STATUS_EVERY_S", 600.0)  # only what the test does reads it
    backend = Dying()
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        table = app.fleet.table
        await until(pilot, lambda: row(table, "KSK-0003").faults_live)
        await filter_fleet(pilot, "0003")
        await pilot.press("enter")
        await until(pilot, lambda: on_top(app, TerminalScreen))
        screen = app.screen
        assert isinstance(screen, TerminalScreen)
        await until(pilot, lambda: head(screen).endswith("agent up"))
        backend.dead.add("KSK-0003")
        await pilot.press("i")
        await until(pilot, lambda: backend.runs and not screen.busy)
        await until(pilot, lambda: head(screen).endswith("agent down"))
        assert row(table, "KSK-0003").reachable == "down" and "KSK-0003" in app.fleet.reprobes
        assert not row(table, "KSK-0003").faults_live  # its record's, not what it said

        await until(pilot, lambda: devices(screen)[0][0] == "-")  # what the Devices tab says
        backend.dead.discard("KSK-0003")  # back: the fleet's own probe finds it
        await until(pilot, lambda: head(screen).endswith("agent up"))
        await until(pilot, lambda: devices(screen)[0][0] == "printer")  # read again at once


async def test_a_terminal_opened_says_its_last_record_until_something_runs() -> None:
    """Opened, a terminal's screen has no results yet: the line above the tabs names its last
    maintenance record (or that it has none) instead of staying blank, and the line for why
    remote actions are disabled takes no room when none is."""
    app = WorkbenchApp(FakeBackend(), reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: row(app.fleet.table, "KSK-0002").faults_live)
        await filter_fleet(pilot, "0002")
        await pilot.press("enter")
        await until(pilot, lambda: on_top(app, TerminalScreen))
        screen = app.screen
        assert isinstance(screen, TerminalScreen)
        last = lambda: str(app.screen.query_one("#terminal-last").render())  # noqa: E731
        await until(pilot, lambda: last().startswith("last record:"))
        assert last() == "last record: inspection fail 2026-11-29 23:53 (run 2; 5: History)"
        assert not screen.query_one("#terminal-reach").display  # nothing disabled: no blank line
        await pilot.press("escape")  # the terminal, then the filter
        await until(pilot, lambda: on_top(app, FleetScreen, "FleetTable"))
        await pilot.press("escape")
        await until(pilot, lambda: app.fleet.table.filter.text == "")
        await filter_fleet(pilot, "0003")
        await pilot.press("enter")
        await until(pilot, lambda: on_top(app, TerminalScreen))
        screen = app.screen
        assert isinstance(screen, TerminalScreen) and screen.terminal == "KSK-0003"
        await until(pilot, lambda: last() != "")
        assert last() == "no maintenance record yet"
