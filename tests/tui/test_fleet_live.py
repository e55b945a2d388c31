"""The fleet's open faults as a real terminal reports them: read from each terminal's ``status`` in
the background where the session's window reaches it and it answers, a few at a time; elsewhere
(and once the window closes) its last maintenance record's, dimmed and dated."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from fake_backend import NOW, FakeBackend
from fleet_helpers import row, until

from tui.app import WorkbenchApp
from tui.backend import TerminalRow, open_faults
from tui.screens import fleet
from tui.widgets.fleet_table import FleetTable

pytestmark = pytest.mark.timeout(45)
SIZE = (130, 30)
IN_WINDOW = ["KSK-0001", "KSK-0002", "KSK-0003"]  # the fake window's terminals


def drawn_dim(table: FleetTable, terminal: str) -> bool:
    """Whether the table draws the terminal's open faults dim."""
    r = row(table, terminal)
    strip = table.render_line(table.shown.index(r) + 1)
    return bool(next(s for s in strip if s.text.strip() == r.faults_text(NOW)).style.dim)  # type: ignore[union-attr]


async def test_open_faults_are_read_live_where_the_window_reaches() -> None:
    backend = FakeBackend()
    backend.faulty["KSK-0003"] = "display.panel_off"  # appeared since its last record
    backend.recorded["KSK-0006"] = "card_reader.jam"  # outside the window: the record is all
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        table = app.fleet.table
        await until(pilot, lambda: all(row(table, t).faults_live for t in IN_WINDOW))
        assert set(backend.status_reads) == set(IN_WINDOW)  # nobody else's status was read
        assert row(table, "KSK-0001").faults_text() == "none"
        assert row(table, "KSK-0002").faults_text() == "printer.offline"
        assert row(table, "KSK-0003").faults_text() == "display.panel_off"
        assert row(table, "KSK-0006").faults_text(NOW) == "card_reader.jam as of 11-24"
        assert not row(table, "KSK-0006").faults_live
        assert drawn_dim(table, "KSK-0006") and not drawn_dim(table, "KSK-0002")

        # the terminal changes; a reload keeps what was read live until it is read again
        backend.faulty.pop("KSK-0002")
        backend.status_reads.clear()
        await pilot.press("ctrl+r")
        await until(pilot, lambda: set(backend.status_reads) == set(IN_WINDOW))
        await until(pilot, lambda: row(table, "KSK-0002").faults_text() == "none")
        assert row(table, "KSK-0002").faults_live


async def test_the_live_faults_fall_back_to_the_record_when_the_window_closes() -> None:
    backend = FakeBackend()
    backend.faulty["KSK-0001"] = "printer.paper_out"
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        table = app.fleet.table
        await until(pilot, lambda: row(table, "KSK-0001").faults_live)
        assert row(table, "KSK-0001").faults == ("printer.paper_out",)
        assert backend._window is not None
        backend._window = replace(backend._window, valid_before=int(NOW - 1))  # closed
        app.fleet.refresh_live()
        await until(pilot, lambda: not row(table, "KSK-0001").faults_live)
        assert row(table, "KSK-0001").faults == ()  # its record (a pass) says nothing is open
        assert row(table, "KSK-0002").faults_text(NOW) == "printer.offline as of 11-28"


async def test_a_terminal_whose_status_fails_keeps_its_record() -> None:
    backend = FakeBackend()

    async def refused(terminal: str) -> dict[str, object]:
        raise OSError("connection reset")

    backend.status = refused  # type: ignore[method-assign]
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        table = app.fleet.table
        await until(pilot, lambda: len(table.rows) == 12)
        await app.workers.wait_for_complete()
        assert row(table, "KSK-0002").faults_text(NOW) == "printer.offline as of 11-28"
        assert not any(r.faults_live for r in table.rows)


async def test_status_reads_are_a_few_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A window over a whole fleet: the status of every terminal that answers is read, never
    more than ``LIVE_CONCURRENCY`` at once, in the background (the table is there and answers
    keys before they finish)."""
    monkeypatch.setattr(fleet, "LIVE_CONCURRENCY", 3)
    backend = FakeBackend(40)
    assert backend._window is not None
    backend._window = replace(
        backend._window, principals=tuple(f"KSK-{i:04d}" for i in range(1, 41))
    )
    gate = asyncio.Event()
    running = peak = 0

    async def slow(terminal: str) -> dict[str, object]:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            await gate.wait()
        finally:
            running -= 1
        return {"now": {}, "suspects": ["ups.on_battery"] if terminal == "KSK-0040" else []}

    backend.status = slow  # type: ignore[method-assign]
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        table = app.fleet.table
        await until(pilot, lambda: len(table.rows) == 40 and running == 3)
        await pilot.press("down")  # the table answers keys while the reads wait
        await until(pilot, lambda: table.cursor == 1)
        assert running == 3  # the reads still wait
        gate.set()
        await until(pilot, lambda: all(r.faults_live for r in table.rows if r.reachable == "up"))
        assert peak == 3
        assert not any(r.faults_live for r in table.rows if r.reachable == "down")
        assert row(table, "KSK-0040").faults == ("ups.on_battery",)


def test_open_faults_of_a_status_document() -> None:
    status = {
        "now": {
            "print_head": {"status": "fail", "suspect": "printer.paper_out"},
            "display": {"status": "busy", "behind": "display", "suspect": None},
            "power": {"status": "pass", "suspect": None},
        },
        "suspects": ["printer.paper_out", "ups.on_battery"],
    }
    assert open_faults(status) == ("printer.paper_out", "ups.on_battery")
    assert open_faults({}) == ()


def test_the_column_says_where_the_faults_come_from() -> None:
    recorded = TerminalRow("KSK-0009", faults=("printer.paper_out",), last_run=NOW - 600)
    assert recorded.faults_text(NOW) == "printer.paper_out as of 00:43"  # today: the time
    assert recorded.faults_text(NOW + 86400) == "printer.paper_out as of 11-30"  # before: the day
    assert recorded.with_(faults=()).faults_text(NOW) == ""  # nothing was open
    live = recorded.with_(faults_live=True)
    assert live.faults_text(NOW) == "printer.paper_out"
    assert live.with_(faults=()).faults_text(NOW) == "none"


async def test_a_terminal_whose_agent_answers_late_is_still_read_live() -> None:
    class SlowAgent(FakeBackend):  # KSK-0002 not probed yet when listed; its agent is slow
        def terminals(self) -> list[TerminalRow]:
            rows = super().terminals()
            return [replace(r, reachable="?") if r.terminal == "KSK-0002" else r for r in rows]

        async def probe(self, terminal: str) -> str:
            return "slow" if terminal == "KSK-0002" else "up"

    backend = SlowAgent()
    backend.faulty["KSK-0002"] = "printer.paper_out"  # since its record's printer.offline
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        table = app.fleet.table
        probed = lambda: row(table, "KSK-0002").reachable == "slow"  # noqa: E731
        await until(pilot, lambda: probed() and all(row(table, t).faults_live for t in IN_WINDOW))
        assert row(table, "KSK-0002").faults_text() == "printer.paper_out"  # its status, read
        assert set(backend.status_reads) == set(IN_WINDOW)
