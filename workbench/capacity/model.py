"""The fleet and its support organisation as one SimPy model: faults in, service-level clocks out.

The fault stream (:mod:`workbench.capacity.stream`) draws every failure of the fleet from one
pooled source with all of its random durations, so two plans run on the same seed see the
same faults (common random numbers). The front line (:mod:`workbench.capacity.frontline`)
takes every fault through the hotline and the remote desk; what they do not fix reaches the
field, where each region (:mod:`workbench.capacity.field`) dispatches its nearest free
qualified engineer, travel, the part (a stock-out waits for the lead time), repair or a
standby swap, and quarterly inspections compete for the same engineers. Engineers never
cross regions, so the regions run one after another or in parallel worker processes, with
the same figures either way. Time unit: hours; hour 0 is the plan's start date.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from workbench.capacity.calendar import BusinessCalendar
from workbench.capacity.config import Plan
from workbench.capacity.field import SKILLS, FieldResult, Work, run_field
from workbench.capacity.frontline import front_line
from workbench.capacity.metrics import Rows, Tally, collect, on_shift_hours
from workbench.capacity.rates import resolve
from workbench.capacity.stream import Faults, FaultStream, Group, profiles_of
from workbench.faults import FaultCatalog, Severity
from workbench.sla import TERMS

SEVERITIES = (Severity.P1, Severity.P2, Severity.P3)
DRAIN_HOURS = 14 * 24.0
"""After the horizon no new work arrives; open faults get this long to finish (then count late)."""


@dataclass(frozen=True)
class Inputs:
    """What the model takes from the rest of the workbench: the catalog and the profiles' devices."""

    catalog: FaultCatalog
    profiles: Mapping[str, Sequence[str]]


