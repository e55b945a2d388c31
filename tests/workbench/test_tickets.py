"""Tickets: the service plan's clocks from a fault report, breaches, warranty and billing, and
``workbench ticket`` on both records engines."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench import tickets
from workbench.errors import ConfigError
from workbench.records import TicketRecord

T0 = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC).timestamp()  # a Friday, 09:00 UTC
H = 3600.0


def _deadlines(ticket: TicketRecord) -> dict[str, float | None]:
    return {c.clock: None if c.deadline is None else c.deadline - T0 for c in ticket.clocks}


def test_p1_clocks_run_from_the_report_and_restore_from_arrival() -> None:
    t = tickets.new_ticket("KSK-1", "P1", "terminal dark", T0)
    assert _deadlines(t) == {
        "contact": 300.0,
        "solution": 1 * H,
        "remote_session": 1 * H,
        "on_site": 1 * H,
        "service_restored": None,
        "all_normal": 6 * H,
    }
    assert tickets.restore_deadline("P1", T0 + 0.5 * H) == T0 + 2.5 * H


def test_p3_has_a_repair_plan_and_two_working_days() -> None:
    t = tickets.new_ticket("KSK-1", "P3", "paper out", T0)
    deadlines = _deadlines(t)
    assert deadlines["on_site"] == 12 * H and deadlines["repair_plan"] == 6 * H
    assert deadlines["service_restored"] == 4 * 24 * H  # Friday + 2 working days = Tuesday
    assert "all_normal" not in deadlines


def test_breaches_are_late_or_still_open_past_the_deadline() -> None:
    t = tickets.new_ticket("KSK-1", "P2", "jam", T0)
    met = tuple(
        type(c)(c.clock, c.deadline, T0 + 60 if c.clock == "contact" else None) for c in t.clocks
    )
    t = TicketRecord(t.terminal, t.severity, t.summary, t.source, t.reported, clocks=met)
    assert tickets.breaches(t, T0 + 10) == []
    assert tickets.breaches(t, T0 + 1.5 * H) == ["solution", "remote_session"]
    late = tuple(type(c)(c.clock, c.deadline, T0 + 600) for c in t.clocks if c.clock == "contact")
    assert tickets.breaches(TicketRecord("K", "P2", "x", "branch", T0, clocks=late), T0 + 700) == [
        "contact"
    ]


def test_unknown_severity_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="'P4' is not one of P1, P2, P3"):
        tickets.new_ticket("KSK-1", "P4", "x", T0)


def test_warranty_counts_from_the_day_after_acceptance() -> None:
    cover = tickets.warranty(dt.date(2026, 1, 31))
    assert cover.hardware_until == dt.date(2027, 1, 31)
    assert cover.software_until == dt.date(2027, 1, 31)
    assert cover.parts_until == dt.date(2036, 1, 31)


def test_billing_free_under_warranty_then_parts_at_cost_capped_at_the_bid() -> None:
    accepted = dt.date(2026, 1, 31)
    assert tickets.billing(accepted, dt.date(2027, 1, 31), parts_cost=80)["free"] is True
    after = tickets.billing(accepted, dt.date(2027, 2, 1), parts_cost=80, bid_price=50)
    assert after == {"free": False, "reason": "out of warranty: parts at cost", "charge": 50}
    misuse = tickets.billing(accepted, dt.date(2026, 6, 1), parts_cost=80, defect=False)
    assert misuse["free"] is False and misuse["charge"] == 80


def _workbench(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", "ticket", *args],
        capture_output=True,
        text=True,
        timeout=50,
        env={**os.environ, "COLUMNS": "200", "TZ": "UTC", **env},
    )


def test_ticket_commands_on_each_engine(records_url: str) -> None:
    env = {"WORKBENCH_RECORDS": records_url}
    opened = _workbench(
        "open", "--terminal", "KSK-0001", "--severity", "P2", "--summary", "notes rejected",
        "--at", "2026-12-04T09:00", "--accepted", "2025-01-10", env=env,
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    assert "ticket #1: P2 on KSK-0001: notes rejected" in opened.stdout
    assert "on_site           2026-12-04 11:00" in opened.stdout
    early = _workbench("meet", "1", "on_site", "--at", "2026-12-03T11:30", env=env)
    assert early.returncode == 2 and early.stderr.count("\n") == 1
    assert "on_site met at 2026-12-03 11:30 is before the report (2026-12-04 09:00)" in early.stderr
    met = _workbench("meet", "1", "on_site", "--at", "2026-12-04T11:30", env=env)
    assert "on_site met 2026-12-04 11:30 (late)" in met.stdout
    again = _workbench("meet", "1", "on_site", env=env)
    assert again.returncode == 2 and "on_site was already met" in again.stderr
    early = _workbench("close", "1", "--resolution", "x", "--at", "2026-12-04T08:00", env=env)
    assert (
        early.returncode == 2 and "closed at 2026-12-04 08:00 is before the report" in early.stderr
    )
    closed = _workbench(
        "close", "1", "--resolution", "sensor cleaned", "--parts-cost", "120", "--bid-price",
        "90", "--at", "2026-12-04T13:00", env=env,
    )  # fmt: skip
    assert closed.returncode == 0, closed.stderr
    assert "billable 90.00 (out of warranty: parts at cost)" in closed.stdout
    assert "breached: contact, remote_session, solution, on_site" in closed.stdout
    shown = _workbench("show", "1", env=env)
    assert "service_restored" in shown.stdout and "2026-12-04 15:30" in shown.stdout
    listed = _workbench("list", "--open", env=env)
    assert "0 ticket(s)" in listed.stdout
    missing = _workbench("show", "7", env=env)
    assert missing.returncode == 5 and missing.stderr.count("\n") == 1
    assert "no ticket #7" in missing.stderr


def test_a_ticket_for_a_fault_the_catalog_lacks_is_refused_and_not_recorded(
    tmp_path: Path,
) -> None:
    env = {"WORKBENCH_RECORDS": str(tmp_path / "records.sqlite")}
    base = ["open", "--terminal", "KSK-0001", "--severity", "P2", "--summary", "no receipts"]
    unknown = _workbench(*base, "--fault", "nosuch.fault", env=env)
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert unknown.stderr == (
        "workbench: error: unknown fault 'nosuch.fault'; see 'workbench faults list'\n"
    )
    typo = _workbench(*base, "--fault", "printer.paper_ot", env=env)
    assert typo.returncode == 2 and typo.stderr.count("\n") == 1
    assert typo.stderr.endswith("; did you mean 'printer.paper_out'?\n")
    assert not (tmp_path / "records.sqlite").exists()
    known = _workbench(*base, "--fault", "printer.paper_out", env=env)
    assert known.returncode == 0, known.stderr
    assert "fault printer.paper_out" in _workbench("show", "1", env=env).stdout
    assert "1 ticket(s)" in _workbench("list", env=env).stdout


def test_a_ticket_closed_in_time_needs_no_visit() -> None:
    t = tickets.new_ticket("KSK-1", "P3", "paper", T0)
    met = tuple(
        type(c)(c.clock, c.deadline, T0 + 60 if c.clock in ("contact", "solution") else None)
        for c in t.clocks
    )
    closed = TicketRecord("KSK-1", "P3", "x", "branch", T0, "closed", closed=T0 + 1800, clocks=met)
    states = {c.clock: c.state for c in tickets.clock_states(closed, T0 + 30 * 86400)}
    assert states["on_site"] == "not needed" and states["repair_plan"] == "not needed"
    assert tickets.breaches(closed, T0 + 30 * 86400) == []
    late = TicketRecord("KSK-1", "P3", "x", "branch", T0, "closed", closed=T0 + 7 * H, clocks=met)
    assert tickets.breaches(late, T0 + 30 * 86400) == ["remote_session", "repair_plan"]
