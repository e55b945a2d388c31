"""Sizing: the count found meets the target at 95 %, one engineer fewer does not, and an
unreachable target is a verdict row, not an error."""

from __future__ import annotations

from workbench.capacity.config import Plan
from workbench.capacity.model import Inputs
from workbench.capacity.scaling import with_region_engineers
from workbench.capacity.sizing import MEETS, UNREACHABLE, judge_region, parse_target, size
from workbench.capacity.stats import Summary
from workbench.capacity.sweep import run_raw


def test_size_finds_the_fewest_engineers_per_region(small_plan: Plan, inputs: Inputs) -> None:
    targets = [parse_target("p1_onsite=0.6"), parse_target("p3_fix=0.9")]
    kwargs = {"seed": 7, "years": 0.1, "workers": 1}
    result = size(small_plan, inputs, targets, reps=3, max_reps=9, **kwargs)
    assert set(result.needed) == {"North", "South"}
    for region, n in result.needed.items():
        assert n is not None and n >= 2  # so that "one fewer" is not trivially zero engineers
        if result.state[region] != MEETS:
            continue
        assert judge_region(result.summary, region, targets) == MEETS
        fewer = with_region_engineers(small_plan, {**result.needed, region: n - 1})  # type: ignore[dict-item]
        runs = run_raw([fewer], inputs, range(result.summary.reps), **kwargs)[0]
        assert judge_region(Summary.of(runs), region, targets) != MEETS, region
    assert MEETS in result.state.values()


def test_unreachable_target_is_a_verdict_for_every_region(small_plan: Plan, inputs: Inputs) -> None:
    # On-site within 1 h for every P1 is beyond travel times of 0.5-0.7 h on average.
    result = size(
        small_plan,
        inputs,
        [parse_target("p1_onsite=0.999")],
        reps=2,
        max_reps=2,
        seed=7,
        years=0.05,
        workers=1,
    )
    assert result.state == {"North": UNREACHABLE, "South": UNREACHABLE}
    assert all(n is None for n in result.needed.values())
    assert all(result.tried[r] >= small_plan.region_engineers(r) for r in result.tried)
