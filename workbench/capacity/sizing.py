"""Sizing: the fewest engineers per region that meet service-level targets, by search over the model.

Regions share no engineers and every fault's random draws are fixed when it arrives, so a
region's results depend only on its own engineer count: all regions are bisected at once,
one model run (with replications) per step. A target is met when the mean over
replications reaches it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from workbench.capacity.clauses import BY_KEY
from workbench.capacity.config import Plan
from workbench.capacity.model import Inputs
from workbench.capacity.scaling import with_region_engineers
from workbench.capacity.stats import Summary
from workbench.capacity.sweep import run_raw
from workbench.capacity.verdict import did_you_mean, parse_share
from workbench.capacity.workers import Progress
from workbench.errors import ConfigError

SCOPE_METRICS = {"availability", "remote_resolved", "inspections_on_time"}


@dataclass(frozen=True)
class Target:
    """A floor on one metric, e.g. ``p1_onsite=0.95`` is ``<region>.P1.onsite >= 0.95``."""

    name: str
    metric: str
    floor: float

    def key(self, scope: str) -> str:
        """The metric name in a summary for one region (or ``overall``)."""
        return f"{scope}.{self.metric}"


def parse_target(spec: str) -> Target:
    """Parse ``p1_onsite=0.95``, ``p3_fix=0.9`` or ``availability=0.99``; errors name the target."""
    name, floor = parse_share(spec)
    clause = BY_KEY.get(name)
    if clause is not None:
        return Target(name, clause.metric, floor)
    if name in SCOPE_METRICS:
        return Target(name, name, floor)
    raise ConfigError(
        f"--target {spec!r}: unknown target {name!r}; valid: {', '.join(BY_KEY)}, "
        f"{', '.join(sorted(SCOPE_METRICS))}" + did_you_mean(name, [*BY_KEY, *SCOPE_METRICS])
    )


MEETS, SHORT, UNSURE = "meets", "short", "undecided"


def judge_region(summary: Summary, region: str, targets: Sequence[Target]) -> str:
    """Whether one region meets every target at 95 % confidence.

    ``meets`` when every target's interval lies at or above its floor, ``short`` when some
    target's interval lies wholly below, else ``undecided`` (a metric with no faults counts
    as met).
    """
    verdict = MEETS
    for t in targets:
        est = summary.get(t.key(region))
        if est is None:
            raise ConfigError(f"no metric {t.key(region)!r} in the model's results")
        if est.mean != est.mean:  # NaN: nothing to measure
            continue
        half = est.half if est.half == est.half else math.inf
        if est.mean + half < t.floor:
            return SHORT
        if est.mean - half < t.floor:
            verdict = UNSURE
    return verdict


def meets(summary: Summary, region: str, targets: Sequence[Target]) -> bool:
    """Whether one region's means meet every target (a metric with no faults counts as met)."""
    for t in targets:
        est = summary.get(t.key(region))
        if est is None:
            raise ConfigError(f"no metric {t.key(region)!r} in the model's results")
        if est.mean == est.mean and est.mean < t.floor:
            return False
    return True


def _shortfall(summary: Summary, region: str, targets: Sequence[Target]) -> float:
    """How far a region's means are from its targets in total (0 when they meet them)."""
    total = 0.0
    for t in targets:
        mean = summary[t.key(region)].mean
        if mean == mean:
            total += max(0.0, t.floor - mean)
    return total


@dataclass(frozen=True)
class Sizing:
    """The answer per region: engineers needed (None: not reachable), how sure, and the summary.

    ``state`` per region: ``meets`` (settled at 95 %), ``undecided`` (the interval still
    straddles a target after ``max_reps`` replications), or ``unreachable`` (adding engineers
    stopped helping, or the limit was reached: ``needed`` is then None and ``tried`` says
    how many engineers were tried).
    """

    targets: tuple[Target, ...]
    current: dict[str, int]
    needed: dict[str, int | None]
    tried: dict[str, int]
    state: dict[str, str]
    summary: Summary
    runs: int


UNREACHABLE = "unreachable"


def size(
    plan: Plan,
    inputs: Inputs,
    targets: Sequence[Target],
    reps: int = 3,
    seed: int = 1,
    years: float | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    limit: int = 2000,
    progress: Progress | None = None,
    max_reps: int = 12,
) -> Sizing:
    """Bisect every region's engineer count at once for the fewest that meet all targets.

    Each candidate starts with ``reps`` replications; while a region's decision is
    undecided, ``reps`` more are added (the same seeds for every candidate) up to
    ``max_reps``. An undecided region counts as short for the search (the answer errs
    towards more engineers) and is reported as undecided.
    """
    if not targets:
        raise ConfigError("give at least one --target, e.g. --target p1_onsite=0.95")
    max_reps = max(max_reps, reps)
    regions = [r.name for r in plan.regions]
    current = {r: plan.region_engineers(r) for r in regions}
    runs = 0

    def evaluate(counts: dict[str, int], open_: list[str]) -> tuple[Summary, dict[str, str]]:
        nonlocal runs
        candidate = with_region_engineers(plan, counts)
        raw: list[dict[str, float]] = []
        done = 0
        while True:
            more = range(done, min(done + reps, max_reps))
            runs += 1
            raw += run_raw([candidate], inputs, more, seed, years, workers, scheduler, progress)[0]
            done = more.stop
            summary = Summary.of(raw)
            states = {r: judge_region(summary, r, targets) for r in open_}
            if done >= max_reps or all(v != UNSURE for v in states.values()):
                return summary, states

    lo = dict.fromkeys(regions, 0)  # known (or assumed) to fall short
    hi: dict[str, int | None] = dict.fromkeys(regions, None)  # known to meet
    probe = {r: max(1, current[r]) for r in regions}
    shortfall: dict[str, float] = dict.fromkeys(regions, math.inf)
    tried: dict[str, int] = {}
    while any(hi[r] is None and r not in tried for r in regions):
        open_ = [r for r in regions if hi[r] is None and r not in tried]
        summary, states = evaluate(probe, open_)
        for r in open_:
            if states[r] == MEETS:
                hi[r] = probe[r]
                continue
            gap = _shortfall(summary, r, targets)
            if probe[r] >= limit or gap > shortfall[r] - 1e-3:
                # Doubling the crew no longer helps (travel, not engineers, is the limit).
                tried[r] = probe[r]
                continue
            shortfall[r] = gap
            lo[r] = probe[r]
            probe[r] = min(limit, probe[r] * 2)
    best: dict[str, int] = {r: int(hi[r] or probe[r]) for r in regions}
    searching = [r for r in regions if r not in tried]
    while any(best[r] - lo[r] > 1 for r in searching):
        mid = {r: (lo[r] + best[r]) // 2 if best[r] - lo[r] > 1 else best[r] for r in regions}
        open_ = [r for r in searching if best[r] - lo[r] > 1]
        summary, states = evaluate(mid, open_)
        for r in open_:
            if states[r] == MEETS:
                best[r] = mid[r]
            else:
                lo[r] = mid[r]
    summary, states = evaluate(best, regions)
    state = {
        r: UNREACHABLE if r in tried else (MEETS if states[r] == MEETS else UNSURE) for r in regions
    }
    needed: dict[str, int | None] = {r: None if r in tried else best[r] for r in regions}
    return Sizing(tuple(targets), current, needed, tried, state, summary, runs)
