"""The service plan's promises as the capacity model measures them: one clause per clock and severity.

Every clock runs from the **fault report** (the moment the customer reports the fault), so a
late arrival counts against the restore clock too: "P1 restored within 2 h of arrival, on site
within 1 h" is measured as "restored within 3 h of the report". Each clause has a key used on
the command line and in plans (``p1_onsite``), the population it is measured over, and a label
that says the limit and that it counts from the report.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.faults import Severity
from workbench.sla import (
    CONTACT_MINUTES,
    DEFAULT_ONSITE_HOURS,
    REMOTE_WINDOW_HOURS,
    SOLUTION_HOURS,
    TERMS,
)

DEFAULT_TARGET = 0.95
"""Share of faults that must meet a clock for its clause to hold, unless a plan or --target says otherwise."""


@dataclass(frozen=True, slots=True)
class Clause:
    """One promise for one severity: a clock, its limit in hours from the report, who it counts."""

    severity: str
    clock: str
    hours: float | None
    label: str
    population: str

    @property
    def key(self) -> str:
        """Command-line and plan name, e.g. ``p1_onsite``."""
        return f"{self.severity.lower()}_{self.clock}"

    @property
    def metric(self) -> str:
        """The metric suffix in a summary, e.g. ``P1.onsite`` (prefixed with a scope)."""
        return f"{self.severity}.{self.clock}"


def _h(hours: float) -> str:
    return f"{hours:g} h"


def _clauses() -> tuple[Clause, ...]:
    out: list[Clause] = []
    for sev in (Severity.P1, Severity.P2, Severity.P3):
        terms = TERMS[sev]
        s = str(sev)
        out.append(
            Clause(s, "contact", CONTACT_MINUTES / 60, f"contact <= {CONTACT_MINUTES:g} min", "all")
        )
        out.append(
            Clause(s, "solution", SOLUTION_HOURS, f"solution <= {_h(SOLUTION_HOURS)}", "all")
        )
        out.append(
            Clause(
                s,
                "session",
                REMOTE_WINDOW_HOURS,
                f"remote session <= {_h(REMOTE_WINDOW_HOURS)}",
                "remote-fixable faults",
            )
        )
        if terms.plan_hours is not None:
            out.append(
                Clause(s, "plan", terms.plan_hours, f"repair plan <= {_h(terms.plan_hours)}", "all")
            )
        onsite = terms.onsite_hours or DEFAULT_ONSITE_HOURS
        out.append(Clause(s, "onsite", onsite, f"on site <= {_h(onsite)}", "engineer visits"))
        if terms.restore_hours_after_arrival is not None:
            total = onsite + terms.restore_hours_after_arrival
            out.append(
                Clause(
                    s,
                    "restore",
                    total,
                    f"restored <= {_h(total)} (on site {_h(onsite)} + "
                    f"{_h(terms.restore_hours_after_arrival)})",
                    "all",
                )
            )
        if terms.fix_working_days is not None:
            out.append(
                Clause(s, "fix", None, f"fixed <= {terms.fix_working_days:g} working days", "all")
            )
        if terms.normal_hours is not None:
            out.append(
                Clause(
                    s,
                    "normal",
                    terms.normal_hours,
                    f"all normal <= {_h(terms.normal_hours)}",
                    "all",
                )
            )
    return tuple(out)


CLAUSES: tuple[Clause, ...] = _clauses()
"""Every clause, in the order the service plan lists them, P1 first."""

BY_KEY: dict[str, Clause] = {c.key: c for c in CLAUSES}
"""Clauses by their command-line name."""

CLOCKS: dict[str, tuple[str, ...]] = {
    s: tuple(c.clock for c in CLAUSES if c.severity == s) for s in ("P1", "P2", "P3")
}
"""The clocks measured per severity."""
