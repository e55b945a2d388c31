"""The rate table: every fault has a rate, a basis and a handler; staff faults send no one."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import pytest
from click.testing import CliRunner

from workbench.capacity.cli import capacity
from workbench.capacity.config import Basis, Handler, Plan, load_plan
from workbench.capacity.model import Inputs, Model
from workbench.capacity.rates import fleet_year, resolve
from workbench.config import parse_yaml
from workbench.errors import ConfigError
from workbench.faults import FaultCatalog


def test_default_plan_states_its_fleet_once_and_rates_every_fault(catalog: FaultCatalog) -> None:
    plan = load_plan()
    text = resources.files("workbench.capacity").joinpath("default.yaml").read_text("utf-8")
    stated = re.search(r"fleet they serve: ([\d,]+) terminals", text)
    assert stated is not None
    assert int(stated.group(1).replace(",", "")) == plan.terminals
    assert 150 <= plan.engineers <= 220  # "close to 200 trained engineers"
    rates = resolve(plan, catalog)
    assert set(rates) == set(catalog)
    for fid, rate in rates.items():
        assert fid in plan.rates, f"{fid} has no rate in the shipped plan"
        assert rate.source.strip(), fid
        if rate.basis is Basis.cited:
            assert re.search(r"\d{4}", rate.source), f"{fid}: a citation names its year"
    cited = {f for f, r in rates.items() if r.basis is Basis.cited}
    assert {"ups.mains_loss", "host_pc.disk_failing"} <= cited
    staff = {f for f, r in rates.items() if r.handler is Handler.staff}
    assert {"printer.paper_out", "cash_box.full"} <= staff


def test_staff_faults_never_reach_the_model_and_hotline_faults_close_on_the_call(
    small_plan: Plan, inputs: Inputs
) -> None:
    data = small_plan.model_dump()
    data["rates"] = {
        "printer.paper_out": {"per_year": 500, "basis": "assumption", "handler": "staff",
                              "source": "test"},
        "network.link_down": {"per_year": 50, "basis": "assumption", "handler": "hotline",
                              "source": "test"},
    }  # fmt: skip
    plan = Plan.model_validate(data)
    base = Model(small_plan, inputs, 1)
    model = Model(plan, inputs, 1)
    # paper_out at 500 a year would dominate; as staff work it adds nothing to the fault stream
    paper = base.rates["printer.paper_out"].per_hour
    link = 50 / 8760 - base.rates["network.link_down"].per_hour
    assert model.total_rate == pytest.approx(base.total_rate - paper * 170 + link * 170)
    m = model.run()
    assert m["overall.phone_resolved"] > 0.3


def test_rate_mistakes_name_the_fault(small_plan: Plan, catalog: FaultCatalog) -> None:
    data = small_plan.model_dump()
    data["rates"] = {"printer.paper_outt": {"per_year": 1, "basis": "assumption",
                                            "handler": "staff", "source": "x"}}  # fmt: skip
    with pytest.raises(ConfigError, match=r"unknown fault 'printer\.paper_outt'"):
        resolve(Plan.model_validate(data), catalog)
    data["rates"] = {"printer.paper_jam": {"per_year": 1, "basis": "assumption",
                                           "handler": "remote", "source": "x"}}  # fmt: skip
    with pytest.raises(ConfigError, match=r"rates\.printer\.paper_jam: handler 'remote'"):
        resolve(Plan.model_validate(data), catalog)
    text = (
        "rates:\n  printer.paper_jam: {per_year: 1, basis: catalog, handler: onsite, source: x}\n"
    )
    with pytest.raises(ConfigError, match="leave per_year out"):
        parse_yaml(text + _rest(small_plan), Plan, "p.yaml")


def _rest(plan: Plan) -> str:
    import yaml

    data = plan.model_dump(mode="json", exclude={"rates"})
    return yaml.safe_dump(data)


def test_rates_command_prints_sources_and_handlers(
    catalog: FaultCatalog, profiles: dict[str, list[str]]
) -> None:
    obj: dict[str, Any] = {"catalog": catalog, "profiles": profiles}
    result = CliRunner().invoke(capacity, ["rates"], obj=obj)
    assert result.exit_code == 0, result.output
    for text in ("fault rates for a fleet of 14,000 terminals", "Backblaze", "EIA", "all onsite"):
        assert text in result.output
    plan = load_plan()
    fleet = fleet_year(plan, resolve(plan, catalog), profiles)
    assert fleet["printer.paper_out"] == pytest.approx(26 * plan.terminals)
