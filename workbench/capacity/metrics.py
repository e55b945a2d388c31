"""What one replication measured: a column store of fault records and the metrics drawn from it.

Every fault gets one row (times in hours from its report; infinity for a step not reached by
the end of the run). :func:`collect` turns the rows into flat metric names such as
``overall.P1.onsite`` (share meeting the on-site clock) or ``East.utilisation``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from workbench.capacity.calendar import on_hours, shift_intervals
from workbench.capacity.clauses import CLAUSES
from workbench.capacity.stats import percentiles, share

if TYPE_CHECKING:
    from workbench.capacity.model import Model

REMOTE, STANDBY, STOCKOUT, ROUTED, CLOSED_BY_PHONE = 1, 2, 4, 8, 16
"""Flags of a fault row: fixed remotely, standby swapped in, part out of stock, sent to the
remote desk (the remote-session clock counts these), closed on the hotline call."""
OVERALL = "overall"


class Columns:
    """Growable per-fault arrays, written in place by the fault processes."""

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

    def __init__(self, capacity: int) -> None:
        self.n = 0
        self._alloc(max(capacity, 16))

    def _alloc(self, size: int) -> None:
        old = self.__dict__.copy()
        self.size = size
        for name in (
            "t0", "contact", "solution", "session", "onsite", "restore", "normal", "wait"
        ):  # fmt: skip
            setattr(self, name, _grow(old.get(name), size, math.inf))
        self.deadline = _grow(old.get("deadline"), size, math.nan)
        self.region = _grow(old.get("region"), size, 0, np.int16)
        self.sev = _grow(old.get("sev"), size, 0, np.int8)
        self.flags = _grow(old.get("flags"), size, 0, np.int8)
        self.warranty = _grow(old.get("warranty"), size, False, np.bool_)

    def open(self, region: int, sev: int, t0: float, warranty: bool) -> int:
        """Start a row for a new fault; returns its index."""
        i = self.n
        if i >= self.size:
            self._alloc(self.size * 2)
        self.n = i + 1
        self.region[i] = region
        self.sev[i] = sev
        self.t0[i] = t0
        self.warranty[i] = warranty
        return i


def _grow(old: np.ndarray | None, size: int, fill: object, dtype: type = np.float64) -> np.ndarray:
    arr: np.ndarray = np.full(size, fill, dtype=dtype)
    if old is not None:
        arr[: old.size] = old
    return arr


def _severity_metrics(out: dict[str, float], scope: str, c: Columns, mask: np.ndarray) -> None:
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


def collect(model: Model) -> dict[str, float]:
    """All metrics of a finished replication, per region and overall."""
    c = model.cols
    n = c.n
    out: dict[str, float] = {}
    regions = [r.name for r in model.plan.regions]
    on_shift = _on_shift_hours(model)
    busy = [0.0] * len(regions)
    for eng in model.engineers:
        busy[eng.region] += eng.busy_hours
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
        out[f"{scope}.stockouts"] = float(sum(model.stockouts[g] for g in idx))
        out[f"{scope}.standby_uses"] = float(sum(model.standby_uses[g] for g in idx))
        out[f"{scope}.warranty_repairs"] = share(c.warranty[:n][visited])
        waits = c.wait[:n][visited]
        waits = waits[np.isfinite(waits)]
        out[f"{scope}.dispatch_wait_mean_h"] = float(waits.mean()) if waits.size else math.nan
        out[f"{scope}.max_queue"] = float(max(model.dispatcher.max_waiting[g] for g in idx))
        shift_h = sum(on_shift[g] for g in idx)
        out[f"{scope}.utilisation"] = sum(busy[g] for g in idx) / shift_h if shift_h else math.nan
        out[f"{scope}.engineers"] = float(sum(1 for e in model.engineers if e.region in idx))
        terminals = sum(model.region_terminals[g] for g in idx)
        out[f"{scope}.terminals"] = float(terminals)
        down = sum(model.region_down[g] for g in idx)
        out[f"{scope}.availability"] = (
            1 - down / (terminals * model.horizon) if terminals else math.nan
        )
        done = sum(model.inspections[g][0] for g in idx)
        out[f"{scope}.inspections"] = float(done)
        out[f"{scope}.inspections_on_time"] = (
            sum(model.inspections[g][1] for g in idx) / done if done else math.nan
        )
    out["events"] = float(model.events)
    return out


def _on_shift_hours(model: Model) -> list[float]:
    """Engineer-hours on shift inside the horizon, per region."""
    per_region = [0.0] * len(model.plan.regions)
    for name, engineers in model.by_shift.items():
        if not engineers:
            continue
        hours = on_hours(
            shift_intervals(model.plan.shifts[name], model.calendar, model.horizon, -1),
            model.horizon,
        )
        for eng in engineers:
            per_region[eng.region] += hours
    return per_region
