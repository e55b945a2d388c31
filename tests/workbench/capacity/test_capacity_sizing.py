"""Sizing: the count found meets the target, and one engineer fewer does not."""

from __future__ import annotations

import pytest

from workbench.capacity.config import Plan
from workbench.capacity.model import Inputs
from workbench.capacity.scaling import with_region_engineers
from workbench.capacity.sizing import meets, parse_target, size
from workbench.capacity.sweep import run_reps
from workbench.errors import ConfigError


def test_size_finds_the_fewest_engineers_per_region(small_plan: Plan, inputs: Inputs) -> None:
    targets = [parse_target("p1_onsite=0.7"), parse_target("p3_fix=0.9")]
    kwargs = {"reps": 2, "seed": 7, "years": 0.1, "workers": 1}
    result = size(small_plan, inputs, targets, **kwargs)
    assert set(result.needed) == {"North", "South"}
    for region, n in result.needed.items():
        assert n >= 2  # so that "one fewer" is not trivially zero engineers
        assert meets(result.summary, region, targets)
        fewer = with_region_engineers(small_plan, {**result.needed, region: n - 1})
        summary = run_reps([fewer], inputs, **kwargs)[0]
        assert not meets(summary, region, targets), region


def test_unreachable_target_is_reported_not_searched_forever(
    small_plan: Plan, inputs: Inputs
) -> None:
    # On-site within 1 h for every P1 is beyond travel times of 0.5-0.7 h on average.
    with pytest.raises(
        ConfigError,
        match=r"not reachable by adding engineers; with \d+ engineers: p1_onsite 0\.\d+",
    ):
        size(
            small_plan,
            inputs,
            [parse_target("p1_onsite=0.999")],
            reps=1,
            seed=7,
            years=0.05,
            workers=1,
        )
