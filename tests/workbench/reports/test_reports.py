"""Reports from records of real runs: a simulated kiosk is inspected, a fault found and cleared,
and the inspection and quarterly reports say what the records say."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from pathlib import Path

import pytest

from devices.kiosk import KioskHost
from workbench.records import ClockRecord
from workbench.reports.inspection import build_inspection
from workbench.reports.quarterly import build_quarterly, quarter_bounds
from workbench.store import RecordStore
from workbench.tickets import new_ticket


async def _workbench(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workbench.cli", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200", **env},
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.timeout(60)
async def test_inspection_report_from_a_real_inspection(state_dir: Path) -> None:
    env = {"WORKBENCH_RECORDS": str(state_dir / "records.sqlite")}
    async with KioskHost(state_dir, "bill_payment", ["KSK-0042"], speed=60) as host:
        host.terminals["KSK-0042"].inject("display.brightness_low")
        host.terminals["KSK-0042"].inject("printer.cover_open")
        manifest = str(host.manifest_path("KSK-0042"))
        code, out, err = await _workbench(
            "diag", "run", "--endpoints", manifest, "inspection", env=env
        )
        assert code == 1, err
        host.terminals["KSK-0042"].clear("display.brightness_low")  # a remedy, in effect
        code, out, err = await _workbench(
            "diag", "run", "--endpoints", manifest, "device:display", env=env
        )
        assert code == 0, err
    with RecordStore(env["WORKBENCH_RECORDS"]) as store:
        report = build_inspection(store, "KSK-0042")
        stored = {r.test: r for r in store.runs("KSK-0042", suite="inspection")[-1].results}
    items = {i.test: i for i in report.items}
    assert len(report.items) == 11
    assert {t: i.status for t, i in items.items()} == {t: r.status for t, r in stored.items()}
    assert items["display"].suspect == "display.brightness_low"
    assert items["print_head"].suspect == "printer.cover_open"
    assert items["print_head"].measurements == stored["print_head"].detail["measurements"]
    # The display passed its re-test; the printer still needs a visit.
    replace = [i.test for i in report.to_replace]
    assert "print_head" in replace and "display" not in replace
    assert report.verdict == "fail"
    passed = sum(i.status == "pass" for i in report.items)

    code, out, err = await _workbench(
        "report", "inspection", "--terminal", "KSK-0042", "--out", str(state_dir), env=env
    )
    assert code == 0, err
    assert f"fail ({passed} of 11 items pass; 0 remedies; {len(replace)} to replace)" in out
    html = next(state_dir.glob("inspection-KSK-0042-*.html")).read_text()
    assert "printer.cover_open" in html and "Site representative" in html
    pdf = next(state_dir.glob("inspection-KSK-0042-*.pdf"))
    assert pdf.read_bytes().startswith(b"%PDF")
    code, out, _ = await _workbench("report", "verify", str(pdf), env=env)
    assert code == 0 and "unchanged" in out
    pdf.write_bytes(pdf.read_bytes() + b"\n")
    code, _, err = await _workbench("report", "verify", str(pdf), env=env)
    assert code == 2 and "not an archived report" in err


def test_quarterly_report_counts_what_the_tickets_say(tmp_path: Path) -> None:
    start, _ = quarter_bounds("2026Q3")
    t0 = dt.datetime.combine(start, dt.time(9)).astimezone().timestamp()
    with RecordStore(tmp_path / "r.sqlite") as store:
        store.describe_terminal("KSK-1", region="East")
        store.describe_terminal("KSK-2", region="South")
        p1 = new_ticket("KSK-1", "P1", "dark", t0, fault="ups.mains_lost")
        number = store.add_ticket(p1)
        store.meet_clock(number, "contact", t0 + 60)
        store.meet_clock(number, "on_site", t0 + 1800)
        store.close_ticket(number, t0 + 3 * 3600, "battery replaced", {"free": True})
        p3 = new_ticket("KSK-2", "P3", "paper", t0 + 86400, fault="printer.paper_out")
        store.add_ticket(p3)
        late = new_ticket("KSK-2", "P3", "paper", t0 + 2 * 86400, fault="printer.paper_out")
        store.add_ticket(late)
        report = build_quarterly(store, "2026q3")
    days = (quarter_bounds("2026Q3")[1] - start).days
    by_terminal = {a.terminal: a for a in report.availability}
    assert by_terminal["KSK-1"].down_hours == 3.0
    assert by_terminal["KSK-1"].share == pytest.approx(1 - 3 / (days * 24))
    assert by_terminal["KSK-2"].share == 1.0  # P3 tickets do not count as down
    assert report.pareto_device == [("printer", 2), ("ups", 1)]
    assert report.tickets_by_severity == {"P1": 1, "P3": 2}
    assert ("contact", 1, 3) in report.sla  # only the P1's contact was met in time
    assert report.on_site == 1 and report.engineers_needed >= 1
    assert report.parts_to_stock == [("ups.mains_lost", 2)]
    assert report.measures[0].startswith("printer:")


def test_a_bad_quarter_is_one_line(tmp_path: Path) -> None:
    from workbench.errors import ConfigError

    with pytest.raises(ConfigError, match="quarter '2026-3' must look like 2026Q3"):
        quarter_bounds("2026-3")
    assert ClockRecord("x", None).met is None


def test_a_quarter_with_no_records_is_still_a_report(tmp_path: Path) -> None:
    from workbench.reports.render import quarterly_html, quarterly_pdf

    with RecordStore(tmp_path / "records.sqlite") as store:
        report = build_quarterly(store, "2025Q1")
    html = quarterly_html(report).decode()
    assert "2025Q1" in html and "<img" not in html  # no charts of nothing
    assert quarterly_pdf(report).startswith(b"%PDF")


def test_a_missing_output_directory_is_named_before_any_work(tmp_path: Path) -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "report", "quarterly", "--quarter", "2026Q3",
         "--out", str(tmp_path / "nope"), "--records", str(tmp_path / "r.sqlite")],
        capture_output=True, text=True, timeout=50,
    )  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert (
        done.stderr.strip()
        == f"workbench: error: {tmp_path / 'nope'}: no such directory for the report"
    )
