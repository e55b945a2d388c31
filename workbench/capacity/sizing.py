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
from workbench.capacity.sweep import Progress, run_reps
from workbench.capacity.verdict import parse_share
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
        f"{', '.join(sorted(SCOPE_METRICS))}"
    )


def meets(summary: Summary, region: str, targets: Sequence[Target]) -> bool:
    """Whether one region meets every target (a metric with no faults counts as met)."""
    for t in targets:
        est = summary.get(t.key(region))
        if est is None:
            raise ConfigError(f"no metric {t.key(region)!r} in the model's results")
        if est.mean == est.mean and est.mean < t.floor:  # NaN: nothing to measure
            return False
    return True


def _shortfall(summary: Summary, region: str, targets: Sequence[Target]) -> float:
    """How far a region is from its targets in total (0 when it meets them)."""
    total = 0.0
    for t in targets:
        mean = summary[t.key(region)].mean
        if mean == mean:
            total += max(0.0, t.floor - mean)
    return total


@dataclass(frozen=True)
class Sizing:
    """The answer: engineers needed per region, and the summary of the plan sized that way."""

    targets: tuple[Target, ...]
    current: dict[str, int]
    needed: dict[str, int]
    summary: Summary
    runs: int


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
) -> Sizing:
    """Bisect every region's engineer count at once for the fewest that meet all targets."""
    if not targets:
        raise ConfigError("give at least one --target, e.g. --target p1_onsite=0.95")
    regions = [r.name for r in plan.regions]
    current = {r: plan.region_engineers(r) for r in regions}
    runs = 0

    def evaluate(counts: dict[str, int]) -> Summary:
        nonlocal runs
        runs += 1
        return run_reps(
            [with_region_engineers(plan, counts)],
            inputs,
            reps,
            seed,
            years,
            workers,
            scheduler,
            progress,
        )[0]

    lo = dict.fromkeys(regions, 0)  # known (or assumed) to fail
    hi: dict[str, int | None] = dict.fromkeys(regions, None)  # known to meet
    probe = {r: max(1, current[r]) for r in regions}
    shortfall: dict[str, float] = dict.fromkeys(regions, math.inf)
    while any(hi[r] is None for r in regions):
        summary = evaluate(probe)
        for r in regions:
            if hi[r] is not None:
                continue
            if meets(summary, r, targets):
                hi[r] = probe[r]
                continue
            gap = _shortfall(summary, r, targets)
            if probe[r] >= limit or gap > shortfall[r] - 1e-3:
                # Doubling the crew no longer helps (travel, not engineers, is the limit).
                worst = ", ".join(f"{t.name} {summary[t.key(r)].mean:.3f}" for t in targets)
                raise ConfigError(
                    f"region {r}: targets not reachable by adding engineers; "
                    f"with {probe[r]} engineers: {worst}"
                )
            shortfall[r] = gap
            lo[r] = probe[r]
            probe[r] = min(limit, probe[r] * 2)
    best: dict[str, int] = {r: int(hi[r] or 0) for r in regions}
    while any(best[r] - lo[r] > 1 for r in regions):
        mid = {r: (lo[r] + best[r]) // 2 if best[r] - lo[r] > 1 else best[r] for r in regions}
        summary = evaluate(mid)
        for r in regions:
            if best[r] - lo[r] <= 1:
                continue
            if meets(summary, r, targets):
                best[r] = mid[r]
            else:
                lo[r] = mid[r]
    summary = evaluate(best)
    return Sizing(tuple(targets), current, best, summary, runs)
