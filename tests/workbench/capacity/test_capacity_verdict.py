"""The SLA verdict: an overloaded plan fails, a generous one holds, and the interval decides."""

from __future__ import annotations

import math

import pytest

from workbench.capacity.clauses import BY_KEY, CLAUSES
from workbench.capacity.config import Plan
from workbench.capacity.model import Inputs
from workbench.capacity.scaling import with_engineers, with_terminals
from workbench.capacity.stats import Estimate
from workbench.capacity.sweep import run_reps
from workbench.capacity.verdict import (
    FAILS,
    HOLDS,
    NO_FAULTS,
    UNDECIDED,
    decide,
    judge,
    resolve_targets,
)
from workbench.config import parse_yaml
from workbench.errors import ConfigError


def _generous(text: str) -> Plan:
    """The small plan with travel of 12 minutes, engineers and agents to spare, parts in stock."""
    text = text.replace("travel: {mean: 0.5}", "travel: {mean: 0.2, kind: fixed}")
    text = text.replace("travel: {mean: 0.7}", "travel: {mean: 0.2, kind: fixed}")
    text = text.replace("travel: {mean: 0.6}", "travel: {mean: 0.2, kind: fixed}")
    text = text.replace("hotline: {agents: 4", "hotline: {agents: 40")
    text = text.replace("desk_engineers: 4", "desk_engineers: 40")
    text = text.replace("default_stock: 2", "default_stock: 500")
    text = text.replace("count: 1, shift: day", "count: 1, shift: all")
    plan = parse_yaml(text, Plan, "generous.yaml")
    return with_engineers(plan, 60)


def test_overloaded_plan_fails_generous_plan_holds(
    small_plan: Plan, small_plan_text: str, inputs: Inputs
) -> None:
    scopes = ["overall", "North", "South"]
    kwargs = {"reps": 4, "seed": 3, "years": 0.1, "workers": 1}
    targets = resolve_targets(0.9, {})

    # ten times the fleet for two engineers: far more work than hours
    overloaded = with_engineers(with_terminals(small_plan, 1700), 2)
    verdict = judge(run_reps([overloaded], inputs, **kwargs)[0], scopes, targets)
    assert verdict.overall == FAILS
    assert verdict.line().startswith("SLA verdict: FAILS (")
    failed = {(r.clause.key, r.scope) for r in verdict.rows if r.verdict == FAILS}
    assert ("p1_onsite", "North") in failed and ("p2_onsite", "South") in failed

    generous = _generous(small_plan_text)
    verdict = judge(run_reps([generous], inputs, **kwargs)[0], scopes, targets)
    bad = [(r.clause.key, r.scope, r.share) for r in verdict.rows if r.verdict != HOLDS]
    assert verdict.overall == HOLDS, bad
    assert verdict.line().startswith("SLA verdict: HOLDS (0 of ")
    # every clause, every scope: 3 scopes x every clause of the service plan
    assert len(verdict.rows) == 3 * len(CLAUSES)


def test_interval_against_target_decides() -> None:
    assert decide(Estimate(0.97, 0.01), 0.95, 100) == HOLDS
    assert decide(Estimate(0.90, 0.01), 0.95, 100) == FAILS
    assert decide(Estimate(0.95, 0.01), 0.95, 100) == UNDECIDED
    assert decide(Estimate(0.99, math.nan), 0.95, 100) == UNDECIDED  # one replication
    assert decide(Estimate(math.nan, math.nan), 0.95, 0) == NO_FAULTS


def test_targets_default_plan_shares_and_overrides_name_the_bad_one() -> None:
    targets = resolve_targets(0.95, {"p1_onsite": 0.5}, ["p2_onsite=0.8"])
    assert targets["p1_onsite"] == 0.5 and targets["p2_onsite"] == 0.8
    assert targets["p3_fix"] == 0.95 and set(targets) == set(BY_KEY)
    assert set(resolve_targets(0.95, {}, ["default=0.7"]).values()) == {0.7}
    with pytest.raises(ConfigError, match=r"unknown SLA clause 'p1_onsight'; valid: p1_contact"):
        resolve_targets(0.95, {}, ["p1_onsight=0.9"])
    with pytest.raises(ConfigError, match=r"or 'default'; did you mean 'p1_onsite'\?$"):
        resolve_targets(0.95, {}, ["p1_onsight=0.9"])
    with pytest.raises(ConfigError) as info:  # nothing close: no guess
        resolve_targets(0.95, {}, ["wizards=0.9"])
    assert str(info.value).endswith("p3_fix or 'default'")
    with pytest.raises(ConfigError, match=r"the share of 'p1_onsite' must be a number in \[0, 1\]"):
        resolve_targets(0.95, {}, ["p1_onsite=95"])


def test_restore_clock_counts_from_the_report_not_the_arrival() -> None:
    assert BY_KEY["p1_restore"].hours == 3.0  # on site 1 h + restored 2 h after arrival
    assert BY_KEY["p2_restore"].hours == 6.0
    assert "on site 1 h + 2 h" in BY_KEY["p1_restore"].label
    assert BY_KEY["p3_onsite"].hours == 12.0 and BY_KEY["p2_onsite"].hours == 2.0
    assert BY_KEY["p1_session"].hours == 1.0 and BY_KEY["p3_plan"].hours == 6.0
