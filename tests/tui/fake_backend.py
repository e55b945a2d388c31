"""An in-memory :class:`tui.backend.Backend` for TUI tests: a fleet of any size, a window whose
times are fixed, suites that stream canned results, and a remedy that clears its fault."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from tui.backend import (
    ClassView,
    PlayView,
    RemedyView,
    ScenarioInfo,
    ScoreItem,
    ScoreView,
    SeatView,
    StepView,
    TerminalRow,
    TrailEntry,
    WindowView,
)
from workbench.errors import WorkbenchError
from workbench.records import DiagResult, MaintenanceRun, Scorecard

NOW = 1_796_000_000.0
"""The tests' fixed clock."""

TESTS = ["exterior", "power", "display", "print_head"]


class FakeBackend:
    """A fleet of ``size`` terminals; KSK-0002 has a printer fault a remedy clears."""

    def __init__(self, size: int = 12, *, window_left_s: float | None = 2820.0) -> None:
        self.engineer = "alice@support"
        self.can_request = True
        self.size = size
        self.faulty = {"KSK-0002": "printer.offline"}  # what the terminals report now
        self.recorded = dict(self.faulty)  # what their last maintenance records say
        self.status_reads: list[str] = []
        self.sessions: list[str] = []
        self.open_error: WorkbenchError | None = None  # what open() raises, if anything
        self.ended = False
        self.runs: list[tuple[str, str]] = []
        self.remedies: list[tuple[str, str]] = []
        self.injected: list[tuple[str, str]] = []
        self.stimuli: list[tuple[str, str]] = []
        self.cards = [
            Scorecard("printer-jam", "trainee1@class", "KSK-0001", NOW - 600, 7, 10, id=1)
        ]
        self.gate: asyncio.Event | None = None  # set to hold runs until released
        self.plays: dict[str, PlayView] = {}
        self.scored: list[str] = []
        self.classroom: ClassView | None = None
        self.class_args: tuple[str, int, float, float] | None = None
        self._trail: list[TrailEntry] = []
        self._window = (
            WindowView(
                "alice@support",
                ("KSK-0001", "KSK-0002", "KSK-0003"),
                ("diag", "remedy"),
                "INC-2041",
                int(NOW - 780),
                int(NOW + window_left_s),
                7,
                Path("alice-cert.pub"),
            )
            if window_left_s is not None
            else None
        )

    def terminals(self) -> list[TerminalRow]:
        sites = ["north", "south", "east", "west"]
        profiles = ["bill_payment", "ticketing", "parcel"]
        rows = []
        for i in range(1, self.size + 1):
            tid = f"KSK-{i:04d}"
            fault = self.recorded.get(tid)
            rows.append(
                TerminalRow(
                    tid,
                    profiles[i % 3],
                    sites[i % 4],
                    "up" if i % 7 else "down",
                    (fault,) if fault else (),
                    "fail" if fault else ("pass" if i % 5 else None),
                    NOW - 86400 * (i % 9) if (fault or i % 5) else None,
                    self._window.valid_before
                    if self._window and tid in self._window.principals
                    else None,
                )
            )
        return rows

    async def probe(self, terminal: str) -> str:
        """What the terminal's row says (``down``: every seventh): a down row probed again on
        its own stays down."""
        return "down" if int(terminal.removeprefix("KSK-")) % 7 == 0 else "up"

    def window(self) -> WindowView | None:
        return self._window

    def load_certificate(self, path: Path) -> WindowView:
        from workbench.errors import ConfigError

        raise ConfigError(f"{path}: no such file")

    def request_window(
        self, terminals: Sequence[str], hours: float | None, allow: Sequence[str], ticket: str
    ) -> WindowView:
        self._window = WindowView(
            self.engineer,
            tuple(terminals),
            tuple(allow),
            ticket,
            int(NOW),
            int(NOW + 3600),
            8,
            Path("x"),
        )
        return self._window

    def refusal(self, terminal: str) -> str | None:
        w = self._window
        if w is None:
            return "no window: request one or load a certificate (Window screen, w)"
        if terminal not in w.principals:
            return f"other terminal: the certificate is for {', '.join(w.principals)}"
        if w.valid_before <= NOW:
            return "expired: the window closed at 14:32"
        return None

    def open(self) -> None:
        if self.open_error is not None:
            raise self.open_error

    def start_session(self, reason: str) -> None:
        self.sessions.append(reason)

    def end_session(self) -> None:
        self.ended = True

    def suites(self) -> list[str]:
        return ["inspection", "quick", "device:printer", "device:display"]

    def suite_tests(self, suite: str) -> list[str]:
        return TESTS

    def remedies_for(self, fault: str | None) -> list[str]:
        return ["printer.reset"] if fault in (None, "printer.offline") else []

    async def status(self, terminal: str) -> dict[str, Any]:
        self.status_reads.append(terminal)
        await asyncio.sleep(0)
        return {
            "devices": {"printer": {"serial": "/dev/pts/7"}, "display": {"tcp": "127.0.0.1:5001"}},
            "now": {
                "print_head": {
                    "status": "fail" if terminal in self.faulty else "pass",
                    "suspect": self.faulty.get(terminal),
                },
                "display": {"status": "pass", "suspect": None},
            },
        }

    def _result(self, terminal: str, test: str) -> dict[str, Any]:
        fault = self.faulty.get(terminal) if test == "print_head" else None
        return {
            "event": "result",
            "test": test,
            "status": "fail" if fault else "pass",
            "measurements": {"latency_ms": {"value": 3.0, "unit": "ms"}},
            "suspect": fault,
            "remedy": "printer.reset" if fault else None,
        }

    async def run(self, terminal: str, suite: str) -> AsyncIterator[dict[str, Any]]:
        self.runs.append((terminal, suite))
        if (why := self.refusal(terminal)) is not None:
            yield {"event": "done", "outcome": "refused", "error": why, "run_id": None}
            return
        for test in TESTS:
            if self.gate is not None:
                await self.gate.wait()
            await asyncio.sleep(0)
            yield self._result(terminal, test)
        outcome = "fail" if terminal in self.faulty else "pass"
        self.recorded.pop(terminal, None)
        if terminal in self.faulty:
            self.recorded[terminal] = self.faulty[terminal]
        self._trail.append(TrailEntry(NOW, terminal, f"run {suite}", outcome))
        yield {"event": "done", "outcome": outcome, "error": None, "run_id": len(self.runs)}

    async def remedy(self, terminal: str, action: str) -> RemedyView:
        self.remedies.append((terminal, action))
        self.faulty.pop(terminal, None)
        self._trail.append(TrailEntry(NOW, terminal, f"remedy {action}", "cleared"))
        return RemedyView(
            terminal,
            action,
            "cleared",
            "DLE ENQ 2: print_head passes again",
            ["DLE ENQ 2 sent"],
            self._result(terminal, "print_head"),
        )

    async def logs(self, terminal: str, since: float | None) -> list[dict[str, Any]]:
        return [{"event": "log", "time": NOW - 60, "kind": "diag", "test": "print_head"}]

    def history(self, terminal: str | None, limit: int = 200) -> list[MaintenanceRun]:
        runs = [
            MaintenanceRun("KSK-0002", "inspection", "alice@support", NOW - 3600, NOW - 3590, "fail",
                           (*_passes(10), DiagResult("print_head", "fail", "printer.offline")), id=2),
            MaintenanceRun("KSK-0001", "quick", "bob@support", NOW - 7200, NOW - 7199, "pass",
                           _passes(11), id=1),
        ]  # fmt: skip
        return [r for r in runs if terminal in (None, r.terminal)][:limit]

    def trail(self, terminal: str | None = None) -> list[TrailEntry]:
        return [e for e in self._trail if terminal in (None, e.terminal)]

    async def faults(self, terminal: str) -> list[dict[str, Any]]:
        titles = {
            "printer.offline": "Printer offline",
            "display.panel_off": "Panel off",
            "printer.paper_out": "Paper roll empty",
        }
        return [
            {"id": f, "severity": "P2", "active": self.faulty.get(terminal) == f, "title": title}
            for f, title in titles.items()
        ]

    async def inject(self, terminal: str, fault: str) -> None:
        self.injected.append((terminal, fault))
        self.faulty[terminal] = fault

    async def clear(self, terminal: str, fault: str) -> None:
        self.faulty.pop(terminal, None)

    async def act(self, terminal: str, stimulus: str) -> str:
        self.stimuli.append((terminal, stimulus))
        return f"{stimulus}: done"

    def agent_audit(self, terminal: str, limit: int = 200) -> list[dict[str, Any]]:
        return [
            {
                "time": NOW - 30,
                "engineer": "trainee1@class",
                "event": "command",
                "command": "diag run quick",
            }
        ]

    def scorecards(self, limit: int = 200) -> list[Scorecard]:
        return sorted(self.cards, key=lambda c: c.created, reverse=True)[:limit]

    # -- scenarios and classes -------------------------------------------------------------------
    def library(self) -> list[ScenarioInfo]:
        return LIBRARY

    async def start_scenario(self, terminal: str, scenario: str) -> PlayView:
        from workbench.errors import ConfigError

        info = next(i for i in LIBRARY if i.name == scenario)
        if info.profile != "bill_payment":
            raise ConfigError(f"scenario {scenario} runs on a {info.profile} kiosk")
        self.plays[terminal] = PlayView(
            terminal,
            "running",
            info.name,
            info.title,
            info.severity,
            60.0,
            31.0,
            1860.0,
            "Mon 09:26:00",
            (
                StepView(1800.0, "inject printer.paper_out (the roll ends)", True),
                StepView(2400.0, "ticket to the trainee", False),
            ),
            ("Mon 09:25:00  fault printer.paper_out injected (the roll ends)",),
            ("printer.paper_out",),
        )
        self.faulty[terminal] = "printer.paper_out"
        return self.plays[terminal]

    async def scenario_status(self, terminal: str) -> PlayView:
        from dataclasses import replace

        active = (self.faulty[terminal],) if terminal in self.faulty else ()
        return replace(self.plays.get(terminal, PlayView(terminal, "none")), active_faults=active)

    async def stop_scenario(self, terminal: str) -> PlayView:
        from dataclasses import replace

        play = self.plays[terminal]
        self.plays[terminal] = replace(
            play, state="stopped", log=(*play.log, "Mon 09:26:10  stopped by the trainer")
        )
        return self.plays[terminal]

    async def score(self, terminal: str) -> ScoreView:
        from workbench.errors import ConfigError

        play = self.plays.get(terminal)
        if play is None:
            raise ConfigError(f"STATE/{terminal}/scenario.json: no scenario has run on {terminal}")
        self.scored.append(terminal)
        card = Scorecard(
            play.scenario, "trainee2@class", terminal, NOW, 50, 100, id=len(self.cards) + 1
        )
        self.cards.append(card)
        return ScoreView(
            play.scenario,
            terminal,
            "trainee2@class",
            50,
            100,
            (
                ScoreItem("diagnosed", 20, 20, "first diagnostic 3.0 min after the ticket"),
                ScoreItem("identified", 30, 30, "named 1 of 1: printer.paper_out"),
                ScoreItem("resolved", 0, 30, "0 of 1 answer actions: none"),
                ScoreItem("restored", 0, 20, "not restored by Mon 17:35:00: printer.paper_out"),
            ),
            ("Mon 09:38:00  diag run inspection (exit 1)",),
            card.id,
        )

    async def start_class(
        self, scenario: str, trainees: int, speed: float, hours: float
    ) -> ClassView:
        self.class_args = (scenario, trainees, speed, hours)
        seats = tuple(
            SeatView(
                f"t{i:02d}",
                f"KSK-T{i:02d}",
                "running",
                "1/2",
                i - 1,
                f"09:3{i}:00 diag run quick" if i > 1 else "",
            )
            for i in range(1, trainees + 1)
        )
        self.classroom = ClassView(scenario, speed, NOW, True, seats)
        for seat in seats:
            await self.start_scenario(seat.terminal, scenario)
        return self.classroom

    async def class_view(self) -> ClassView | None:
        return self.classroom

    async def stop_class(self) -> None:
        from dataclasses import replace

        if self.classroom is not None:
            seats = tuple(replace(s, state="down") for s in self.classroom.seats)
            self.classroom = replace(self.classroom, running=False, seats=seats)


LIBRARY = [
    ScenarioInfo(
        "p3-paper-out",
        "P3",
        "bill_payment",
        "Paper runs out on a busy Monday morning",
        "The receipt roll runs out mid-morning.",
        ("+30:00 inject printer.paper_out (the roll ends)", "+40:00 ticket to the trainee"),
    ),
    ScenarioInfo(
        "display-brightness-low",
        "P2",
        "bill_payment",
        "The screen is too dark to read",
        "Someone turned the brightness down.",
        ("+0:00 inject display.brightness_low", "+10:00 ticket to the trainee"),
    ),
    ScenarioInfo(
        "ticket-kiosk-cash-box-removed",
        "P2",
        "ticket",
        "The cash box was taken out",
        "Staff forgot to put the cash box back.",
        ("+5:00 act remove-cashbox", "+15:00 ticket to the trainee"),
    ),
]


def _passes(n: int) -> tuple[DiagResult, ...]:
    return tuple(DiagResult(f"test{i}", "pass") for i in range(n))
