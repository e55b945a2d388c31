"""`workbench demo --fleet`, run as a new user runs it, on each records engine."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.store import RecordStore

WB = [sys.executable, "-m", "workbench.cli"]


def _in_session(sid: int) -> list[str]:
    """The processes left in session ``sid`` (a command started with ``start_new_session``), as
    ``pid (name)``: whatever it started and left behind, whoever reparented it."""
    left = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        head, _, rest = text.rpartition(")")
        if int(rest.split()[3]) == sid:  # fields after the name: state ppid pgrp session
            left.append(head + ")")
    return left


@pytest.mark.timeout(150)
def test_fleet_demo_runs_end_to_end(state_dir: Path, records_url: str) -> None:
    env = {**os.environ, "COLUMNS": "200", "WORKBENCH_RECORDS": records_url}
    with subprocess.Popen(
        [*WB, "demo", "--fleet", "--state-dir", str(state_dir), "--speed", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own session: what it leaves behind can be found
    ) as demo:
        out, err = demo.communicate(timeout=140)
    assert demo.returncode == 0, err
    base = state_dir / "fleet"
    # three tickets opened for the injected faults, on the terminals they were injected on
    assert re.search(r"ticket #\d+: P3 on KSK-F002: .*\(printer\.paper_out\)", out)
    assert re.search(r"ticket #\d+: P2 on KSK-F005: .*\(system_software\.service_crashed\)", out)
    assert "on 5 terminals" in out  # one fleet grant
    # the fleet inspection found each fault on its terminal and nothing on the others
    rows = {m[1]: m[2] for m in re.finditer(r"│ (KSK-F\d+) │ (\w+) ", out)}
    assert rows == {
        "KSK-F001": "pass",
        "KSK-F002": "fail",
        "KSK-F003": "warn",
        "KSK-F004": "pass",
        "KSK-F005": "fail",
    }, out
    # the findings read as `remote fleet`, the TUI and the records say them
    assert "│ print_head fail: printer.paper_out " in out
    assert "│ display warn: display.brightness_low " in out
    assert "remedy display.set_brightness: cleared; closed, free" in out
    assert "printer.paper_out is not remote-fixable" in out
    assert "inspection of KSK-F003: pass after 1 remedy(ies), 0 to replace" in out
    assert out.count("hash chain verified") == 5
    assert "workbench tui --state-dir" in out and "workbench capacity run" in out

    with RecordStore(records_url) as store:
        runs = store.runs(suite="inspection")
        assert sorted(r.terminal for r in runs) == [f"KSK-F00{i}" for i in range(1, 6)]
        assert all(len(r.results) == 11 for r in runs)
        by_terminal = {t.terminal: t for t in store.tickets()}
        assert by_terminal["KSK-F003"].status == "closed"
        assert by_terminal["KSK-F002"].status == "open"
        # the inspection run is attached to its terminal's ticket
        assert {r.terminal: r.ticket for r in runs}["KSK-F005"] == by_terminal["KSK-F005"].id
        assert {r.kind for r in store.reports()} == {"inspection", "quarterly"}
    reports = sorted(p.name for p in (base / "reports").iterdir())
    assert len(reports) == 4 and any(n.startswith("quarterly-") for n in reports)
    verified = subprocess.run(
        [*WB, "report", "verify", str(next((base / "reports").glob("inspection-*.pdf")))],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert verified.returncode == 0 and "unchanged" in verified.stdout, verified.stderr

    # nothing is left running: no manifests, and no process of the demo's (its session's)
    # outlives it, so nothing holds its agents' ports. Connecting to those ports would not
    # tell: on a busy machine another test's server may already have been given one of them.
    assert not list(base.glob("*/endpoints.json"))
    assert _in_session(demo.pid) == []


# two demo runs (the first up to its remedies, then a whole one), each with the budget the
# end-to-end test gives its one run: under load (this file with -n 2 beside busy loops, 5.5 min)
# the second run was still going when the 150 s this test had for both ran out
@pytest.mark.timeout(2 * 150)
def test_fleet_demo_killed_mid_run_keeps_its_records_and_runs_again(
    state_dir: Path, records_url: str
) -> None:
    env = {**os.environ, "COLUMNS": "200", "WORKBENCH_RECORDS": records_url}
    cmd = [*WB, "demo", "--fleet", "--state-dir", str(state_dir), "--speed", "30"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # killed once the inspection is stored, before the remedies
            if "5. remedies" in line:
                break
        proc.kill()
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    with RecordStore(records_url) as store:
        assert len(store.runs(suite="inspection")) == 5
        assert [t.status for t in store.tickets()] == ["open"] * 3  # killed before any remedy

    again = subprocess.run(cmd, capture_output=True, text=True, timeout=140, env=env)
    assert again.returncode == 0, again.stderr
    with RecordStore(records_url) as store:
        declared = {
            r["id"]: r["n_results"]
            for r in store.query("SELECT id, n_results FROM maintenance_runs")
        }
        runs = store.runs()
        assert all(len(r.results) == declared[r.id] for r in runs)
        assert len(store.runs(suite="inspection")) == 10
        assert len(store.tickets()) == 6 and len(store.tickets(status="closed")) == 2
