"""One region's field work as a SimPy model: dispatch, travel, parts, repair or a standby swap, inspections.

Engineers never leave their region and each centre keeps its own stock and standbys, so once
the front line (:mod:`workbench.capacity.frontline`) has said when each fault reaches the
field, every region runs in an environment of its own, in any order or in parallel, and gives
the same figures. Time unit: hours; hour 0 is the plan's start date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import simpy

from workbench.capacity.calendar import BusinessCalendar, shift_intervals
from workbench.capacity.config import Plan, Skill
from workbench.capacity.dispatch import Dispatcher, Engineer
from workbench.capacity.metrics import STANDBY, STOCKOUT

INSPECTION = 3
"""Priority of an inspection visit: after every fault."""
SKILLS = (Skill.basic, Skill.self_service)


def crew(plan: Plan, region: int | None = None) -> dict[str, list[Engineer]]:
    """The engineers of one region (every region for None), by shift, numbered across the plan."""
    by_shift: dict[str, list[Engineer]] = {name: [] for name in plan.shifts}
    index, c = 0, 0
    for g, reg in enumerate(plan.regions):
        for centre in reg.centres:
            for grp in centre.engineers:
                skills = tuple(sorted({SKILLS.index(s) for s in grp.skills}))
                for _ in range(grp.count):
                    if region is None or g == region:
                        by_shift[grp.shift].append(Engineer(index, g, c, skills, on_shift=False))
                    index += 1
            c += 1
    return by_shift


def run_field(plan: Plan, region: int, work: Work, horizon: float, end: float) -> FieldResult:
    """Build one region's field from the plan and simulate it (what a worker process runs)."""
    by_shift = crew(plan, region)
    calendar = BusinessCalendar(plan.calendar, int(horizon // 24) + 30)
    marks: list[tuple[float, int, str]] = []
    for name, shift in plan.shifts.items():
        if by_shift[name]:
            for on, off in shift_intervals(shift, calendar, end, first_day=-1):
                marks.append((max(on, 0.0), 1, name))
                marks.append((off, 0, name))
    marks.sort()
    centre_region = [g for g, r in enumerate(plan.regions) for _ in r.centres]
    engineers = [e for crew_ in by_shift.values() for e in crew_]
    shift_marks = [(at, on, by_shift[name]) for at, on, name in marks]
    return Field(plan, region, centre_region, engineers, shift_marks, work, horizon, end).run()


@dataclass(frozen=True)
class Work:
    """A region's field work, in the order it arrives (hours; plain lists, read per event).

    Faults: global row, report time, arrival in the field, centre, skill, severity index,
    part (index into ``parts``, -1 for none), restore budget, travel, repair, lead time,
    second travel. Inspections: time, centre, skill, travel, work, due time.
    """

    row: list[int]
    t0: list[float]
    entry: list[float]
    centre: list[int]
    skill: list[int]
    sev: list[int]
    part: list[int]
    budget: list[float]
    travel: list[float]
    repair: list[float]
    lead: list[float]
    travel2: list[float]
    parts: list[str]
    visit_at: list[float]
    visit_centre: list[int]
    visit_skill: list[int]
    visit_travel: list[float]
    visit_work: list[float]
    visit_due: list[float]


@dataclass
class FieldResult:
    """What one region's field did: per fault row (``rows``) its clocks, and the region's tallies."""

    region: int
    rows: np.ndarray
    wait: np.ndarray
    onsite: np.ndarray
    deadline: np.ndarray
    restore: np.ndarray
    normal: np.ndarray
    flags: np.ndarray
    stockouts: int
    standby_uses: int
    inspections: tuple[int, int]
    max_queue: int
    busy_hours: float
    events: int


class Field:
    """The field of one region: its engineers, shifts, stock and standbys, fed by :class:`Work`."""

    driven = True
    """Drive each fault's steps with :func:`_drive`; False makes each fault a ``simpy.Process``,
    as a test that checks the two runs alike does."""

    def __init__(
        self,
        plan: Plan,
        region: int,
        centre_region: list[int],
        engineers: list[Engineer],
        shift_marks: list[tuple[float, int, list[Engineer]]],
        work: Work,
        horizon: float,
        end: float,
    ) -> None:
        self.plan, self.region, self.work = plan, region, work
        self.env = simpy.Environment()
        self.horizon, self.end = horizon, end
        self.engineers = engineers
        self.shift_marks = shift_marks
        self.dispatcher = Dispatcher(self.env, centre_region, engineers, 4, 2, horizon)
        centres = [c for r in plan.regions for c in r.centres]
        self.centres = centres
        self.cross = [plan.regions[g].cross_centre_hours for g in centre_region]
        self.standby = [
            plan.standby.per_centre if c.standby is None else c.standby for c in centres
        ]
        self.swap_hours = plan.repair.swap_minutes / 60
        self.stock: dict[tuple[int, int], simpy.Container] = {}
        n = len(work.row)
        self.wait = [math.inf] * n
        self.onsite = [math.inf] * n
        self.deadline = [math.nan] * n
        self.restore = [math.inf] * n
        self.normal = [math.inf] * n
        self.flags = [0] * n
        self.stockouts = self.standby_uses = 0
        self.inspected = [0, 0]  # done, on time

    def run(self) -> FieldResult:
        """Simulate the region to the end of the run (horizon plus drain)."""
        env = self.env
        env.process(self._shifts())
        if self.work.row:
            env.process(self._arrivals())
        if self.work.visit_at:
            env.process(self._visits())
        env.run(until=self.end)
        w = self.work
        return FieldResult(
            self.region,
            np.array(w.row, dtype=np.int64),
            np.array(self.wait),
            np.array(self.onsite),
            np.array(self.deadline),
            np.array(self.restore),
            np.array(self.normal),
            np.array(self.flags, dtype=np.int8),
            self.stockouts,
            self.standby_uses,
            (self.inspected[0], self.inspected[1]),
            self.dispatcher.max_waiting[self.region],
            sum(e.busy_hours for e in self.engineers),
            next(env._eid),  # SimPy's scheduled-event counter
        )

    def _shifts(self) -> simpy.events.ProcessGenerator:
        env, dispatcher = self.env, self.dispatcher
        for at, on, engineers in self.shift_marks:
            if at >= self.end:
                break
            if at > env.now:
                yield env.timeout(at - env.now)
            if on:
                dispatcher.shift_on(engineers)
            else:
                dispatcher.shift_off(engineers)

    def _arrivals(self) -> simpy.events.ProcessGenerator:
        env, fault, timeout = self.env, self._fault, self.env.timeout
        start = _drive if self.driven else env.process
        for j, at in enumerate(self.work.entry):
            if at > env._now:
                yield timeout(at - env._now)
            start(fault(j))

    # -- one fault --------------------------------------------------------------------
    # SimPy's clock is read as ``Environment.now`` reads it (``_now``, simpy>=4.1,<5 pinned):
    # a year at 100,000 terminals reads it several million times.
    def _fault(self, j: int) -> simpy.events.ProcessGenerator:
        """One fault from the moment it reaches the field: engineer, travel, part, repair."""
        env, w, dispatcher = self.env, self.work, self.dispatcher
        t0, centre, skill, sev = w.t0[j], w.centre[j], w.skill[j], w.sev[j]
        asked = env._now
        eng = dispatcher.take(centre, skill)
        if eng is None:
            eng = yield dispatcher.request(sev, centre, skill, self.region)
        self.wait[j] = env._now - asked
        yield env.timeout(w.travel[j] + (self.cross[centre] if eng.centre != centre else 0.0))
        arrived = env._now
        self.onsite[j] = arrived - t0
        budget = w.budget[j]
        self.deadline[j] = budget
        lead_h, repair_h = w.lead[j], w.repair[j]
        part = self._take_part(centre, w.part[j], lead_h) if w.part[j] >= 0 else None
        short = part is not None and not part.triggered
        swapped = False
        if short:
            self.flags[j] |= STOCKOUT
            self.stockouts += 1
        projected = arrived + lead_h + repair_h if short else arrived + repair_h
        if projected > t0 + budget and self.standby[centre] > 0:
            self.standby[centre] -= 1
            self.standby_uses += 1
            swapped = True
            self.flags[j] |= STANDBY
            yield env.timeout(self.swap_hours)
            self.restore[j] = env._now - t0
        if part is not None and not part.triggered:  # (the part may have come during a swap)
            dispatcher.release(eng)
            yield part
            eng = dispatcher.take(centre, skill)
            if eng is None:
                eng = yield dispatcher.request(sev, centre, skill, self.region)
            yield env.timeout(w.travel2[j] + (self.cross[centre] if eng.centre != centre else 0.0))
        yield env.timeout(repair_h)
        dispatcher.release(eng)
        self.normal[j] = env._now - t0
        if swapped:
            self.standby[centre] += 1
        else:
            self.restore[j] = env._now - t0

    def _take_part(self, centre: int, part: int, lead_h: float) -> simpy.Event:
        """Take one part from the centre's stock and reorder it (one-for-one)."""
        box = self.stock.get((centre, part))
        if box is None:
            name = self.work.parts[part]
            parts = self.plan.parts
            own = self.centres[centre].stock or {}
            init = own.get(name, parts.stock.get(name, parts.default_stock))
            box = self.stock[(centre, part)] = simpy.Container(self.env, init=init)

        def arrive(_: simpy.Event) -> None:
            box.put(1)

        self.env.timeout(lead_h).callbacks.append(arrive)
        return box.get(1)

    # -- inspections --------------------------------------------------------------------
    def _visits(self) -> simpy.events.ProcessGenerator:
        env, w, visit = self.env, self.work, self._visit
        for j, at in enumerate(w.visit_at):
            if at > env._now:
                yield env.timeout(at - env._now)
            visit(j)

    # An inspection never branches, so it is three callbacks rather than a process of its own
    # (a process costs an extra event and a generator for each of a year's 400,000 visits).
    def _visit(self, j: int) -> None:
        w, dispatcher = self.work, self.dispatcher
        eng = dispatcher.take(w.visit_centre[j], w.visit_skill[j])
        if eng is None:
            event = dispatcher.request(INSPECTION, w.visit_centre[j], w.visit_skill[j], self.region)
            event.callbacks.append(lambda e: self._visit_travel(j, e.value))
        else:
            self._visit_travel(j, eng)

    def _visit_travel(self, j: int, eng: Engineer) -> None:
        w, centre = self.work, self.work.visit_centre[j]
        cross = self.cross[centre] if eng.centre != centre else 0.0
        done = self.env.timeout(w.visit_travel[j] + cross + w.visit_work[j])
        done.callbacks.append(lambda _: self._visit_done(j, eng))

    def _visit_done(self, j: int, eng: Engineer) -> None:
        self.dispatcher.release(eng)
        self.inspected[0] += 1
        if self.env._now <= self.work.visit_due[j]:
            self.inspected[1] += 1


# A year at 100,000 terminals brings over a million faults to the field. Each one's generator
# is driven from here rather than as a ``simpy.Process``: a process costs two events more (its
# start, an urgent event at the instant it is made, and its end, which nothing waits for) and
# its resumes go through ``Process._resume``. Driven, the fault's first step runs as the fault
# reaches the field (a process's start event is the next thing processed then: nothing comes in
# between) and every later step when the event it waits for is processed, as a process's would.
def _drive(steps: simpy.events.ProcessGenerator, event: simpy.Event | None = None) -> None:
    """Resume ``steps`` with ``event``'s outcome (None: start it), run it to its next wait, and
    have it resumed once the event it waits for has been processed (at once when it has been
    already), as ``Process._resume`` does; a generator that fails raises out of the run, as a
    process nobody waits for does."""
    try:
        while True:
            if event is None:
                wait = steps.send(None)
            elif event._ok:
                wait = steps.send(event._value)
            else:
                event._defused = True
                wait = steps.throw(event._value)
            if wait.callbacks is not None:
                break
            event = wait  # already processed: go on with its outcome
    except StopIteration:
        return
    wait.callbacks.append(lambda done: _drive(steps, done))
