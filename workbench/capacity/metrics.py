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
    blocking (P1, P2) fault until every blocking fault on it is restored; a stretch still open
    at the end of the run is not counted."""
    blocking = rows.sev < 2
    term = rows.terminal[blocking]
    start = rows.t0[blocking]
    stop = start + rows.restore[blocking]
    region = rows.region[blocking]
    order = np.lexsort((start, term))
    out = [0.0] * regions
    last, since, until, reg = -1, 0.0, 0.0, 0
    for t, s, e, g in zip(
        term[order].tolist(), start[order].tolist(), stop[order].tolist(),
        region[order].tolist(), strict=True,
    ):  # fmt: skip
        if t != last or s > until:
            if last >= 0 and until < math.inf:
                out[reg] += max(0.0, min(until, horizon) - since)
            last, since, until, reg = t, s, e, g
        elif e > until:
            until = e
    if last >= 0 and until < math.inf:
        out[reg] += max(0.0, min(until, horizon) - since)
    return out


def _severity_metrics(out: dict[str, float], scope: str, c: Rows, mask: np.ndarray) -> None:
    """Share meeting each clause's clock (and how many faults it counted), plus percentiles."""
    n = c.n
    flags = c.flags[:n]
    sev_of = {"P1": 0, "P2": 1, "P3": 2}
    by_sev = {s: mask & (c.sev[:n] == k) for s, k in sev_of.items()}
    for clause in CLAUSES:
        m = by_sev[clause.severity]
        if clause.clock == "onsite":
            m = m & ((flags & (REMOTE | CLOSED_BY_PHONE)) == 0)
        elif clause.clock == "session":
            m = m & ((flags & ROUTED) != 0)
        if clause.clock in ("restore", "fix"):
            with np.errstate(invalid="ignore"):
                met = c.restore[:n][m] <= c.deadline[:n][m]
        else:
            column = c.solution if clause.clock == "plan" else getattr(c, clause.clock)
            met = column[:n][m] <= (clause.hours if clause.hours is not None else np.inf)
        key = f"{scope}.{clause.metric}"
        out[key] = share(met)
        out[f"{key}.n"] = float(met.size)
    for sev, m in by_sev.items():
        key = f"{scope}.{sev}"
        out[f"{key}.faults"] = float(m.sum())
        onsite = c.onsite[:n][m & ((flags & (REMOTE | CLOSED_BY_PHONE)) == 0)]
        restore = c.restore[:n][m]
        for q, v in percentiles(onsite).items():
            out[f"{key}.onsite_p{q}_h"] = v
        for q, v in percentiles(restore).items():
            out[f"{key}.restore_p{q}_h"] = v
        for q, v in percentiles(c.contact[:n][m] * 60).items():
            out[f"{key}.contact_p{q}_min"] = v


def collect(tally: Tally) -> dict[str, float]:
    """All metrics of a finished replication, per region and overall."""
    c = tally.rows
    n = c.n
    out: dict[str, float] = {}
    regions = tally.regions
    down_by_region = down_hours(c, len(regions), tally.horizon)
    scopes: list[tuple[str, np.ndarray, list[int]]] = [
        (OVERALL, np.ones(n, dtype=bool), list(range(len(regions))))
    ]
    scopes += [(name, c.region[:n] == g, [g]) for g, name in enumerate(regions)]
    for scope, mask, idx in scopes:
        _severity_metrics(out, scope, c, mask)
        flags = c.flags[:n][mask]
        visited = mask & ((c.flags[:n] & (REMOTE | CLOSED_BY_PHONE)) == 0)
        out[f"{scope}.faults"] = float(mask.sum())
        out[f"{scope}.remote_resolved"] = share((flags & REMOTE) != 0)
        out[f"{scope}.phone_resolved"] = share((flags & CLOSED_BY_PHONE) != 0)
        out[f"{scope}.visits"] = float(visited.sum())
        out[f"{scope}.stockouts"] = float(sum(tally.stockouts[g] for g in idx))
        out[f"{scope}.standby_uses"] = float(sum(tally.standby_uses[g] for g in idx))
        out[f"{scope}.warranty_repairs"] = share(c.warranty[:n][visited])
        waits = c.wait[:n][visited]
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
