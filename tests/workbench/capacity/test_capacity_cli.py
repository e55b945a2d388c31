"""The ``capacity`` command group through click's runner, with the catalog passed in ctx.obj."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from workbench.capacity.cli import capacity
from workbench.errors import ConfigError, WorkbenchError
from workbench.faults import FaultCatalog


@pytest.fixture()
def obj(catalog: FaultCatalog, profiles: dict[str, list[str]]) -> dict[str, Any]:
    return {"catalog": catalog, "profiles": profiles}


def invoke(args: list[str], obj: dict[str, Any] | None) -> Result:
    return CliRunner().invoke(capacity, args, obj=obj, catch_exceptions=True)


def test_run_json_reports_every_clock_per_region(
    obj: dict[str, Any], small_plan_file: Path
) -> None:
    result = invoke(
        ["run", str(small_plan_file), "--years", "0.1", "--reps", "2", "--workers", "1", "--json"],
        obj,
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    metrics = doc["metrics"]
    assert doc["reps"] == 2
    for scope in ("overall", "North", "South"):
        assert 0 <= metrics[f"{scope}.P1.onsite"]["mean"] <= 1
        assert metrics[f"{scope}.P1.onsite"]["ci95"] is not None
        assert 0 < metrics[f"{scope}.availability"]["mean"] <= 1


def test_run_table_has_the_clocks(obj: dict[str, Any], small_plan_file: Path) -> None:
    result = invoke(
        ["run", str(small_plan_file), "--years", "0.05", "--reps", "2", "--workers", "1"], obj
    )
    assert result.exit_code == 0, result.output
    for text in (
        "P1 on site <= 1 h",
        "P3 fixed <= 2 working days",
        "North",
        "utilisation",
        "stock-outs",
    ):
        assert text in result.output


def test_bad_config_is_a_one_line_error_not_a_traceback(
    obj: dict[str, Any], tmp_path: Path, small_plan_text: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        small_plan_text.replace("standby: {per_centre", "stanby: {per_centre"), encoding="utf-8"
    )
    result = invoke(["run", str(bad), "--json"], obj)
    assert isinstance(result.exception, ConfigError)
    assert str(result.exception).startswith(f"{bad}:")
    assert "unknown key 'stanby'" in str(result.exception)
    for args in (
        ["sweep", str(bad), "--vary", "engineers=1:2:1"],
        ["sweep", "--vary", "wizards=1:2:1"],
        ["size", "--target", "p9_onsite=2"],
        ["erlang", "--arrival-rate", "5", "--service-rate", "1", "--servers", "4"],
        ["plot", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "x.png")],
    ):
        result = invoke(args, obj)
        assert isinstance(result.exception, WorkbenchError), (args, result.exception)
        assert "\n" not in str(result.exception)


@pytest.mark.parametrize(
    ("entry", "what"),
    [
        (
            "printer.paper_outt: {per_year: 1, basis: assumption, handler: staff, source: x}",
            "rates.printer.paper_outt: unknown fault 'printer.paper_outt'; see 'workbench faults "
            "list'; did you mean 'printer.paper_out'?",
        ),
        (
            "printer.paper_jam: {per_year: 1, basis: assumption, handler: remote, source: x}",
            "rates.printer.paper_jam: handler 'remote', but the catalog says it is not "
            "remote-fixable",
        ),
    ],
)
def test_a_rate_the_catalog_refuses_is_named_at_its_line(
    obj: dict[str, Any], tmp_path: Path, small_plan_text: str, entry: str, what: str
) -> None:
    # said as 'plan rates: unknown fault ...', no file, no line; and 'x in catalog' raised the
    # catalog's own error for the unknown id instead of saying False
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"{small_plan_text}rates:\n  {entry}\n", encoding="utf-8")
    line = len(bad.read_text().splitlines())
    for args in (["run"], ["rates"], ["sweep", "--vary", "engineers=1,2"], ["size"]):
        if args == ["size"]:
            args = [*args, "--target", "p3_onsite=0.5"]
        result = invoke([args[0], str(bad), *args[1:]], obj)
        assert isinstance(result.exception, ConfigError), (args, result.exception)
        assert str(result.exception) == f"{bad}:{line}: {what}"


def test_plan_check_says_every_problem_and_run_says_how_to_list_them(
    obj: dict[str, Any], tmp_path: Path, small_plan_text: str, small_plan_file: Path
) -> None:
    # run said "(and 1 more problem)" with no way to list them (scenarios have 'validate')
    text = small_plan_text.replace("success_rate: 0.8", "success_rate: 1.8")
    text = text.replace("travel: {mean: 0.7}", "travel: {mean: -0.7}")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("years:", "yeers:"), encoding="utf-8")
    values = tmp_path / "values.yaml"
    values.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    rate, travel = (
        next(n for n, t in enumerate(lines, 1) if part in t)
        for part in ("success_rate: 1.8", "mean: -0.7")
    )

    result = CliRunner().invoke(
        capacity, ["plan", "check", str(small_plan_file), str(bad)], obj=obj
    )
    assert result.exit_code == 2
    assert result.stdout.startswith(f"ok {small_plan_file}: small (")
    said = result.stderr.splitlines()
    assert [line.split(": ")[0] for line in said[:-1]] == [
        f"{bad}:{lines.index('years: 0.25') + 1}",
        f"{bad}:{rate}",
        f"{bad}:{travel}",
    ]
    assert said[-1] == f"workbench: error: {bad}: 3 problems"

    run = invoke(["run", str(values)], obj)
    assert isinstance(run.exception, ConfigError)
    assert str(run.exception).endswith(
        f"(and 1 more problem: 'workbench capacity plan check {values}' lists each)"
    )
    # the first problem an unknown key: it was said alone, the two after it not counted
    for args in (
        ["run"],
        ["sweep", "--vary", "engineers=1,2"],
        ["size", "--target", "p3_onsite=0.5"],
    ):
        result = invoke([args[0], str(bad), *args[1:]], obj)
        assert isinstance(result.exception, ConfigError), (args, result.exception)
        assert str(result.exception) == (
            f"{said[0]} (and 2 more problems: 'workbench capacity plan check {bad}' lists each)"
        )


@pytest.mark.parametrize("command", [["run"], ["sweep", "--vary", "engineers=1,2"], ["size"]])
def test_a_negative_seed_is_a_usage_error(
    obj: dict[str, Any], small_plan_file: Path, command: list[str]
) -> None:
    # numpy's seed sequence raised "expected non-negative integer" from the first replication
    args = [command[0], str(small_plan_file), *command[1:], "--seed", "-5", "--reps", "1"]
    if command == ["size"]:
        args += ["--target", "p3_onsite=0.5"]
    result = invoke(args, obj)
    assert result.exit_code == 2, result.exception
    assert "Invalid value for '--seed': -5 is not in the range x>=0." in result.output


def test_missing_catalog_is_named(small_plan_file: Path) -> None:
    result = invoke(["run", str(small_plan_file)], None)
    assert isinstance(result.exception, ConfigError)
    assert "no fault catalog" in str(result.exception)


def test_erlang_json(obj: dict[str, Any]) -> None:
    args = ["erlang", "--arrival-rate", "10", "--service-rate", "1", "--servers", "12"]
    result = invoke([*args, "--customers", "20000", "--reps", "3", "--workers", "1", "--json"], obj)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["erlang_c"]["p_wait"] == pytest.approx(0.449388, abs=1e-6)
    assert abs(doc["simulated"]["p_wait"]["mean"] - 0.449388) < 0.05
    table = invoke([*args, "--customers", "2000", "--reps", "2", "--workers", "1"], obj)
    assert "P(wait)" in table.output and "0.449388" in table.output


def test_sweep_then_plot_then_size(
    obj: dict[str, Any], small_plan_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sweep.csv"
    common = ["--years", "0.05", "--reps", "2", "--workers", "1"]
    result = invoke(
        ["sweep", str(small_plan_file), "--vary", "engineers=4:8:4", *common, "--out", str(out)],
        obj,
    )
    assert result.exit_code == 0, result.output
    assert "results written to" in result.output and out.exists()
    png = tmp_path / "sweep.png"
    result = invoke(["plot", str(out), "--out", str(png), "--terminal"], obj)
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "SLA attainment" in result.output
    result = invoke(
        ["size", str(small_plan_file), "--target", "p2_onsite=0.8", *common, "--json"], obj
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc["regions"]) == {"North", "South"}
    assert doc["total"]["needed"] == sum(r["needed"] for r in doc["regions"].values())


@pytest.mark.parametrize("years", ["nan", "inf"])
def test_years_that_are_not_finite_are_a_usage_error(
    obj: dict[str, Any], small_plan_file: Path, years: str
) -> None:
    # FloatRange(min=0) let nan through, and the run died with "cannot convert float NaN to
    # integer" from a worker process
    result = invoke(["run", str(small_plan_file), "--years", years, "--workers", "1"], obj)
    assert result.exit_code == 2, result.output
    assert "not a finite number of years" in result.output


def test_sweep_out_plot_input_and_vary_value_mistakes_are_one_line_errors(
    obj: dict[str, Any], small_plan_file: Path, tmp_path: Path
) -> None:
    # --out in a missing directory raised FileNotFoundError after the whole sweep had run
    missing = tmp_path / "nowhere" / "sweep.csv"
    result = invoke(
        ["sweep", str(small_plan_file), "--vary", "engineers=1,2", "--out", str(missing)], obj
    )
    assert isinstance(result.exception, ConfigError), result.exception
    assert str(result.exception) == f"--out {missing}: no directory {missing.parent}"
    # a results file that is not text raised UnicodeDecodeError
    binary = tmp_path / "sweep.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = invoke(["plot", str(binary), "--terminal"], obj)
    assert isinstance(result.exception, ConfigError), result.exception
    assert "not a sweep results file" in str(result.exception)
    # a file with no sweep rows said "no sweep points to plot" without naming the file
    headless = tmp_path / "notes.csv"
    headless.write_text("garbage\n")
    result = invoke(["plot", str(headless), "--terminal"], obj)
    assert isinstance(result.exception, ConfigError), result.exception
    assert str(result.exception).startswith(f"{headless}: no sweep points")
    # a value the plan refuses was reported as pydantic's documentation link, not the reason
    args = ["sweep", str(small_plan_file), "--vary", "success_rate=2", "--workers", "1"]
    result = invoke(args, obj)
    assert isinstance(result.exception, ConfigError), result.exception
    assert str(result.exception) == "success_rate=2: Input should be less than or equal to 1"
    # a plot named .txt was matplotlib's "Format 'txt' is not supported", as a traceback
    result = invoke(["plot", str(headless), "--out", str(tmp_path / "plot.txt")], obj)
    assert isinstance(result.exception, ConfigError), result.exception
    assert (
        str(result.exception)
        == f"--out {tmp_path / 'plot.txt'}: a plot is written as .png, .svg, .pdf"
    )


def test_size_unreachable_exits_0_with_a_verdict_row(
    obj: dict[str, Any], small_plan_file: Path
) -> None:
    args = ["size", str(small_plan_file), "--target", "p1_onsite=0.999", "--reps", "2"]
    result = invoke([*args, "--max-reps", "2", "--years", "0.05", "--workers", "1"], obj)
    assert result.exit_code == 0, result.output
    rows = {line.split()[1]: line for line in result.output.splitlines() if line.startswith("│")}
    # each region's row says so itself, and names the count its figures were measured at
    for region in ("North", "South"):
        assert re.search(r"not reachable +│ not reachable with [\d,]+ engineers", rows[region])
    assert "not reachable in 2 of 2 regions" in rows["total"]
    assert "at needed" not in result.output
    assert "at the count tried last" in " ".join(result.output.split())


def test_plan_export_is_the_plan_run_reads(obj: dict[str, Any], tmp_path: Path) -> None:
    result = invoke(["plan", "export"], obj)
    assert result.exit_code == 0, result.output
    path = tmp_path / "plan.yaml"
    path.write_text(result.output, encoding="utf-8")
    from workbench.capacity.config import load_plan

    assert load_plan(path) == load_plan()
    assert result.output.startswith("# The service plan's support organisation")


def test_run_resizes_fleet_and_engineers(obj: dict[str, Any], small_plan_file: Path) -> None:
    args = ["run", str(small_plan_file), "--terminals", "340", "--engineers", "20"]
    result = invoke([*args, "--years", "0.02", "--reps", "2", "--workers", "1", "--json"], obj)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["terminals"] == 340 and doc["engineers"] == 20
    assert doc["metrics"]["overall.terminals"]["mean"] == 340
    assert doc["verdict"]["overall"] in ("holds", "fails", "undecided")
    rows = doc["verdict"]["rows"]
    assert {r["scope"] for r in rows} == {"overall", "North", "South"}
    assert all(r["from"] == "fault report" for r in rows)
    table = invoke(
        ["run", str(small_plan_file), "--years", "0.02", "--reps", "2", "--workers", "1"], obj
    )
    assert table.output.startswith("SLA verdict: ")


def test_vary_twice_is_refused_and_regions_are_named(
    obj: dict[str, Any], small_plan_file: Path, tmp_path: Path
) -> None:
    result = invoke(
        ["sweep", str(small_plan_file), "--vary", "engineers=1,2", "--vary", "terminals=5,6"], obj
    )
    assert isinstance(result.exception, ConfigError)
    assert "--vary given 2 times (engineers, terminals)" in str(result.exception)
    result = invoke(
        ["sweep", str(small_plan_file), "--vary", "engineers=1,2", "--region", "Nort"], obj
    )
    assert str(result.exception) == "--region 'Nort': no such region; regions: North, South, all"
    out = tmp_path / "s.csv"
    args = ["sweep", str(small_plan_file), "--vary", "engineers=3,6", "--region", "all"]
    result = invoke(
        [*args, "--years", "0.02", "--reps", "2", "--workers", "1", "--out", str(out)], obj
    )
    assert result.exit_code == 0, result.output
    assert (
        "sweep of engineers: North" in result.output
        and "sweep of engineers: South" in result.output
    )
    result = invoke(
        ["plot", str(out), "--terminal", "--region", "all", "--out", str(tmp_path / "p.png")], obj
    )
    assert result.exit_code == 0, result.output
    for scope in ("overall", "North", "South"):
        assert f"SLA attainment and utilisation ({scope};" in result.output
    assert "··· target 95 %" in result.output and "1 P1 on site <= 1 h" in result.output
    result = invoke(["plot", str(out), "--terminal", "--region", "East"], obj)
    assert (
        str(result.exception)
        == "--region 'East': not in the results; known: overall, North, South, all"
    )
