"""The service plan's promises as data: response clocks by severity and the remote window.

Numbers come from the service plan (docs/service-plan.md); the capacity model, the remote
window authority and the reports all read them from here so that one change moves them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.faults import Severity

CONTACT_MINUTES = 5.0
"""A dedicated engineer contacts the customer within 5 minutes of a fault report."""

SOLUTION_HOURS = 1.0
"""A solution is given within 1 hour."""

REMOTE_WINDOW_HOURS = 1.0
"""Remote debugging and testing responds within 1 hour: the length of a remote grant."""

DEFAULT_ONSITE_HOURS = 12.0
"""Terminal equipment: an engineer on site within 12 hours."""

INSPECTIONS_PER_YEAR = 4
"""Terminals are inspected quarterly against the 11-item checklist."""


@dataclass(frozen=True, slots=True)
class SeverityTerms:
    """The clocks a fault of one severity is measured against (hours; None where not promised)."""

    severity: Severity
    onsite_hours: float | None
    restore_hours_after_arrival: float | None
    normal_hours: float | None
    plan_hours: float | None = None
    fix_working_days: float | None = None


TERMS: dict[Severity, SeverityTerms] = {
    Severity.P1: SeverityTerms(
        Severity.P1, onsite_hours=1.0, restore_hours_after_arrival=2.0, normal_hours=6.0
    ),
    Severity.P2: SeverityTerms(
        Severity.P2, onsite_hours=2.0, restore_hours_after_arrival=4.0, normal_hours=24.0
    ),
    Severity.P3: SeverityTerms(
        Severity.P3,
        onsite_hours=None,
        restore_hours_after_arrival=None,
        normal_hours=None,
        plan_hours=6.0,
        fix_working_days=2.0,
    ),
}

CHECKLIST: tuple[tuple[str, str], ...] = (
    ("exterior", "exterior complete and undamaged"),
    ("power", "power supply normal"),
    ("network", "network normal"),
    ("touchscreen", "touchscreen positioning accurate (calibration)"),
    ("display", "display brightness normal"),
    ("card_reader", "card reader working"),
    ("bill_validator", "bill validator (banknote acceptor) working"),
    ("cash_box", "cash box normal"),
    ("print_head", "print head cleaned"),
    ("host_pc", "computer (host PC) working"),
    ("system_software", "system software functioning"),
)
"""The quarterly inspection checklist, item by item: (diagnostic name, what it checks)."""
