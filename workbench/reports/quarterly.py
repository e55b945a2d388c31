"""The quarterly service report a customer receives: how the terminals ran, what failed and what
to do about it, the service delivered against the plan's clocks, and next quarter's plan.

Built from the records of one quarter: tickets (with their SLA clocks) and maintenance runs.
Availability counts a terminal down from the report of a P1 or P2 ticket until it was closed
(service restored); staffing for next quarter is sized with Erlang C from the quarter's own
ticket rate and on-site work time, the same formulas the capacity model is checked against.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from workbench.capacity.erlang import erlang_c
from workbench.errors import ConfigError
from workbench.records import TerminalRecord, TicketRecord
from workbench.store import RecordStore
from workbench.tickets import breaches

_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")

MEASURES = {
    "printer": "train branch staff to change paper rolls at near-end; clean print heads at each "
    "inspection",
    "bill_validator": "clean the note path and sensors monthly; check the cash box is emptied on "
    "schedule",
    "cash_box": "collect cash more often at busy sites",
    "card_reader": "use cleaning cards weekly at busy sites",
    "touchscreen": "recalibrate at each inspection; check the bezel for pressure points",
    "display": "set brightness schedules for sunlit halls",
    "ups": "test batteries each quarter and replace those under 80 % capacity",
    "network": "ask the branch's carrier for a line check; add a 4G backup link",
    "host_pc": "clean filters and check fans at each inspection",
    "system_software": "watch the application's health endpoint and restart on alarm",
    "exterior": "check the cabinet door and locks at each inspection",
}
"""Improvement measures by device, for the devices that fail most."""


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    """The first day of a quarter (``2026Q3``) and the first day after it."""
    match = _QUARTER.match(quarter.strip())
    if not match:
        raise ConfigError(f"quarter {quarter!r} must look like 2026Q3")
    year, q = int(match.group(1)), int(match.group(2))
    start = dt.date(year, 3 * q - 2, 1)
    end = dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    return start, end


def _epoch(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time()).astimezone().timestamp()


@dataclass(frozen=True, slots=True)
class Availability:
    """One terminal's quarter: hours down and the share of the quarter it was up."""

    terminal: str
    region: str
    down_hours: float
    share: float


@dataclass(slots=True)
class QuarterlyReport:
    """Everything the quarterly service report shows."""

    quarter: str
    start: dt.date
    end: dt.date
    availability: list[Availability] = field(default_factory=list)
    by_region: dict[str, float] = field(default_factory=dict)
    pareto_device: list[tuple[str, int]] = field(default_factory=list)
    pareto_fault: list[tuple[str, int]] = field(default_factory=list)
    found_at_inspection: list[tuple[str, int]] = field(default_factory=list)
    by_month: dict[str, int] = field(default_factory=dict)
    measures: list[str] = field(default_factory=list)
    tickets_by_severity: dict[str, int] = field(default_factory=dict)
    sla: list[tuple[str, int, int]] = field(default_factory=list)
    """(clock, held, total) over the quarter's tickets."""
    remote_resolved: int = 0
    on_site: int = 0
    inspections_done: int = 0
    inspections_due: list[str] = field(default_factory=list)
    parts_to_stock: list[tuple[str, int]] = field(default_factory=list)
    engineers_needed: int = 0
    staffing_basis: str = ""


def _device(fault: str | None) -> str:
    return fault.split(".", 1)[0] if fault else "unclassified"


def _availability(
    terminals: list[TerminalRecord], tickets: list[TicketRecord], start: float, end: float
) -> list[Availability]:
    hours = (end - start) / 3600
    down: dict[str, float] = defaultdict(float)
    for t in tickets:
        if t.severity not in ("P1", "P2"):
            continue
        stop = min(t.closed if t.closed is not None else end, end)
        down[t.terminal] += max(0.0, stop - max(t.reported, start)) / 3600
    known = {t.id: t for t in terminals}
    ids = sorted(set(known) | set(down))
    return [
        Availability(
            tid,
            (known[tid].region if tid in known else None) or "unassigned",
            round(down[tid], 2),
            max(0.0, 1 - down[tid] / hours),
        )
        for tid in ids
    ]


