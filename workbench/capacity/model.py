"""The fleet and its support organisation as one SimPy model: faults in, service-level clocks out.

The fault stream (:mod:`workbench.capacity.stream`) draws every failure of the fleet from one
pooled source with all of its random durations, so two plans run on the same seed see the
same faults (common random numbers). Each fault then lives as one process: hotline contact, a
remote attempt inside the remote window, dispatch of the nearest free qualified engineer,
travel, the part (a stock-out waits for the lead time), repair or a standby swap. Quarterly
inspections compete for the same engineers. Time unit: hours; hour 0 is the plan's start date.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import simpy

from workbench.capacity.calendar import BusinessCalendar, shift_intervals
from workbench.capacity.config import Plan, Skill
from workbench.capacity.dispatch import Dispatcher, Engineer
from workbench.capacity.metrics import (
    CLOSED_BY_PHONE,
    REMOTE,
    ROUTED,
    STANDBY,
    STOCKOUT,
    Columns,
    collect,
)
from workbench.capacity.rates import resolve
from workbench.capacity.servers import Servers
from workbench.capacity.stream import (
    HOTLINE,
    REMOTE_DESK,
    FaultStream,
    Group,
    profiles_of,
)
from workbench.faults import FaultCatalog, FaultMode, Severity
from workbench.sla import TERMS

SEVERITIES = (Severity.P1, Severity.P2, Severity.P3)
INSPECTION = 3
"""Priority of an inspection visit: after every fault."""
SKILLS = (Skill.basic, Skill.self_service)
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
        self.env = simpy.Environment()
        self.horizon = (years if years is not None else plan.years) * 365 * 24.0
        self.irng = random.Random(seed * 7919 + 17)
        self.calendar = BusinessCalendar(plan.calendar, int(self.horizon // 24) + 30)
        self.remote = plan.remote
        self.swap_hours = plan.repair.swap_minutes / 60
        self.repair_cv = plan.repair.cv
        self.seed = seed
        self._build(inputs)

    # -- construction -------------------------------------------------------------------
    def _build(self, inputs: Inputs) -> None:
        plan, env = self.plan, self.env
        self.rates = resolve(plan, inputs.catalog)
        profiles = profiles_of(plan, inputs.catalog, inputs.profiles, self.rates)
        start = plan.calendar.start_date
        self.centres = [c for r in plan.regions for c in r.centres]
        centre_region = [g for g, r in enumerate(plan.regions) for _ in r.centres]
        self.centre_region = centre_region
        self.cross = [plan.regions[g].cross_centre_hours for g in centre_region]
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
                self.groups.append(Group(c, centre_region[c], prof, skill, f.count, warranty))
                self.group_first.append(terminals)
                terminals += f.count
                total += f.count * prof.rate
                cum.append(total)
        self.terminals = terminals
        self.group_cum, self.total_rate = cum, total
        self.stream = FaultStream(
            plan,
            self.groups,
            self.group_first,
            cum,
            self.centres,
            list(profiles.values()),
            self.seed,
        )
        self.region_terminals = [0] * len(plan.regions)
        for g in self.groups:
            self.region_terminals[g.region] += g.count
        self.engineers: list[Engineer] = []
        self.by_shift: dict[str, list[Engineer]] = {name: [] for name in plan.shifts}
        for c, centre in enumerate(self.centres):
            for grp in centre.engineers:
                skills = tuple(sorted({SKILLS.index(s) for s in grp.skills}))
                for _ in range(grp.count):
                    eng = Engineer(len(self.engineers), centre_region[c], c, skills, on_shift=False)
                    self.engineers.append(eng)
                    self.by_shift[grp.shift].append(eng)
        self.dispatcher = Dispatcher(
            env, centre_region, self.engineers, 4, len(SKILLS), self.horizon
        )
        self.hotline = Servers(env, plan.hotline.agents)
        self.desk = Servers(env, plan.remote.desk_engineers)
        self.standby = [
            plan.standby.per_centre if c.standby is None else c.standby for c in self.centres
        ]
        self.stock: dict[tuple[int, str], simpy.Container] = {}
        self.down_count = [0] * terminals
        self.down_since = [0.0] * terminals
        self.region_down = [0.0] * len(plan.regions)
        self.stockouts = [0] * len(plan.regions)
        self.standby_uses = [0] * len(plan.regions)
        self.inspections = [[0, 0] for _ in plan.regions]  # [done, on time]
        self.cols = Columns(int(total * self.horizon * 1.1) + 64)

    # -- running ------------------------------------------------------------------------
    def run(self) -> dict[str, float]:
        """Simulate the horizon plus the drain; return the metrics of this replication."""
        env = self.env
        env.process(self._shifts())
        if self.total_rate > 0:
            env.process(self._failures())
        if self.plan.inspection.enabled and self.plan.inspection.per_year > 0 and self.terminals:
            env.process(self._inspections())
        env.run(until=self.horizon + DRAIN_HOURS)
        return collect(self)

    @property
    def events(self) -> int:
        """Events scheduled so far (SimPy's event counter)."""
        eid = getattr(self.env, "_eid", None)
        return next(eid) if eid is not None else 0

    def _shifts(self) -> simpy.events.ProcessGenerator:
        end = self.horizon + DRAIN_HOURS
        marks: list[tuple[float, int, str]] = []
        for name, shift in self.plan.shifts.items():
            if not self.by_shift[name]:
                continue
            for on, off in shift_intervals(shift, self.calendar, end, first_day=-1):
                marks.append((max(on, 0.0), 1, name))
                marks.append((off, 0, name))
        marks.sort()
        env, dispatcher = self.env, self.dispatcher
        for at, on, name in marks:
            if at >= end:
                break
            if at > env.now:
                yield env.timeout(at - env.now)
            if on:
                dispatcher.shift_on(self.by_shift[name])
            else:
                dispatcher.shift_off(self.by_shift[name])

    def _failures(self) -> simpy.events.ProcessGenerator:
        env, groups = self.env, self.groups
        fault, process, horizon, timeout = self._fault, env.process, self.horizon, env.timeout
        sigma, draw = self.stream.repair_sigma, self.stream.draw
        chunk = max(1024, min(65_536, int(self.total_rate * self.horizon / 8) + 1))
        while True:
            cols = draw(chunk)
            for gap, g, k, terminal, call, tried, ok, travel, repair, lead, travel2 in zip(
                *cols, strict=True
            ):
                yield timeout(gap)
                if env.now >= horizon:
                    return
                group = groups[g]
                prof = group.profile
                mode = prof.modes[k]
                part = mode.part is not None
                draws = (
                    call,
                    tried,
                    ok,
                    travel,
                    repair if sigma else mode.repair_minutes / 60,
                    lead if part else 0.0,
                    travel2 if part else 0.0,
                )
                process(fault(terminal, group, mode, prof.routes[k], draws))

    # -- one fault ----------------------------------------------------------------------
    def _fault(
        self,
        terminal: int,
        group: Group,
        mode: FaultMode,
        route: int,
        draws: tuple[float, float, bool, float, float, float, float],
    ) -> simpy.events.ProcessGenerator:
        """One fault's life. ``draws``: call, first-line attempt (remote or guided on the call),
        whether it works, travel, repair, part lead time, second travel."""
        env, cols = self.env, self.cols
        call_h, attempt_h, first_ok, travel_h, repair_h, lead_h, travel2_h = draws
        sev = SEVERITIES.index(mode.severity)
        t0 = env.now
        i = cols.open(group.region, sev, t0, t0 < group.warranty_end)
        blocking = sev < 2
        if blocking:
            self._down(terminal, group.region)
        if not self.hotline.take():
            yield self.hotline.request()
        cols.contact[i] = env.now - t0
        if route == HOTLINE:
            # The agent talks the branch through the fix on the same call.
            yield env.timeout(call_h + attempt_h)
            self.hotline.release()
            if first_ok:
                cols.solution[i] = cols.restore[i] = cols.normal[i] = env.now - t0
                cols.deadline[i] = self._restore_budget(mode, t0)
                cols.flags[i] = cols.flags[i] | CLOSED_BY_PHONE
                if blocking:
                    self._up(terminal, group.region)
                return
        else:
            yield env.timeout(call_h)
            self.hotline.release()
        if route == REMOTE_DESK:
            cols.flags[i] = cols.flags[i] | ROUTED
            left = self.remote.window_hours - (env.now - t0) if self.remote.enabled else 0.0
            # The desk must take the fault up inside the remote window, or it goes to the field.
            if left > 0 and (self.desk.take() or (yield self.desk.request(patience=left))):
                cols.session[i] = env.now - t0
                yield env.timeout(attempt_h)
                self.desk.release()
                if first_ok:
                    cols.solution[i] = cols.restore[i] = cols.normal[i] = env.now - t0
                    cols.deadline[i] = self._restore_budget(mode, t0)
                    cols.flags[i] = cols.flags[i] | REMOTE
                    if blocking:
                        self._up(terminal, group.region)
                    return
        cols.solution[i] = env.now - t0
        # Dispatch, travel, then the part and the repair.
        centre = group.centre
        asked = env.now
        dispatcher = self.dispatcher
        eng = dispatcher.take(centre, group.skill)
        if eng is None:
            eng = yield dispatcher.request(sev, centre, group.skill, group.region)
        cols.wait[i] = env.now - asked
        yield env.timeout(travel_h + (self.cross[centre] if eng.centre != centre else 0.0))
        arrived = env.now
        cols.onsite[i] = arrived - t0
        budget = self._restore_budget(mode, t0)
        deadline = t0 + budget
        cols.deadline[i] = budget
        part = self._take_part(centre, mode.part, lead_h) if mode.part else None
        swapped = False
        if part is not None and not part.triggered:
            cols.flags[i] = cols.flags[i] | STOCKOUT
            self.stockouts[group.region] += 1
            projected = arrived + lead_h + repair_h
        else:
            projected = arrived + repair_h
        if projected > deadline and self.standby[centre] > 0:
            self.standby[centre] -= 1
            self.standby_uses[group.region] += 1
            swapped = True
            cols.flags[i] = cols.flags[i] | STANDBY
            yield env.timeout(self.swap_hours)
            cols.restore[i] = env.now - t0
            if blocking:
                self._up(terminal, group.region)
        if part is not None and not part.triggered:
            self.dispatcher.release(eng)
            yield part
            eng = yield self.dispatcher.request(sev, centre, group.skill, group.region)
            yield env.timeout(travel2_h + (self.cross[centre] if eng.centre != centre else 0.0))
        yield env.timeout(repair_h)
        self.dispatcher.release(eng)
        cols.normal[i] = env.now - t0
        if swapped:
            self.standby[centre] += 1
        else:
            cols.restore[i] = env.now - t0
            if blocking:
                self._up(terminal, group.region)

    def _restore_budget(self, mode: FaultMode, t0: float) -> float:
        """Hours from the report to restore: on site + restore time, or P3's working days."""
        terms = TERMS[mode.severity]
        if terms.onsite_hours is not None and terms.restore_hours_after_arrival is not None:
            return terms.onsite_hours + terms.restore_hours_after_arrival
        return self.calendar.add_working_days(t0, terms.fix_working_days or 2.0) - t0

    def _take_part(self, centre: int, part: str, lead_h: float) -> simpy.Event:
        """Take one part from the centre's stock and reorder it (one-for-one)."""
        box = self.stock.get((centre, part))
        if box is None:
            parts = self.plan.parts
            own = self.centres[centre].stock or {}
            init = own.get(part, parts.stock.get(part, parts.default_stock))
            box = self.stock[(centre, part)] = simpy.Container(self.env, init=init)

        def arrive(_: simpy.Event) -> None:
            box.put(1)

        self.env.timeout(lead_h).callbacks.append(arrive)
        return box.get(1)

    def _down(self, terminal: int, region: int) -> None:
        if self.down_count[terminal] == 0:
            self.down_since[terminal] = self.env.now
        self.down_count[terminal] += 1

    def _up(self, terminal: int, region: int) -> None:
        self.down_count[terminal] -= 1
        if self.down_count[terminal] == 0:
            now = min(self.env.now, self.horizon)
            self.region_down[region] += max(0.0, now - self.down_since[terminal])

    # -- inspections --------------------------------------------------------------------
    def _inspections(self) -> simpy.events.ProcessGenerator:
        env, rng = self.env, self.irng
        spec = self.plan.inspection
        period = 365 * 24.0 / spec.per_year
        order = [g for g, group in enumerate(self.groups) for _ in range(group.count)]
        start = 0.0
        while start < self.horizon:
            rng.shuffle(order)
            gap = 0.75 * period / len(order)
            due = min(start + period, self.horizon + DRAIN_HOURS)
            for k, g in enumerate(order):
                at = start + k * gap
                if at >= self.horizon:
                    return
                if at > env.now:
                    yield env.timeout(at - env.now)
                group = self.groups[g]
                travel = self.centres[group.centre].travel.draw(rng)
                env.process(self._inspect(group, travel, spec.minutes.draw(rng, 1 / 60), due))
            start += period

    def _inspect(
        self, group: Group, travel_h: float, work_h: float, due: float
    ) -> simpy.events.ProcessGenerator:
        env = self.env
        eng: Engineer = yield self.dispatcher.request(
            INSPECTION, group.centre, group.skill, group.region
        )
        yield env.timeout(
            travel_h + (self.cross[group.centre] if eng.centre != group.centre else 0.0) + work_h
        )
        self.dispatcher.release(eng)
        tally = self.inspections[group.region]
        tally[0] += 1
        if env.now <= due:
            tally[1] += 1


def run_replication(
    plan: Plan, inputs: Inputs, seed: int, years: float | None = None
) -> dict[str, float]:
    """Build and run one replication (the unit of work a sweep sends to a worker)."""
    return Model(plan, inputs, seed, years).run()
