"""The capacity plan schema: the shipped organisation, and one-line errors naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.capacity.config import load_plan
from workbench.capacity.scaling import parse_vary, vary, with_engineers, with_region_engineers
from workbench.capacity.sizing import parse_target
from workbench.errors import ConfigError


def test_default_plan_describes_the_service_organisation() -> None:
    plan = load_plan()
    assert [r.name for r in plan.regions] == [
        "Northeast",
        "Northwest",
        "East",
        "Central",
        "Southwest",
        "South",
    ]
    assert sum(len(r.centres) for r in plan.regions) >= 20
    assert 150 <= plan.engineers <= 250
    assert set(plan.skills) == {"bill_payment", "query_print", "ticket"}
    assert plan.inspection.per_year == 4


def test_unknown_key_is_refused_with_file_line_and_valid_keys(
    tmp_path: Path, small_plan_text: str
) -> None:
    text = small_plan_text.replace(
        "        travel: {mean: 0.7}\n", "        travel: {mean: 0.7}\n        travle: 3\n"
    )
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("        travle: 3") + 1
    with pytest.raises(ConfigError) as err:
        load_plan(path)
    message = str(err.value)
    assert message.startswith(f"{path}:{line}: unknown key 'travle' in regions.0.centres.1")
    assert "valid keys: engineers, fleet, name, standby, stock, travel" in message
    assert "\n" not in message


def test_unknown_shift_and_missing_file_are_one_line_errors(
    tmp_path: Path, small_plan_text: str
) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(small_plan_text.replace("shift: day", "shift: dya"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown shift 'dya'; valid shifts: all, day"):
        load_plan(path)
    with pytest.raises(ConfigError, match="no such file"):
        load_plan(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        (
            "{count: 1, shift: day, skills: [basic]}",
            "{count: 1, shift: dya, skills: [basic]}",
            "regions.0.centres.1.engineers.1.shift: centre 'B': unknown shift 'dya'",
        ),
        (
            "{profile: query_print, count: 30,",
            "{profile: query_prnt, count: 30,",
            "regions.1.centres.0.fleet.1.profile: centre 'C': profile 'query_prnt' has no skill",
        ),
        ("      - name: C\n", "      - name: A\n", "regions.1.centres.0.name: 'A' is named twice"),
    ],
)
def test_a_cross_reference_error_names_its_own_line(
    tmp_path: Path, small_plan_text: str, old: str, new: str, where: str
) -> None:
    # these were said at the document's first line ("plan.yaml:1: document: ...")
    assert small_plan_text.count(old) == 1
    text = small_plan_text.replace(old, new)
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    line = max(n for n, t in enumerate(text.splitlines(), 1) if new.strip() in t)  # the 2nd
    with pytest.raises(ConfigError) as err:
        load_plan(path)
    assert str(err.value).startswith(f"{path}:{line}: {where}")


def test_bad_value_names_the_field(tmp_path: Path, small_plan_text: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(
        small_plan_text.replace("success_rate: 0.8", "success_rate: 1.8"), encoding="utf-8"
    )
    with pytest.raises(
        ConfigError,
        match=r"plan.yaml:11: remote.success_rate: Input should be less than or equal to 1",
    ):
        load_plan(path)


def test_engineers_are_spread_in_proportion_and_regions_sized_alone() -> None:
    plan = load_plan()
    assert with_engineers(plan, 150).engineers == 150
    sized = with_region_engineers(plan, {"East": 10})
    assert sized.region_engineers("East") == 10
    assert sized.region_engineers("South") == plan.region_engineers("South")
    with pytest.raises(ConfigError, match="unknown region 'Mars'"):
        with_region_engineers(plan, {"Mars": 3})
    assert vary(plan, "success_rate", 0.5).remote.success_rate == 0.5
    with pytest.raises(ConfigError, match="success_rate=2"):
        vary(plan, "success_rate", 2)


def test_vary_and_target_specs() -> None:
    assert parse_vary("engineers=150:250:50") == ("engineers", [150, 200, 250])
    assert parse_vary("success_rate=0.5,0.9") == ("success_rate", [0.5, 0.9])
    for bad in ("engineers", "engineers=1:2", "wizards=1:2:1", "engineers=5:1:1", "engineers=a,b"):
        with pytest.raises(ConfigError):
            parse_vary(bad)
    assert parse_target("p1_onsite=0.95").key("East") == "East.P1.onsite"
    assert parse_target("availability=0.99").key("overall") == "overall.availability"
    for bad in ("p1_onsite", "p4_onsite=0.9", "p1_coffee=0.9", "p1_onsite=1.5", "onsite=0.9"):
        with pytest.raises(ConfigError):
            parse_target(bad)
