"""Faults driven without a ``simpy.Process`` each (:func:`workbench.capacity.field._drive`): every
figure of a replication is what it is with each fault a process (engineers queued for, parts
out of stock and waited for, standbys swapped in, shifts ending mid-queue); only SimPy's count
of the events it made is smaller."""

from __future__ import annotations

import pytest

from workbench.capacity.config import Plan
from workbench.capacity.field import Field
from workbench.capacity.model import Inputs, run_replication
from workbench.capacity.scaling import with_engineers


def _both(plan: Plan, inputs: Inputs, seed: int, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    runs = []
    for driven in (False, True):
        monkeypatch.setattr(Field, "driven", driven)
        runs.append(run_replication(plan, inputs, seed))
    return runs


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("shape", ["as_is", "short_staffed_no_stock"])
def test_driven_faults_give_every_figure_a_process_per_fault_gives(
    small_plan: Plan, inputs: Inputs, seed: int, shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = small_plan
    if shape != "as_is":
        data = with_engineers(plan, 3).model_dump()
        data["parts"]["default_stock"] = 0
        data["years"] = 0.5
        plan = Plan.model_validate(data)
    process, driven = _both(plan, inputs, seed, monkeypatch)
    # The runs went through the branches a fault can take.
    assert process["overall.faults"] > 100
    assert process["overall.stockouts"] > 0 and process["overall.standby_uses"] > 0
    if shape != "as_is":
        assert process["overall.max_queue"] >= 5
    figures = {k: v for k, v in process.items() if k != "events"}
    assert {k: driven[k] for k in figures} == figures
    assert driven["events"] < process["events"]  # each fault's start and end events are gone
