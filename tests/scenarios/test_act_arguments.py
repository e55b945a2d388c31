"""A stimulus given a value not of the form its device declares (``insert-note abc``) is refused
in the same words by ``workbench scenario validate``, at the step's line, and by ``workbench kiosk
act`` on a running kiosk: one line, non-zero exit, no traceback; good values still pass."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from devices.kiosk import KioskHost
from workbench.cli import main

SCENARIO = """\
name: cash
title: A customer pays cash
profile: bill_payment
start: tuesday 08:55
duration: 1h
severity: P3
ticket:
  text: The validator keeps the notes.
timeline:
  - at: 5m
    act: insert-note {value}
expect:
  - inactive: [cash_box.full]
answer:
  faults: [cash_box.full]
  actions: [visit cash_box.full]
"""

REFUSAL = "insert-note takes VALUE, a face value, a whole number above 0; given: abc"
"""What both commands say, after where they say it."""


def test_validate_refuses_a_bad_value_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(SCENARIO.format(value=20))
    bad.write_text(SCENARIO.format(value="abc"))
    with pytest.raises(SystemExit) as ok:
        main(["scenario", "validate", str(good)])
    assert ok.value.code == 0
    assert f"ok {good}: cash" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        main(["scenario", "validate", str(bad)])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert err == f"{bad}:11: timeline.0.act: {REFUSAL}\nworkbench: error: {bad}: 1 problem\n"


async def _cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "workbench.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.timeout(30)
async def test_kiosk_act_refuses_it_in_the_same_words(state_dir: Path) -> None:
    async with KioskHost(state_dir, "bill_payment", ["KSK-0042"], speed=10):
        where = ["--id", "KSK-0042", "--state-dir", str(state_dir)]
        code, out, err = await _cli("kiosk", "act", "insert-note", "abc", *where)
        assert (code, out) == (3, "")
        assert err == f"workbench: error: bill_validator {REFUSAL}\n"
        code, out, err = await _cli("kiosk", "act", "insert-note", "20", *where)
        assert (code, err) == (0, "")
        assert out.startswith("KSK-0042: 20 EUR ")
