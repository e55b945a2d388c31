"""A terminal whose agent accepts but is late with its SSH ident shows ``slow``, one whose agent
does not accept shows ``down``; the fleet probes either again on its own, waiting twice as long
each time up to a cap, until its agent answers (``up``), with no reload."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from typing import Any

import pytest
from fake_backend import NOW, FakeBackend
from fleet_helpers import row, until

from tui.app import WorkbenchApp
from tui.backend import TerminalRow
from tui.screens import fleet_follow

pytestmark = pytest.mark.timeout(30)
SIZE = (130, 30)
FIRST, CAP = 0.05, 0.2


class Agents(FakeBackend):
    """Agents whose probes answer what the test sets (``up`` unless set), each probe timed; the
    terminals set are listed unprobed, as the live backend lists every terminal."""

    def __init__(self, answers: dict[str, str], window_left_s: float | None = 2820.0) -> None:
        super().__init__(window_left_s=window_left_s)
        self.answers = answers
        self.probed: dict[str, list[float]] = {}
        self.loads = 0

        self.dead: set[str] = set()  # terminals whose status fails (the agent is gone)

    def terminals(self) -> list[TerminalRow]:
        """Those set are listed unprobed, or ``-`` (no agent known: its kiosk is not running
        under the state dir), as the live backend lists them."""
        self.loads += 1
        rows = super().terminals()
        return [
            replace(r, reachable="-" if self.answers[r.terminal] == "-" else "?")
            if r.terminal in self.answers
            else r
            for r in rows
        ]

    async def probe(self, terminal: str) -> str:
        self.probed.setdefault(terminal, []).append(asyncio.get_running_loop().time())
        return self.answers.get(terminal, "up")

    async def status(self, terminal: str) -> dict[str, Any]:
        if terminal in self.dead:
            self.status_reads.append(terminal)
            raise OSError("connection refused")
        return await super().status(terminal)


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waits of tens of milliseconds instead of seconds (the rule is the same)."""
    monkeypatch.setattr(fleet_follow, "REPROBE_FIRST_S", FIRST)
    monkeypatch.setattr(fleet_follow, "REPROBE_MAX_S", CAP)


def wait_of(app: WorkbenchApp, terminal: str) -> float | None:
    """The wait the fleet set before it probes ``terminal`` again (None: not followed)."""
    followed = app.fleet.reprobes.get(terminal)
    return None if followed is None else followed[1]


@pytest.mark.usefixtures("quick")
async def test_slow_rows_are_probed_again_until_they_go_up_or_down() -> None:
    backend = Agents({"KSK-0002": "slow", "KSK-0003": "slow"})
    backend.faulty["KSK-0003"] = "display.panel_off"  # what it says while it answers
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        table = app.fleet.table
        # loaded once, with the window in; then both are followed, ever less often
        await until(
            pilot,
            lambda: (
                backend.loads == 1
                and row(table, "KSK-0003").faults_live  # read while it answers late
                and wait_of(app, "KSK-0002") == CAP
                and wait_of(app, "KSK-0003") == CAP
            ),
        )
        assert row(table, "KSK-0002").reachable == row(table, "KSK-0003").reachable == "slow"
        for terminal in ("KSK-0002", "KSK-0003"):  # the waits before its last two probes
            *_, second_last, last = gaps(backend.probed[terminal])
            assert second_last >= FIRST * 0.9 and last >= 2 * FIRST * 0.9
        before = {t: len(backend.probed[t]) for t in ("KSK-0002", "KSK-0003")}

        backend.answers.update({"KSK-0002": "up", "KSK-0003": "down"})  # one recovers, one dies
        await until(
            pilot,
            lambda: (
                row(table, "KSK-0002").reachable == "up"
                and row(table, "KSK-0003").reachable == "down"
            ),
        )
        assert backend.loads == 1  # nobody reloaded
        assert "KSK-0002" not in app.fleet.reprobes  # up: no longer followed
        assert len(backend.probed["KSK-0002"]) - before["KSK-0002"] == 1
        # gone down: its record's faults again (none), not what it said while it answered
        assert row(table, "KSK-0003").faults == () and not row(table, "KSK-0003").faults_live
        # and still followed, at the cap it had reached, until its agent is back
        assert wait_of(app, "KSK-0003") == CAP
        backend.answers["KSK-0003"] = "up"
        await until(pilot, lambda: row(table, "KSK-0003").reachable == "up")
        assert app.fleet.reprobes == {} and backend.loads == 1


