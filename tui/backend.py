"""The interface the TUI talks to (a ``typing.Protocol``) and the plain data it exchanges: the
screens never reach a socket, a certificate or the records store themselves.

:class:`tui.live.LiveBackend` implements it over the remote client and the records store; tests
inject a fake. Nothing here imports textual.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from workbench.records import MaintenanceRun, Scorecard

SUITES = ("inspection", "quick")
"""The suites offered first; ``device:NAME`` suites come from :meth:`Backend.suites`."""


@dataclass(frozen=True, slots=True)
class TerminalRow:
    """One terminal as the fleet screen lists it."""

    terminal: str
    profile: str = "-"
    site: str = "-"
    reachable: str = "?"  # "up" | "slow" (its agent answers late) | "down" | "?" (not probed)
    faults: tuple[str, ...] = ()  # suspected faults, as the terminal reported them
    last_outcome: str | None = None
    last_run: float | None = None
    window_until: int | None = None  # valid_before of a window open on it now
    progress: str = ""  # a fan-out in flight: "3/11", then the outcome
    faults_live: bool = False  # faults from its ``status`` just now, not from the last record

    def text(self) -> str:
        """What the ``/`` filter matches against."""
        return " ".join(
            (
                self.terminal,
                self.profile,
                self.site,
                self.reachable,
                *self.faults,
                self.last_outcome or "never",
                self.progress,
            )
        )

    def faults_text(self, now: float | None = None) -> str:
        """The open faults column: what the terminal's live status reports (``none`` when it
        reports nothing), else the suspects of its last maintenance record ``as of`` its time
        (``as of 14:05`` today, ``as of 11-28`` before)."""
        faults = ", ".join(self.faults)
        if self.faults_live:
            return faults or "none"
        if not faults or self.last_run is None:
            return faults
        then = time.localtime(self.last_run)
        today = time.localtime(time.time() if now is None else now)[:3] == then[:3]
        return f"{faults} as of {time.strftime('%H:%M' if today else '%m-%d', then)}"

    def with_(self, **changes: Any) -> TerminalRow:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def recorded(self, runs: Sequence[MaintenanceRun]) -> TerminalRow:
        """This row as its maintenance records say, newest first (see :func:`recorded_faults`):
        the newest's outcome and time, and the faults still suspected."""
        if not runs:
            return self.with_(faults=(), last_outcome=None, last_run=None)
        last = runs[0]
        return self.with_(
            faults=recorded_faults(runs), last_outcome=last.outcome, last_run=last.started
        )


RECORDS_BACK = 10
"""How many of a terminal's records are read back past those that say little of its faults."""


def says_little(run: MaintenanceRun) -> bool:
    """Whether a record alone says little of the terminal's faults: a remedy's (its one result is
    the test run again after it) or a run that broke before any result."""
    return run.suite.startswith("remedy ") or not run.results


def recorded_faults(runs: Sequence[MaintenanceRun]) -> tuple[str, ...]:
    """The faults a terminal's records, newest first, still suspect: each test's newest result,
    back to the newest record of a suite (past remedies' records, whose one re-test says nothing
    of the other faults the run they followed up found; past runs that broke with no results)."""
    newest: dict[str, str | None] = {}
    for run in runs:
        for result in run.results:
            newest.setdefault(result.test, result.suspect if result.status != "pass" else None)
        if not says_little(run):
            break
    return tuple(dict.fromkeys(s for s in newest.values() if s))


def open_faults(status: Mapping[str, Any]) -> tuple[str, ...]:
    """The faults a terminal's ``status`` document suspects now (its ``suspects`` and each
    checklist item's ``suspect``), sorted."""
    now = status.get("now") or {}
    found = {str(s) for s in status.get("suspects") or ()}
    found |= {str(v["suspect"]) for v in now.values() if isinstance(v, dict) and v.get("suspect")}
    return tuple(sorted(found))


@dataclass(frozen=True, slots=True)
class WindowView:
    """The remote window the session holds: a user certificate's validity and what it allows."""

    engineer: str
    principals: tuple[str, ...]
    allow: tuple[str, ...]
    ticket: str | None
    valid_after: int
    valid_before: int
    serial: int
    certificate: Path

    def open_at(self, now: float) -> bool:
        """True while the window is open (``valid_after <= now < valid_before``)."""
        return self.valid_after <= now < self.valid_before


