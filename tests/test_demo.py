"""`workbench demo`, the README's main job, run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.timeout(120)
def test_demo_runs_end_to_end(state_dir: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench.cli",
            "demo",
            "--state-dir",
            str(state_dir),
            "--speed",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=110,
        env={**os.environ, "COLUMNS": "160"},
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # the receipt printed by python-escpos was recorded, graphics as placeholders
    assert "[BARCODE EAN13 4006381333931]" in out
    assert "[QR https://pay.example/r/0012345678]" in out
    assert "printer status after printing: online=True, paper adequate" in out
    # the banknote's SSP life as the kiosk software polled it
    assert "poll events: read(0), read(3), stacking, credit(3), stacked" in out
    # the inspection over SSH found exactly the two injected faults
    assert "inspection of KSK-DEMO: fail" in out
    assert "printer.paper_out" in out and "display.brightness_low" in out
    assert "remedy display.set_brightness: cleared" in out
    assert "printer.paper_out: not remote-fixable" in out
    assert "hash chain and seals verified" in out and "the engineer's records saw sealed" in out
    # and it left records behind
    assert (state_dir / "demo" / "records.sqlite").exists()