@pytest.mark.usefixtures("quick")
async def test_a_terminal_that_stays_slow_is_probed_no_more_often_than_the_cap() -> None:
    backend = Agents({"KSK-0001": "slow"}, window_left_s=None)  # no window: loaded once
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(backend.probed.get("KSK-0001", ())) >= 6)
        assert backend.loads == 1
        assert wait_of(app, "KSK-0001") == CAP
        # timers never fire early, however busy the machine: each gap is at least its wait
        waits = [FIRST, 2 * FIRST, CAP, CAP, CAP]
        assert all(
            gap >= wait * 0.9
            for gap, wait in zip(gaps(backend.probed["KSK-0001"]), waits, strict=False)
        ), gaps(backend.probed["KSK-0001"])
        assert row(app.fleet.table, "KSK-0001").reachable == "slow"


@pytest.mark.usefixtures("quick")
@pytest.mark.parametrize("away", ["down", "slow"])
async def test_a_terminal_back_up_shows_what_it_says_now(away: str) -> None:
    """A terminal that was down (or slow) and answers ``up`` again has its status read at once,
    not at the next minute's reading, and only its own."""
    backend = Agents({"KSK-0003": "up"})
    backend.faulty["KSK-0003"] = "display.panel_off"
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        table = app.fleet.table
        await until(pilot, lambda: row(table, "KSK-0003").faults == ("display.panel_off",))
        backend.answers["KSK-0003"] = away
        await pilot.press("ctrl+r")
        await until(pilot, lambda: wait_of(app, "KSK-0003") == CAP)  # followed a while
        assert row(table, "KSK-0003").reachable == away
        await app.workers.wait_for_complete()  # the reload's own status reads are over
        # meanwhile someone fixed the display and the printer ran out of paper
        backend.faulty["KSK-0003"] = "printer.paper_out"
        backend.status_reads.clear()

        backend.answers["KSK-0003"] = "up"
        await until(pilot, lambda: row(table, "KSK-0003").reachable == "up")
        await until(pilot, lambda: row(table, "KSK-0003").faults == ("printer.paper_out",))
        assert row(table, "KSK-0003").faults_text(NOW) == "printer.paper_out"  # live, no date
        assert backend.status_reads == ["KSK-0003"]  # nobody else's status was read again
        assert backend.loads == 2


@pytest.mark.usefixtures("quick")
async def test_a_reading_that_comes_back_after_its_terminal_went_down_is_not_shown() -> None:
    """The status read when a terminal came back answers only after it went down again: the row
    keeps its record's faults (it no longer answers), not what the reading said."""
    backend = Agents({"KSK-0003": "down"})
    backend.faulty["KSK-0003"] = "display.panel_off"
    held = asyncio.Event()
    gate: asyncio.Event | None = None
    plain_status = backend.status

    async def status(terminal: str) -> dict[str, object]:
        if gate is not None and terminal == "KSK-0003":
            held.set()
            await gate.wait()
        return await plain_status(terminal)

    backend.status = status  # type: ignore[method-assign]
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        table = app.fleet.table
        await until(pilot, lambda: wait_of(app, "KSK-0003") is not None)
        gate = asyncio.Event()
        backend.answers["KSK-0003"] = "up"  # back: its status is read, and the reading hangs
        await until(pilot, lambda: held.is_set())
        backend.answers["KSK-0003"] = "down"  # and gone again before it answers
        await pilot.press("ctrl+r")
        await until(pilot, lambda: row(table, "KSK-0003").reachable == "down")
        gate.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert row(table, "KSK-0003").faults == () and not row(table, "KSK-0003").faults_live