@dataclass(frozen=True, slots=True)
class TrailEntry:
    """One action of this session, as the session's audit trail shows it."""

    time: float
    terminal: str
    action: str
    outcome: str
    detail: str = ""


@dataclass(slots=True)
class RemedyView:
    """What a remedy did: cleared or not, the steps, the re-test's result line."""

    terminal: str
    action: str
    outcome: str  # cleared | not cleared | refused | error
    detail: str
    steps: list[str] = field(default_factory=list)
    retest: dict[str, Any] | None = None


def at_text(seconds: float) -> str:
    """Simulated seconds from a scenario's start: ``+30:00``, ``+1:05:00``."""
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"+{h}:{m:02d}:{s:02d}" if h else f"+{m}:{s:02d}"


@dataclass(frozen=True, slots=True)
class ScenarioInfo:
    """A library scenario as the trainer picks it; ``steps`` (what it injects) is the trainer's
    alone: trainees get only the ticket."""

    name: str
    severity: str
    profile: str
    title: str
    summary: str
    steps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StepView:
    """One timeline step of a running scenario: when (simulated seconds from its start), what,
    and whether it has happened."""

    at: float
    what: str
    done: bool


@dataclass(frozen=True, slots=True)
class PlayView:
    """The scenario on a terminal as the trainer watches it (``state`` ``none`` when none ran
    since the kiosk started, ``down`` when the kiosk does not answer)."""

    terminal: str
    state: str  # none | running | finished | stopped | down
    scenario: str = ""
    title: str = ""
    severity: str = ""
    speed: float = 0.0
    elapsed_wall: float = 0.0
    elapsed_sim: float = 0.0
    clock: str = ""  # the scenario's simulated calendar now: "Mon 09:26:40"
    steps: tuple[StepView, ...] = ()
    log: tuple[str, ...] = ()  # "Mon 09:25:00  fault printer.paper_out injected (...)"
    active_faults: tuple[str, ...] = ()
    error: str = ""


@dataclass(frozen=True, slots=True)
class ScoreItem:
    """One line of a scorecard (a penalty has ``max_points`` 0)."""

    name: str
    points: int
    max_points: int
    detail: str


@dataclass(frozen=True, slots=True)
class ScoreView:
    """A scorecard just computed and stored: its items, total, and what the trainee did."""

    scenario: str
    terminal: str
    trainee: str | None
    points: int
    max_points: int
    items: tuple[ScoreItem, ...]
    actions: tuple[str, ...]  # "Mon 09:41:10  diag run inspection (exit 1)"
    card_id: int


@dataclass(frozen=True, slots=True)
class SeatView:
    """One trainee of a class: their kiosk, its scenario's state, what they did (audit log)."""

    trainee: str
    terminal: str
    state: str  # the scenario's: running | finished | stopped | down ...
    steps_done: str  # "1/2"
    actions: int  # commands the trainee ran on their kiosk's agent
    last_action: str


@dataclass(frozen=True, slots=True)
class ClassView:
    """The class started under the state directory."""

    scenario: str
    speed: float
    started: float
    running: bool  # its kiosks' process is alive
    seats: tuple[SeatView, ...]


