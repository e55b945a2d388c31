"""What the records store holds, as typed records: the paperwork of the service organisation.

A terminal's receipts and device events, the grants of remote windows, maintenance runs with
one result per diagnostic, remedies with their re-test, tickets with their SLA clocks,
archived reports and trainees' scorecards. The store (:mod:`workbench.store`) reads and writes
these and nothing else; no other module sees a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class TerminalRecord:
    """A terminal the store has seen: where it stands and when it was accepted (warranty)."""

    id: str
    profile: str
    endpoints: dict[str, Any] | None
    first_seen: float
    last_seen: float
    region: str | None = None
    site: str | None = None
    accepted: str | None = None
    """The date (ISO ``YYYY-MM-DD``) the acceptance certificate was signed."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """A finished (cut) receipt, as text with placeholders for graphics."""

    id: int
    terminal: str
    sim_time: float
    wall_time: float
    text: str


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """One device event: a fault raised or cleared, a note credited, paper refilled..."""

    id: int
    terminal: str
    device: str
    sim_time: float
    wall_time: float
    kind: str
    detail: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """A remote window granted: who, where, which commands, from when to when."""

    serial: int
    terminals: tuple[str, ...]
    engineer: str
    ticket: str | None
    allow: tuple[str, ...]
    valid_after: float
    valid_before: float
    issued: float


@dataclass(frozen=True, slots=True)
class DiagResult:
    """One diagnostic's result within a maintenance run."""

    test: str
    status: str
    suspect: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def finding_text(test: str, status: str, suspect: str | None, detail: Any = None) -> str:
    """A test that did not pass, in a line: ``print_head fail: printer.paper_out``, or for a test
    that could not be carried out its reason, ``power error (not tested: ...)``."""
    text = f"{test} {status}" + (f": {suspect}" if suspect else "")
    return f"{text} ({detail})" if status == "error" and detail else text


@dataclass(frozen=True, slots=True)
class MaintenanceRun:
    """A suite run on a terminal (an inspection, a quick check...) with its results.

    ``id`` is 0 until the store has assigned one. A run is written whole, in one transaction:
    a reader sees all of its results or none of the run.
    """

    terminal: str
    suite: str
    engineer: str | None
    started: float
    finished: float | None
    outcome: str | None
    results: tuple[DiagResult, ...] = ()
    ticket: int | None = None
    id: int = 0
    error: str | None = None
    """Why the run broke, when it did: the terminal refused or could not be reached, the window
    closed mid-run (None for a run that went through)."""

    @property
    def counts(self) -> dict[str, int]:
        """How many tests passed, warned and failed."""
        counts = {"pass": 0, "warn": 0, "fail": 0}
        for r in self.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        return counts

    @property
    def findings(self) -> tuple[DiagResult, ...]:
        """The tests that did not pass, in the order they ran."""
        return tuple(r for r in self.results if r.status != "pass")

    def what_went_wrong(self) -> str:
        """One line of what a maintenance record found: each failing test with its suspected
        fault, why a test could not be carried out (``error``), and why the run broke."""
        parts = [
            finding_text(f.test, f.status, f.suspect, f.detail.get("detail")) for f in self.findings
        ]
        if self.error:
            parts.append(self.error)
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class RemedyRecord:
    """A remedy applied remotely, whether it cleared the fault, and the re-test's status."""

    terminal: str
    action: str
    engineer: str | None
    applied: float
    cleared: bool
    retest: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    ticket: int | None = None
    id: int = 0


@dataclass(frozen=True, slots=True)
class ClockRecord:
    """One SLA clock of a ticket: its deadline and when it was met (epoch seconds)."""

    clock: str
    deadline: float | None
    met: float | None = None


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """A fault report: the terminal, its severity and the SLA clocks that run from it."""

    terminal: str
    severity: str
    summary: str
    source: str
    reported: float
    status: str = "open"
    fault: str | None = None
    closed: float | None = None
    resolution: str | None = None
    billing: dict[str, Any] | None = None
    clocks: tuple[ClockRecord, ...] = ()
    id: int = 0


@dataclass(frozen=True, slots=True)
class ReportRecord:
    """An archived report: its bytes and their SHA-256, so a copy can be checked against it."""

    kind: str
    subject: str
    created: float
    format: str
    sha256: str
    content: bytes
    id: int = 0


@dataclass(frozen=True, slots=True)
class Scorecard:
    """A trainee's score on a scenario, with the detail of each scored item."""

    scenario: str
    trainee: str
    terminal: str | None
    created: float
    score: float
    max_score: float
    detail: dict[str, Any] = field(default_factory=dict)
    id: int = 0
