"""Dispatching field engineers: priority queues per region, nearest free qualified engineer first.

Jobs wait in one FIFO per (priority, centre, skill) of their region. A job arriving takes an
idle, on-shift engineer of its own centre with the skill, else one of another centre of the same
region. An engineer coming free takes the most urgent waiting job, own centre first. Shifts
switch engineers on and off; an engineer whose shift ends mid-job finishes it first. The
M/M/c reduction (:mod:`workbench.capacity.erlang`) runs through this same class.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import simpy


@dataclass(slots=True, eq=False)
class Engineer:
    """One field engineer; ``busy_hours`` counts work done inside the measured horizon."""

    index: int
    region: int
    centre: int
    skills: tuple[int, ...]
    on_shift: bool = True
    busy: bool = False
    busy_since: float = 0.0
    busy_hours: float = 0.0
    jobs: int = 0


@dataclass(slots=True, eq=False)
class Job:
    """A request for an engineer; ``event`` succeeds with the assigned :class:`Engineer`."""

    priority: int
    region: int
    centre: int
    skill: int
    event: simpy.Event
    queued_at: float = 0.0
    waited: float = field(default=0.0)


class Dispatcher:
    """Matches jobs to engineers for every region of a plan."""

    def __init__(
        self,
        env: simpy.Environment,
        centre_region: list[int],
        engineers: list[Engineer],
        priorities: int,
        skills: int,
        horizon: float = float("inf"),
    ) -> None:
        self.env = env
        self.horizon = horizon
        self.engineers = engineers
        regions = max(centre_region) + 1 if centre_region else 0
        self.region_centres = [
            [c for c, r in enumerate(centre_region) if r == g] for g in range(regions)
        ]
        # Own centre first, then the others of the region in plan order: "nearest".
        self.nearest = [
            [centre, *(c for c in self.region_centres[r] if c != centre)]
            for centre, r in enumerate(centre_region)
        ]
        self.priorities = priorities
        self.queues: list[list[list[list[deque[Job]]]]] = [
            [[[deque() for _ in range(skills)] for _ in centre_region] for _ in range(priorities)]
            for _ in range(regions)
        ]
        self.waiting = [[0] * priorities for _ in range(regions)]
        self.max_waiting = [0] * regions
        self.idle: list[list[dict[int, Engineer]]] = [
            [{} for _ in range(skills)] for _ in centre_region
        ]
        for eng in engineers:
            if eng.on_shift:
                self._make_idle(eng)

    # -- queue side ------------------------------------------------------------------
    def take(self, centre: int, skill: int) -> Engineer | None:
        """The nearest idle qualified engineer, now, without an event; None when all are busy."""
        idle = self.idle
        for c in self.nearest[centre]:
            pool = idle[c][skill]
            if pool:
                eng = next(iter(pool.values()))
                self._assign(eng, None)
                return eng
        return None

    def request(self, priority: int, centre: int, skill: int, region: int) -> simpy.Event:
        """An event that succeeds with the engineer assigned to this job."""
        event = self.env.event()
        for c in self.nearest[centre]:
            pool = self.idle[c][skill]
            if pool:
                eng = next(iter(pool.values()))
                self._assign(eng, event)
                return event
        job = Job(priority, region, centre, skill, event, self.env._now)
        self.queues[region][priority][centre][skill].append(job)
        waiting = self.waiting[region]
        waiting[priority] += 1
        total = sum(waiting)
        if total > self.max_waiting[region]:
            self.max_waiting[region] = total
        return event

    def queue_length(self, region: int) -> int:
        """Jobs of a region waiting for an engineer now."""
        return sum(self.waiting[region])

    # -- engineer side ---------------------------------------------------------------
    def release(self, eng: Engineer) -> None:
        """The engineer finished a job: take the next one, go idle, or go home if off shift."""
        now = self.env._now  # Environment.now, read as it reads it (simpy>=4.1,<5)
        eng.busy = False
        eng.busy_hours += min(now, self.horizon) - min(eng.busy_since, self.horizon)
        if eng.on_shift:
            self._next_job(eng)

    def shift_on(self, engineers: list[Engineer]) -> None:
        """A shift starts: its engineers pick up waiting jobs or wait idle."""
        for eng in engineers:
            eng.on_shift = True
            if not eng.busy:
                self._next_job(eng)

    def shift_off(self, engineers: list[Engineer]) -> None:
        """A shift ends: idle engineers leave; busy ones leave after their current job."""
        for eng in engineers:
            eng.on_shift = False
            if not eng.busy:
                for s in eng.skills:
                    self.idle[eng.centre][s].pop(eng.index, None)

    def _next_job(self, eng: Engineer) -> None:
        region = eng.region
        waiting = self.waiting[region]
        queues = self.queues[region]
        for p in range(self.priorities):
            if not waiting[p]:
                continue
            by_centre = queues[p]
            for c in self.nearest[eng.centre]:
                for s in eng.skills:
                    q = by_centre[c][s]
                    if q:
                        job = q.popleft()
                        waiting[p] -= 1
                        job.waited = self.env._now - job.queued_at
                        self._assign(eng, job.event)
                        return
        self._make_idle(eng)

    def _make_idle(self, eng: Engineer) -> None:
        idle, index = self.idle[eng.centre], eng.index
        for s in eng.skills:
            idle[s][index] = eng

    def _assign(self, eng: Engineer, event: simpy.Event | None) -> None:
        idle, index = self.idle[eng.centre], eng.index
        for s in eng.skills:
            idle[s].pop(index, None)
        eng.busy = True
        eng.busy_since = self.env._now
        eng.jobs += 1
        if event is not None:
            event.succeed(eng)