class Backend(Protocol):
    """What the TUI needs: terminals, the window, suites and remedies over SSH, records."""

    engineer: str
    """Who is at the keyboard (the key's comment or the certificate's key id)."""

    can_request: bool
    """True when a CA directory was given, so the session can sign its own window."""

    def open(self) -> None:
        """Read what the session was started with (a window certificate, a CA directory); run in
        a worker thread after the first frame. Raises WorkbenchError naming a bad one."""
        ...

    def terminals(self) -> list[TerminalRow]:
        """Every known terminal: running ones under the state dir, those in grants and records."""
        ...

    async def probe(self, terminal: str) -> str:
        """Is the terminal's agent accepting connections: ``up`` or ``down`` (``?`` unknown)."""
        ...

    def window(self) -> WindowView | None:
        """The window held now, if any."""
        ...

    def load_certificate(self, path: Path) -> WindowView:
        """Use this certificate (``...-cert.pub`` for the session's key) from now on."""
        ...

    def request_window(
        self, terminals: Sequence[str], hours: float | None, allow: Sequence[str], ticket: str
    ) -> WindowView:
        """Have the CA sign the session's key for these terminals (needs ``can_request``)."""
        ...

    def refusal(self, terminal: str) -> str | None:
        """Why the window does not reach this terminal now (expired, other terminal, untrusted
        CA, no window), or None when it does."""
        ...

    def start_session(self, reason: str) -> None:
        """Record the session's reason (a ticket id) before any action."""
        ...

    def end_session(self) -> None:
        """Record the end of the session."""
        ...

    def suites(self) -> list[str]:
        """Suite names a terminal runs."""
        ...

    def suite_tests(self, suite: str) -> list[str]:
        """The tests a suite runs, in order."""
        ...

    def remedies_for(self, fault: str | None) -> list[str]:
        """Remedies worth trying for a suspected fault (all remedies when None)."""
        ...

    async def status(self, terminal: str) -> dict[str, Any]:
        """The terminal's live status (devices, checklist items now, suspects)."""
        ...

    def run(self, terminal: str, suite: str) -> AsyncIterator[dict[str, Any]]:
        """Run a suite: yield each ``result`` line as its test finishes, then one ``done`` line
        (``outcome``, ``error``, ``run_id``); the run is kept as a maintenance record."""
        ...

    async def remedy(self, terminal: str, action: str) -> RemedyView:
        """Apply a remedy and re-test; kept as a maintenance action."""
        ...

    async def logs(self, terminal: str, since: float | None) -> list[dict[str, Any]]:
        """The terminal's log entries newer than ``since``."""
        ...

    def history(self, terminal: str | None, limit: int = 200) -> list[MaintenanceRun]:
        """Maintenance records, newest first (one terminal's, or all)."""
        ...

    def trail(self, terminal: str | None = None) -> list[TrailEntry]:
        """This session's actions (on one terminal, or all), oldest first."""
        ...

    async def faults(self, terminal: str) -> list[dict[str, Any]]:
        """Faults a trainer may inject on a simulated terminal, with ``active``."""
        ...

    async def inject(self, terminal: str, fault: str) -> None:
        """Inject a fault (simulated terminals, through the kiosk's control plane)."""
        ...

    async def clear(self, terminal: str, fault: str) -> None:
        """Clear a fault (simulated terminals)."""
        ...

    async def act(self, terminal: str, stimulus: str) -> str:
        """A customer or staff stimulus on a simulated terminal (``insert-note 20``,
        ``refill-paper``...); returns what the kiosk says happened."""
        ...

    def agent_audit(self, terminal: str, limit: int = 200) -> list[dict[str, Any]]:
        """The last lines of the terminal's agent audit log (what trainees did), when readable."""
        ...

    def scorecards(self, limit: int = 200) -> list[Scorecard]:
        """Stored trainee scorecards, newest first."""
        ...

    def library(self) -> list[ScenarioInfo]:
        """The scenario library, with what each one does (for the trainer)."""
        ...

    async def start_scenario(self, terminal: str, scenario: str) -> PlayView:
        """Play a library scenario live on a running simulated kiosk from now."""
        ...

    async def scenario_status(self, terminal: str) -> PlayView:
        """What the terminal's scenario has done so far."""
        ...

    async def stop_scenario(self, terminal: str) -> PlayView:
        """Stop the terminal's scenario (what it injected stays until cleared)."""
        ...

    async def score(self, terminal: str) -> ScoreView:
        """Score the terminal's scenario run now (its trainee's actions) and store the card."""
        ...

    async def start_class(
        self, scenario: str, trainees: int, speed: float, hours: float
    ) -> ClassView:
        """Start a class (``workbench class up``): one kiosk, key, window and handout per
        trainee; returns once every kiosk answers."""
        ...

    async def class_view(self) -> ClassView | None:
        """The class under the state directory, each trainee's progress (None: no class)."""
        ...

    async def stop_class(self) -> None:
        """Stop the class's kiosks (the records and scorecards stay)."""
        ...
