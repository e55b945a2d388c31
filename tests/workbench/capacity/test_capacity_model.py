"""Invariants of the capacity model that a planner would check before trusting it."""

from __future__ import annotations

from itertools import pairwise

from workbench.capacity.config import Plan
from workbench.capacity.model import Inputs, Model, run_replication
from workbench.capacity.scaling import vary, with_engineers, with_region_engineers
from workbench.faults import FaultCatalog, FaultMode, Severity


def _with(plan: Plan, **changes: object) -> Plan:
    """A copy of the plan with dotted keys replaced (``parts.default_stock=0``)."""
    data = plan.model_dump()
    for dotted, value in changes.items():
        node = data
        *path, last = dotted.split("__")
        for part in path:
            node = node[part]
        node[last] = value
    return Plan.model_validate(data)


def test_same_seed_same_numbers(small_plan: Plan, inputs: Inputs) -> None:
    assert run_replication(small_plan, inputs, 5) == run_replication(small_plan, inputs, 5)
    assert run_replication(small_plan, inputs, 5) != run_replication(small_plan, inputs, 6)


def test_a_region_does_not_feel_another_regions_engineers(small_plan: Plan, inputs: Inputs) -> None:
    # Engineers never cross regions and the hotline and desk do not wait for engineers, so
    # starving South of engineers changes nothing in North, to the last digit.
    base = run_replication(small_plan, inputs, 7)
    starved = run_replication(with_region_engineers(small_plan, {"South": 1}), inputs, 7)
    north = [k for k in base if k.startswith("North.")]
    assert len(north) > 50
    assert {k: base[k] for k in north} == {k: starved[k] for k in north}
    assert starved["South.utilisation"] > base["South.utilisation"]


def test_metrics_are_in_range(small_plan: Plan, inputs: Inputs) -> None:
    m = run_replication(small_plan, inputs, 1)
    assert m["overall.faults"] > 1000
    assert m["overall.faults"] == m["North.faults"] + m["South.faults"]
    assert 0 < m["overall.utilisation"] < 1.2
    assert 0.9 < m["overall.availability"] <= 1
    for sev in ("P1", "P2", "P3"):
        for q in (50, 90, 99):
            assert m[f"overall.{sev}.onsite_p{q}_h"] >= 0
        assert m[f"overall.{sev}.onsite_p50_h"] <= m[f"overall.{sev}.onsite_p99_h"]
    # One inspection per terminal per quarter: 170 terminals, a quarter-year horizon.
    assert m["overall.inspections"] == 170
    assert m["overall.terminals"] == 170


def test_more_engineers_never_lowers_p1_onsite_beyond_noise(
    small_plan: Plan, inputs: Inputs
) -> None:
    shares = [
        run_replication(with_engineers(small_plan, n), inputs, 3)["overall.P1.onsite"]
        for n in (3, 5, 8, 12, 20)
    ]
    assert shares[-1] > shares[0] + 0.1
    for before, after in pairwise(shares):
        assert after >= before - 0.01


def test_remote_fixes_happen_at_the_configured_rate(
    small_plan: Plan, inputs: Inputs, catalog: FaultCatalog
) -> None:
    # A desk and hotline big enough that no attempt misses the window: resolved = success x share fixable.
    model = Model(_with(small_plan, hotline__agents=50, remote__desk_engineers=50), inputs, 2)
    m = model.run()
    fixable = sum(
        g.count * sum(mode.rate_per_hour for mode in g.profile.modes if mode.remote_fixable)
        for g in model.groups
    )
    expected = 0.8 * fixable / model.total_rate
    assert abs(m["overall.remote_resolved"] - expected) < 0.015
    assert (
        run_replication(vary(small_plan, "success_rate", 0.0), inputs, 2)["overall.remote_resolved"]
        == 0
    )
    off = _with(small_plan, remote__enabled=False)
    assert run_replication(off, inputs, 2)["overall.remote_resolved"] == 0


def test_stock_outs_happen_when_stock_is_zero(small_plan: Plan, inputs: Inputs) -> None:
    empty = run_replication(_with(small_plan, parts__default_stock=0, parts__stock={}), inputs, 4)
    plenty = run_replication(_with(small_plan, parts__default_stock=1000), inputs, 4)
    assert empty["overall.stockouts"] > 50
    assert plenty["overall.stockouts"] == 0


def test_standby_swapped_in_when_repair_overruns(small_plan: Plan) -> None:
    # One P1 fault whose repair (5 h) can never meet "restored within 2 h of arrival".
    slow = FaultMode(
        "ups.mains_loss", "ups", Severity.P1, "mains", "-", "power", False, 2000.0, 300.0
    )
    inputs = Inputs(FaultCatalog([slow]), {"bill_payment": ["ups"], "query_print": ["ups"]})
    plan = _with(small_plan, repair__cv=0.0)
    used = run_replication(plan, inputs, 1)
    assert used["overall.standby_uses"] > 0
    assert used["overall.P1.restore"] > 0.5
    none = run_replication(_with(plan, standby__per_centre=0), inputs, 1)
    assert none["overall.standby_uses"] == 0
    assert none["overall.P1.restore"] == 0
    assert none["overall.availability"] < used["overall.availability"]


def test_a_terminal_never_restored_is_down_until_the_horizon(small_plan: Plan) -> None:
    # One P1 fault that needs an engineer, in a region with none: never restored, so each
    # terminal it strikes is down from its report to the end of the run (these stretches were
    # left out, and a plan with no engineers showed 100 % availability)
    p1 = FaultMode("ups.mains_loss", "ups", Severity.P1, "mains", "-", "power", False, 2000.0, 60.0)
    inputs = Inputs(FaultCatalog([p1]), {"bill_payment": ["ups"], "query_print": ["ups"]})
    plan = _with(small_plan, standby__per_centre=0)
    staffed = run_replication(plan, inputs, 3)
    none = run_replication(with_region_engineers(plan, {"South": 0}), inputs, 3)
    assert none["South.P1.restore"] == 0 and none["South.faults"] > 0
    assert none["South.availability"] < staffed["South.availability"] < 1
    assert none["North.availability"] == staffed["North.availability"]
