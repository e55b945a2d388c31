"""What one replication measured: one row per fault, per-region tallies, and the metrics drawn from them.

Every fault gets one row (times in hours from its report; infinity for a step not reached by
the end of the run). :func:`collect` turns the rows into flat metric names such as
``overall.P1.onsite`` (share meeting the on-site clock) or ``East.utilisation``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from workbench.capacity.calendar import BusinessCalendar, on_hours, shift_intervals
from workbench.capacity.clauses import CLAUSES
from workbench.capacity.config import Plan
from workbench.capacity.stats import percentiles, share

REMOTE, STANDBY, STOCKOUT, ROUTED, CLOSED_BY_PHONE = 1, 2, 4, 8, 16
"""Flags of a fault row: fixed remotely, standby swapped in, part out of stock, sent to the
remote desk (the remote-session clock counts these), closed on the hotline call."""
OVERALL = "overall"


@dataclass
class Rows:
    """One row per fault of a replication, as numpy columns: report time, the clocks (hours
    from the report; inf for a step not reached by the end of the run), the restore budget,
    region, severity index, flags, whether under warranty, and the terminal."""

    t0: np.ndarray
    contact: np.ndarray
    solution: np.ndarray
    session: np.ndarray
    onsite: np.ndarray
    restore: np.ndarray
    normal: np.ndarray
    wait: np.ndarray
    deadline: np.ndarray
    region: np.ndarray
    sev: np.ndarray
    flags: np.ndarray
    warranty: np.ndarray
    terminal: np.ndarray

    @property
    def n(self) -> int:
        """How many faults."""
        return int(self.t0.size)

    def take(self, index: np.ndarray | slice) -> Rows:
        """The rows at ``index`` (a slice gives views, no copies)."""
        return Rows(**{k: v[index] for k, v in vars(self).items()})


@dataclass
class Tally:
    """Everything :func:`collect` needs of a finished replication, per region (in plan order)."""

    regions: list[str]
    horizon: float
    rows: Rows
    engineers: list[int]
    on_shift: list[float]
    busy: list[float]
    terminals: list[int]
    stockouts: list[int]
    standby_uses: list[int]
    max_queue: list[int]
    inspections: list[tuple[int, int]]
    events: int


def down_hours(rows: Rows, regions: int, horizon: float) -> list[float]:
    """Terminal-hours down inside the horizon per region: a terminal is down from the report of a
    blocking (P1, P2) fault until every blocking fault on it is restored, or until the horizon
    for a fault never restored (no engineer came, even in the drain after the horizon). Such a
    stretch used to be left out, so a plan with no engineers showed 100 % availability."""
    blocking = rows.sev < 2
    term = rows.terminal[blocking]
    start = rows.t0[blocking]
    stop = start + rows.restore[blocking]
    region = rows.region[blocking]
    if not term.size:
        return [0.0] * regions
    order = np.lexsort((start, term))
    term, start, stop, region = term[order], start[order], stop[order], region[order]
    # The latest stop so far on the same terminal: a running maximum that restarts with each
    # terminal, taken exactly over (terminal, rank of stop) keys.
    group = np.cumsum(np.r_[True, term[1:] != term[:-1]]) - 1
    rank = np.empty(stop.size, dtype=np.int64)
    by_stop = np.argsort(stop, kind="stable")
    rank[by_stop] = np.arange(stop.size)
    running = np.maximum.accumulate(group * stop.size + rank) - group * stop.size
    until = stop[by_stop][running]
    first = np.r_[True, (group[1:] != group[:-1]) | (start[1:] > until[:-1])]
    heads = np.flatnonzero(first)
    ends = np.maximum.reduceat(stop, heads)
    hours = np.maximum(0.0, np.minimum(ends, horizon) - start[heads])
    return np.bincount(region[heads], weights=hours, minlength=regions).tolist()


def _severity_metrics(out: dict[str, float], scope: str, c: Rows) -> None:
    """Share meeting each clause's clock (and how many faults it counted), plus percentiles."""
    flags = c.flags
    sev_of = {"P1": 0, "P2": 1, "P3": 2}
    by_sev = {s: c.sev == k for s, k in sev_of.items()}
    for clause in CLAUSES:
        m = by_sev[clause.severity]
        if clause.clock == "onsite":
            m = m & ((flags & (REMOTE | CLOSED_BY_PHONE)) == 0)
        elif clause.clock == "session":
            m = m & ((flags & ROUTED) != 0)
        if clause.clock in ("restore", "fix"):
            with np.errstate(invalid="ignore"):
                met = c.restore[m] <= c.deadline[m]
        else:
            column = c.solution if clause.clock == "plan" else getattr(c, clause.clock)
            met = column[m] <= (clause.hours if clause.hours is not None else np.inf)
        key = f"{scope}.{clause.metric}"
        out[key] = share(met)
        out[f"{key}.n"] = float(met.size)
    for sev, m in by_sev.items():
        key = f"{scope}.{sev}"
        out[f"{key}.faults"] = float(m.sum())
        onsite = c.onsite[m & ((flags & (REMOTE | CLOSED_BY_PHONE)) == 0)]
        restore = c.restore[m]
        for q, v in percentiles(onsite).items():
            out[f"{key}.onsite_p{q}_h"] = v
        for q, v in percentiles(restore).items():
            out[f"{key}.restore_p{q}_h"] = v
        for q, v in percentiles(c.contact[m] * 60).items():
            out[f"{key}.contact_p{q}_min"] = v