class Model:
    """One replication of a plan; :meth:`run` returns a flat mapping of metric name to value."""

    def __init__(self, plan: Plan, inputs: Inputs, seed: int, years: float | None = None) -> None:
        self.plan = plan
        self.horizon = (years if years is not None else plan.years) * 365 * 24.0
        self.end = self.horizon + DRAIN_HOURS
        self.seed = seed
        self.calendar = BusinessCalendar(plan.calendar, int(self.horizon // 24) + 30)
        self._build(inputs)

    def _build(self, inputs: Inputs) -> None:
        plan = self.plan
        self.rates = resolve(plan, inputs.catalog)
        profiles = profiles_of(plan, inputs.catalog, inputs.profiles, self.rates)
        start = plan.calendar.start_date
        self.centres = [c for r in plan.regions for c in r.centres]
        self.centre_region = [g for g, r in enumerate(plan.regions) for _ in r.centres]
        self.groups: list[Group] = []
        self.group_first: list[int] = []
        cum: list[float] = []
        total, terminals = 0.0, 0
        for c, centre in enumerate(self.centres):
            for f in centre.fleet:
                if f.count == 0:
                    continue
                prof = profiles[f.profile]
                warranty = (f.installed + timedelta(days=1 + 365) - start).days * 24.0
                skill = SKILLS.index(plan.skills[f.profile])
                region = self.centre_region[c]
                self.groups.append(Group(c, region, prof, skill, f.count, warranty))
                self.group_first.append(terminals)
                terminals += f.count
                total += f.count * prof.rate
                cum.append(total)
        self.terminals = terminals
        self.total_rate = total
        self.stream = FaultStream(
            plan, self.groups, self.group_first, cum, self.centres, list(profiles.values()),
            self.seed,
        )  # fmt: skip
        self.region_terminals = [0] * len(plan.regions)
        for g in self.groups:
            self.region_terminals[g.region] += g.count

    # -- running ------------------------------------------------------------------------
    def run(self) -> dict[str, float]:
        """Simulate the horizon plus the drain, region by region; the replication's metrics."""
        works = self.works()
        return self.collect(
            [run_field(self.plan, r, w, self.horizon, self.end) for r, w in enumerate(works)]
        )

    def works(self) -> list[Work]:
        """Draw the faults, run them through the front line, and hand each region its work."""
        faults = self.stream.until(self.horizon) if self.total_rate > 0 else Faults.empty()
        self.faults = faults
        self.front = front = front_line(self.plan, faults, self.end)
        groups = self.groups
        centre_of = np.array([g.centre for g in groups] or [0])[faults.group]
        skill_of = np.array([g.skill for g in groups] or [0])[faults.group]
        region_of = np.array([g.region for g in groups] or [0])[faults.group]
        self.sev = sev = np.array([SEVERITIES.index(m.severity) for m in faults.modes] or [0])[
            faults.mode
        ].astype(np.int8)
        self.budget = budget = self._budgets(faults, sev)
        part_names = sorted({m.part for m in faults.modes if m.part})
        part_of = np.array(
            [part_names.index(m.part) if m.part else -1 for m in faults.modes] or [-1]
        )[faults.mode]
        self.region_of = region_of
        visits = self._visits()
        works = []
        for r in range(len(self.plan.regions)):
            rows = np.flatnonzero((region_of == r) & np.isfinite(front.entry))
            rows = rows[np.argsort(front.entry[rows], kind="stable")]
            v = visits["region"] == r
            works.append(
                Work(
                    rows.tolist(),
                    faults.t0[rows].tolist(),
                    front.entry[rows].tolist(),
                    centre_of[rows].tolist(),
                    skill_of[rows].tolist(),
                    sev[rows].tolist(),
                    part_of[rows].tolist(),
                    budget[rows].tolist(),
                    faults.travel[rows].tolist(),
                    faults.repair[rows].tolist(),
                    faults.lead[rows].tolist(),
                    faults.travel2[rows].tolist(),
                    part_names,
                    visits["at"][v].tolist(),
                    visits["centre"][v].astype(np.int64).tolist(),
                    visits["skill"][v].astype(np.int64).tolist(),
                    visits["travel"][v].tolist(),
                    visits["work"][v].tolist(),
                    visits["due"][v].tolist(),
                )
            )
        return works

    def _budgets(self, faults: Faults, sev: np.ndarray) -> np.ndarray:
        """Hours from each report to its restore deadline: on site + restore time, or P3's
        working days."""
        budget = np.zeros(len(faults))
        for s, severity in enumerate(SEVERITIES):
            terms = TERMS[severity]
            m = sev == s
            if terms.onsite_hours is not None and terms.restore_hours_after_arrival is not None:
                budget[m] = terms.onsite_hours + terms.restore_hours_after_arrival
            else:
                add = self.calendar.add_working_days
                days = terms.fix_working_days or 2.0
                budget[m] = [add(t, days) - t for t in faults.t0[m].tolist()]
        return budget

    def _visits(self) -> dict[str, np.ndarray]:
        """Every inspection, in time order: region, time, centre, skill, travel, work, due.

        Each period visits every terminal once, in a random order, spread over its first three
        quarters; the draws come from a generator of their own, so faults are not disturbed.
        """
        spec = self.plan.inspection
        names = ("region", "at", "centre", "skill", "travel", "work", "due")
        if not (spec.enabled and spec.per_year > 0 and self.terminals):
            return {k: np.zeros(0) for k in names}
        rng = np.random.default_rng(self.seed * 7919 + 17)
        period = 365 * 24.0 / spec.per_year
        order = np.repeat(np.arange(len(self.groups)), [g.count for g in self.groups])
        gap = 0.75 * period / order.size
        parts = []
        start = 0.0
        while start < self.horizon:
            at = start + np.arange(order.size) * gap
            g = rng.permutation(order)[at < self.horizon]
            at = at[: g.size]
            z, u = rng.standard_normal((2, g.size)), rng.random((2, g.size))
            centre = np.array([grp.centre for grp in self.groups])[g]
            travel = np.zeros(g.size)
            for c, spot in enumerate(self.centres):
                m = centre == c
                travel[m] = spot.travel.transform(z[0][m], u[0][m])
            parts.append((
                np.array([grp.region for grp in self.groups])[g], at, centre,
                np.array([grp.skill for grp in self.groups])[g], travel,
                spec.minutes.transform(z[1], u[1], 1 / 60),
                np.full(g.size, min(start + period, self.end)),
            ))  # fmt: skip
            start += period
        return {
            k: np.concatenate(col) for k, col in zip(names, zip(*parts, strict=True), strict=True)
        }

    def collect(self, results: list[FieldResult]) -> dict[str, float]:
        """The metrics of the replication from the front line and every region's field."""
        faults, front = self.faults, self.front
        n = len(faults)
        rows = Rows(
            t0=faults.t0,
            contact=front.contact,
            session=front.session,
            solution=np.minimum(front.closed_at, front.entry) - faults.t0,
            onsite=np.full(n, math.inf),
            restore=front.closed_at - faults.t0,
            normal=front.closed_at - faults.t0,
            wait=np.full(n, math.inf),
            deadline=np.where(np.isfinite(front.closed_at), self.budget, math.nan),
            region=self.region_of.astype(np.int16),
            sev=self.sev,
            flags=front.flags.copy(),
            warranty=faults.t0
            < np.array([g.warranty_end for g in self.groups] or [0.0])[faults.group],
            terminal=faults.terminal,
        )
        for res in results:
            i = res.rows
            rows.wait[i] = res.wait
            rows.onsite[i] = res.onsite
            rows.deadline[i] = res.deadline
            rows.restore[i] = res.restore
            rows.normal[i] = res.normal
            rows.flags[i] |= res.flags
        regions = len(self.plan.regions)
        by_region = sorted(results, key=lambda r: r.region)
        assert [r.region for r in by_region] == list(range(regions))
        return collect(
            Tally(
                regions=[r.name for r in self.plan.regions],
                horizon=self.horizon,
                rows=rows,
                engineers=[self.plan.region_engineers(r.name) for r in self.plan.regions],
                on_shift=on_shift_hours(self.plan, self.calendar, self.horizon),
                busy=[r.busy_hours for r in by_region],
                terminals=self.region_terminals,
                stockouts=[r.stockouts for r in by_region],
                standby_uses=[r.standby_uses for r in by_region],
                max_queue=[r.max_queue for r in by_region],
                inspections=[r.inspections for r in by_region],
                events=sum(r.events for r in by_region),
            )
        )


def run_replication(
    plan: Plan, inputs: Inputs, seed: int, years: float | None = None
) -> dict[str, float]:
    """Build and run one replication (the unit of work a sweep sends to a worker)."""
    return Model(plan, inputs, seed, years).run()
