"""`workbench diag run` on the terminal itself: the checklist diagnostics without SSH."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from devices.kiosk import KioskHost
from workbench.store import RecordStore


async def _workbench(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workbench.cli", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.timeout(60)
async def test_diag_run_finds_a_fault_and_keeps_a_record(state_dir: Path) -> None:
    async with KioskHost(state_dir, "bill_payment", ["KSK-0042"], speed=60) as host:
        host.terminals["KSK-0042"].inject("printer.cutter_jam")
        manifest = str(host.manifest_path("KSK-0042"))
        store = str(state_dir / "local.sqlite")
        code, out, _ = await _workbench(
            "diag", "run", "--endpoints", manifest, "--json", "--store", store, "device:printer"
        )
        assert code == 1  # a failure is the exit status a CI job checks
        (result,) = [json.loads(line) for line in out.splitlines()]
        assert (result["test"], result["status"], result["suspect"]) == (
            "print_head",
            "fail",
            "printer.cutter_jam",
        )
        host.terminals["KSK-0042"].clear("printer.cutter_jam")
        code, out, _ = await _workbench("diag", "run", "--endpoints", manifest, "quick")
        assert code == 0, out
        assert "summary: 11 pass, 0 warn, 0 fail" in out
        code, _, err = await _workbench("diag", "run", "--endpoints", manifest, "nonsense")
        assert code == 2 and "no diagnostic or suite 'nonsense'" in err
    with RecordStore(store) as records:
        run = records.runs()[0]
        assert (run.terminal, run.suite, run.outcome) == ("KSK-0042", "device:printer", "fail")


@pytest.mark.timeout(60)
async def test_a_refused_modbus_port_is_one_line_without_the_library_warning(
    state_dir: Path,
) -> None:
    async with KioskHost(state_dir, "bill_payment", ["KSK-0043"], speed=60) as host:
        manifest = json.loads(host.manifest_path("KSK-0043").read_text())
    manifest["devices"]["ups"]["modbus"] = "127.0.0.1:1"  # nothing listens on port 1
    bad = state_dir / "bad-endpoints.json"
    bad.write_text(json.dumps(manifest))
    code, out, err = await _workbench("diag", "run", "--endpoints", str(bad), "device:ups")
    assert code == 1
    assert "127.0.0.1:1: Modbus TCP connection refused" in out
    assert "summary: 0 pass, 0 warn, 0 fail, 1 error" in out
    assert err == ""  # pymodbus's own 'Failed to connect' warning shows only with -v
    code, _, err = await _workbench("-v", "diag", "run", "--endpoints", str(bad), "device:ups")
    assert code == 1 and "Failed to connect" in err
