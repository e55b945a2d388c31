"""Tickets: a fault report and the service plan's clocks that start running when it arrives,
and the warranty that decides whether the repair is free.

Every clock is measured from the fault report (``reported``), except "service restored" for P1
and P2, which the plan counts from the engineer's arrival: its deadline is set when the
on-site clock is met. A clock is breached when it was met late, or is still open past its
deadline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from workbench import sla
from workbench.errors import ConfigError
from workbench.faults import Severity
from workbench.records import ClockRecord, TicketRecord

HOUR = 3600.0

CLOCKS: dict[str, str] = {
    "contact": "an engineer contacts the customer (5 min)",
    "solution": "a solution is given (1 h)",
    "remote_session": "remote debugging and testing starts (1 h)",
    "on_site": "an engineer is on site (P1 1 h, P2 2 h, otherwise 12 h)",
    "repair_plan": "a repair plan is given (P3: 6 h)",
    "service_restored": "service restored (P1 2 h, P2 4 h after arrival; P3 2 working days)",
    "all_normal": "all indicators normal (P1 6 h, P2 1 day)",
}
"""Every clock a ticket can carry, with the promise it measures."""


def _working_days_later(start: float, days: float) -> float:
    """``start`` plus ``days`` working days (Monday to Friday), in epoch seconds."""
    when = dt.datetime.fromtimestamp(start, dt.UTC)
    left = days
    while left > 0:
        when += dt.timedelta(days=1)
        if when.weekday() < 5:
            left -= 1
    return when.timestamp()


def clocks_for(severity: Severity, reported: float) -> tuple[ClockRecord, ...]:
    """The clocks a new ticket of this severity starts, with their deadlines."""
    terms = sla.TERMS[severity]
    clocks = [
        ClockRecord("contact", reported + sla.CONTACT_MINUTES * 60),
        ClockRecord("solution", reported + sla.SOLUTION_HOURS * HOUR),
        ClockRecord("remote_session", reported + sla.REMOTE_WINDOW_HOURS * HOUR),
        ClockRecord("on_site", reported + (terms.onsite_hours or sla.DEFAULT_ONSITE_HOURS) * HOUR),
    ]
    if terms.plan_hours is not None:
        clocks.append(ClockRecord("repair_plan", reported + terms.plan_hours * HOUR))
    if terms.restore_hours_after_arrival is not None:
        clocks.append(ClockRecord("service_restored", None))  # set when the engineer arrives
    elif terms.fix_working_days is not None:
        restored = _working_days_later(reported, terms.fix_working_days)
        clocks.append(ClockRecord("service_restored", restored))
    if terms.normal_hours is not None:
        clocks.append(ClockRecord("all_normal", reported + terms.normal_hours * HOUR))
    return tuple(clocks)


def new_ticket(
    terminal: str,
    severity: str,
    summary: str,
    reported: float,
    *,
    source: str = "branch",
    fault: str | None = None,
) -> TicketRecord:
    """A ticket for a fault report, with every clock the plan starts for its severity."""
    try:
        sev = Severity(severity)
    except ValueError:
        raise ConfigError(
            f"severity {severity!r} is not one of {', '.join(s.value for s in Severity)}"
        ) from None
    return TicketRecord(
        terminal,
        sev.value,
        summary,
        source,
        reported,
        fault=fault,
        clocks=clocks_for(sev, reported),
    )


def restore_deadline(severity: str, arrived: float) -> float | None:
    """When service must be restored, given the engineer's arrival (None if not so counted)."""
    hours = sla.TERMS[Severity(severity)].restore_hours_after_arrival
    return None if hours is None else arrived + hours * HOUR


@dataclass(frozen=True, slots=True)
class ClockState:
    """A clock as a reader sees it at ``now``."""

    clock: str
    deadline: float | None
    met: float | None
    state: str
    """``met``, ``late`` (met after the deadline), ``open``, ``breached`` (open, past it),
    ``waiting`` (no deadline yet), or ``not needed`` (unmet when the ticket closed in time)."""


def clock_states(ticket: TicketRecord, now: float) -> list[ClockState]:
    """Each clock of a ticket with whether it held.

    A closed ticket is judged at its closing: a clock still unmet then, whose deadline had not
    passed, was not needed (a fault fixed remotely needs no engineer on site).
    """
    if ticket.closed is not None:
        now = min(now, ticket.closed)
    states = []
    for c in ticket.clocks:
        unmet_at_close = ticket.closed is not None and c.met is None
        if unmet_at_close and (c.deadline is None or c.deadline >= now):
            state = "not needed"
        elif c.met is not None:
            state = "late" if c.deadline is not None and c.met > c.deadline else "met"
        elif c.deadline is None:
            state = "waiting"
        else:
            state = "breached" if now > c.deadline else "open"
        states.append(ClockState(c.clock, c.deadline, c.met, state))
    return states


def breaches(ticket: TicketRecord, now: float) -> list[str]:
    """The clocks of a ticket that did not hold, by name."""
    return [c.clock for c in clock_states(ticket, now) if c.state in ("late", "breached")]


# -- warranty ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Warranty:
    """What a terminal accepted on ``accepted`` is covered for (dates inclusive)."""

    accepted: dt.date
    hardware_until: dt.date
    software_until: dt.date
    parts_until: dt.date

    def as_dict(self) -> dict[str, str]:
        return {k: getattr(self, k).isoformat() for k in self.__slots__}


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30,
            31, 31, 30, 31, 30, 31][month - 1]  # fmt: skip
    return dt.date(year, month, min(day.day, last))


def warranty(accepted: dt.date) -> Warranty:
    """Hardware: 12 months from the day after acceptance; software: 1 year; parts: 10 years."""
    start = accepted + dt.timedelta(days=1)
    return Warranty(
        accepted,
        hardware_until=_add_months(start, 12) - dt.timedelta(days=1),
        software_until=_add_months(start, 12) - dt.timedelta(days=1),
        parts_until=_add_months(accepted, 120),
    )


def billing(
    accepted: dt.date | None,
    on: dt.date,
    *,
    parts_cost: float = 0.0,
    bid_price: float | None = None,
    defect: bool = True,
) -> dict[str, Any]:
    """Whether a repair on ``on`` is free or billable, and for how much.

    Under hardware warranty, parts that failed from a material or manufacturing defect are
    replaced free. Otherwise parts are charged at cost, capped at the bid price.
    """
    if accepted is None:
        return {"free": False, "reason": "acceptance date unknown", "charge": parts_cost}
    cover = warranty(accepted)
    if defect and on <= cover.hardware_until:
        return {
            "free": True,
            "reason": f"under warranty until {cover.hardware_until}",
            "charge": 0.0,
        }
    if on > cover.parts_until:
        return {"free": False, "reason": "spare-part supply ended", "charge": parts_cost}
    charge = parts_cost if bid_price is None else min(parts_cost, bid_price)
    reason = "out of warranty" if on > cover.hardware_until else "not a manufacturing defect"
    return {"free": False, "reason": f"{reason}: parts at cost", "charge": charge}