def collect(tally: Tally) -> dict[str, float]:
    """All metrics of a finished replication, per region and overall."""
    out: dict[str, float] = {}
    regions = tally.regions
    down_by_region = down_hours(tally.rows, len(regions), tally.horizon)
    # Rows in region order, so each region is a slice (views) rather than a mask over all.
    c = tally.rows.take(np.argsort(tally.rows.region, kind="stable"))
    bounds = np.searchsorted(c.region, np.arange(len(regions) + 1), side="left")
    scopes: list[tuple[str, Rows, list[int]]] = [(OVERALL, c, list(range(len(regions))))]
    scopes += [
        (name, c.take(slice(bounds[g], bounds[g + 1])), [g]) for g, name in enumerate(regions)
    ]
    for scope, rows, idx in scopes:
        _severity_metrics(out, scope, rows)
        flags = rows.flags
        visited = (flags & (REMOTE | CLOSED_BY_PHONE)) == 0
        out[f"{scope}.faults"] = float(rows.n)
        out[f"{scope}.remote_resolved"] = share((flags & REMOTE) != 0)
        out[f"{scope}.phone_resolved"] = share((flags & CLOSED_BY_PHONE) != 0)
        out[f"{scope}.visits"] = float(visited.sum())
        out[f"{scope}.stockouts"] = float(sum(tally.stockouts[g] for g in idx))
        out[f"{scope}.standby_uses"] = float(sum(tally.standby_uses[g] for g in idx))
        out[f"{scope}.warranty_repairs"] = share(rows.warranty[visited])
        waits = rows.wait[visited]
        waits = waits[np.isfinite(waits)]
        out[f"{scope}.dispatch_wait_mean_h"] = float(waits.mean()) if waits.size else math.nan
        out[f"{scope}.max_queue"] = float(max(tally.max_queue[g] for g in idx))
        shift_h = sum(tally.on_shift[g] for g in idx)
        busy = sum(tally.busy[g] for g in idx)
        out[f"{scope}.utilisation"] = busy / shift_h if shift_h else math.nan
        out[f"{scope}.engineers"] = float(sum(tally.engineers[g] for g in idx))
        terminals = sum(tally.terminals[g] for g in idx)
        out[f"{scope}.terminals"] = float(terminals)
        down = sum(down_by_region[g] for g in idx)
        out[f"{scope}.availability"] = (
            1 - down / (terminals * tally.horizon) if terminals else math.nan
        )
        done = sum(tally.inspections[g][0] for g in idx)
        out[f"{scope}.inspections"] = float(done)
        out[f"{scope}.inspections_on_time"] = (
            sum(tally.inspections[g][1] for g in idx) / done if done else math.nan
        )
    out["events"] = float(tally.events)
    return out


def on_shift_hours(plan: Plan, calendar: BusinessCalendar, horizon: float) -> list[float]:
    """Engineer-hours on shift inside the horizon, per region."""
    per_region = [0.0] * len(plan.regions)
    hours = {
        name: on_hours(shift_intervals(shift, calendar, horizon, -1), horizon)
        for name, shift in plan.shifts.items()
    }
    for g, region in enumerate(plan.regions):
        for centre in region.centres:
            for grp in centre.engineers:
                per_region[g] += hours[grp.shift] * grp.count
    return per_region