def _engineers(tickets: list[TicketRecord], days: float) -> tuple[int, str]:
    """Engineers for next quarter: Erlang C with P(wait) <= 20 % on this quarter's on-site load."""
    visits = [t for t in tickets if any(c.clock == "on_site" and c.met for c in t.clocks)]
    if not visits:
        return 0, "no on-site visits this quarter"
    work_h = []
    for t in visits:
        arrived = next(c.met for c in t.clocks if c.clock == "on_site")
        assert arrived is not None
        if t.closed is not None and t.closed > arrived:
            work_h.append((t.closed - arrived) / 3600)
    mean_work = sum(work_h) / len(work_h) if work_h else 2.0
    rate = len(visits) / (days * 24)  # visits an hour
    service = 1 / (mean_work + 1.0)  # an hour's travel each way counted once
    servers = max(1, math.ceil(rate / service))
    while servers < 10_000 and erlang_c(rate, service, servers) > 0.2:
        servers += 1
    return servers, (
        f"{len(visits)} visits, {mean_work:.1f} h on site + 1 h travel each; "
        "Erlang C, P(wait) <= 20 %"
    )


def build_quarterly(store: RecordStore, quarter: str) -> QuarterlyReport:
    """The report for one quarter from the tickets and maintenance runs on record."""
    start_day, end_day = quarter_bounds(quarter)
    start, end = _epoch(start_day), _epoch(end_day)
    report = QuarterlyReport(quarter.upper(), start_day, end_day)
    tickets = [t for t in store.tickets(since=start) if t.reported < end]
    terminals = store.terminals()
    report.availability = _availability(terminals, tickets, start, end)
    regions: dict[str, list[float]] = defaultdict(list)
    for a in report.availability:
        regions[a.region].append(a.share)
    report.by_region = {r: sum(v) / len(v) for r, v in sorted(regions.items())}
    runs = [r for r in store.runs(since=start) if r.started < end]
    faults = Counter(t.fault or "unclassified" for t in tickets)
    report.found_at_inspection = Counter(
        f.suspect or f.test for r in runs if r.suite == "inspection" for f in r.findings
    ).most_common()
    devices = Counter(_device(t.fault) for t in tickets)
    report.pareto_device = devices.most_common()
    report.pareto_fault = faults.most_common()
    months: Counter[str] = Counter(
        dt.datetime.fromtimestamp(t.reported).strftime("%Y-%m") for t in tickets
    )
    report.by_month = dict(sorted(months.items()))
    report.measures = [
        f"{device}: {MEASURES[device]}"
        for device, _ in devices.most_common(3)
        if device in MEASURES
    ]
    report.tickets_by_severity = dict(sorted(Counter(t.severity for t in tickets).items()))
    held: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for t in tickets:
        late = set(breaches(t, min(end, dt.datetime.now().timestamp())))
        for c in t.clocks:
            if c.deadline is None:
                continue
            total[c.clock] += 1
            held[c.clock] += c.clock not in late
    report.sla = [(c, held[c], total[c]) for c in total]
    report.on_site = sum(any(c.clock == "on_site" and c.met for c in t.clocks) for t in tickets)
    report.remote_resolved = sum(t.status == "closed" for t in tickets) - report.on_site
    inspected = {r.terminal for r in runs if r.suite == "inspection"}
    report.inspections_done = len(inspected)
    report.inspections_due = sorted({t.id for t in terminals})
    parts = Counter(
        t.fault
        for t in tickets
        if t.fault and any(c.clock == "on_site" and c.met for c in t.clocks)
    )
    report.parts_to_stock = [(f, math.ceil(n * 1.2)) for f, n in parts.most_common()]
    days = (end - start) / 86400
    report.engineers_needed, report.staffing_basis = _engineers(tickets, days)
    return report