@pytest.mark.usefixtures("quick")
@pytest.mark.parametrize("gone", ["down", "-"])
async def test_a_terminal_whose_status_read_fails_is_probed_and_followed(gone: str) -> None:
    """The agent of a terminal shown ``up`` is killed (``down``: the port closed) or its kiosk
    stopped (``-``: its manifest removed): the minute's status read fails, the terminal is probed
    then and there, its row says so with no reload, and it is followed until it is back."""
    backend = Agents({"KSK-0003": "up"})
    backend.faulty["KSK-0003"] = "display.panel_off"
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        table = app.fleet.table
        await until(pilot, lambda: row(table, "KSK-0003").faults == ("display.panel_off",))
        backend.answers["KSK-0003"] = gone
        backend.dead.add("KSK-0003")
        app.fleet.refresh_live()  # the minute's reading
        await until(pilot, lambda: row(table, "KSK-0003").reachable == gone)
        assert not row(table, "KSK-0003").faults_live  # its record's (none), not what it said
        await until(pilot, lambda: wait_of(app, "KSK-0003") == CAP)  # followed

        backend.faulty["KSK-0003"] = "printer.paper_out"  # started again, with a new fault
        backend.dead.discard("KSK-0003")
        backend.answers["KSK-0003"] = "up"
        await until(pilot, lambda: row(table, "KSK-0003").faults == ("printer.paper_out",))
        assert row(table, "KSK-0003").reachable == "up" and "KSK-0003" not in app.fleet.reprobes
        assert backend.loads == 1


@pytest.mark.usefixtures("quick")
async def test_a_stopped_kiosk_is_followed_across_a_reload_until_it_starts_again() -> None:
    """A kiosk stopped (its row ``-``) is still followed after ``ctrl+r`` lists it with no agent;
    a terminal never seen with an agent (only in the records) is not probed at all."""
    backend = Agents({"KSK-0003": "up", "KSK-0004": "-"})
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        table = app.fleet.table
        await until(pilot, lambda: row(table, "KSK-0003").faults_live)
        backend.answers["KSK-0003"] = "-"  # its kiosk stopped, and removed its manifest
        await pilot.press("ctrl+r")
        await until(pilot, lambda: backend.loads == 2 and row(table, "KSK-0003").reachable == "-")
        await until(pilot, lambda: wait_of(app, "KSK-0003") == CAP)  # followed all the same
        backend.answers["KSK-0003"] = "up"  # started again
        await until(pilot, lambda: row(table, "KSK-0003").reachable == "up")
        await until(pilot, lambda: row(table, "KSK-0003").faults_live)
        assert app.fleet.reprobes == {} and backend.loads == 2
        assert row(table, "KSK-0004").reachable == "-" and "KSK-0004" not in backend.probed


async def test_a_reload_shows_each_row_as_last_probed_until_probed_again() -> None:
    """``ctrl+r`` lists the terminals unprobed; while the probes are out each row keeps what its
    last probe answered (not ``?``), then says what the new probe answers."""
    backend = Agents({"KSK-0001": "up", "KSK-0003": "slow"})
    held: asyncio.Event | None = None
    plain_probe = backend.probe

    async def probe(terminal: str) -> str:
        if held is not None:
            await held.wait()
        return await plain_probe(terminal)

    backend.probe = probe  # type: ignore[method-assign]
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        table = app.fleet.table
        await until(pilot, lambda: row(table, "KSK-0003").reachable == "slow")
        held = asyncio.Event()
        backend.answers["KSK-0001"] = "down"
        await pilot.press("ctrl+r")
        await until(pilot, lambda: backend.loads == 2)
        await pilot.pause()
        assert [row(table, t).reachable for t in ("KSK-0001", "KSK-0003")] == ["up", "slow"]
        held.set()
        await until(pilot, lambda: row(table, "KSK-0001").reachable == "down")
