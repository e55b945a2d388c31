"""Tables piped to a file read like the screen: one row a line, never squeezed to 80 columns."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from rich.table import Table

from workbench.console import Output


def test_piped_table_keeps_each_row_on_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "LINES"}}
    done = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "faults", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=50,
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 52  # one line per catalog fault, none wrapped
    assert any("printer.paper_out" in row and "Paper roll empty" in row for row in rows)


def test_columns_still_sets_the_width() -> None:
    env = {**os.environ, "COLUMNS": "60"}
    done = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "faults", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=50,
    )
    assert done.returncode == 0, done.stderr
    assert max(len(line) for line in done.stdout.splitlines()) <= 60


def test_a_wide_table_printed_piped_does_not_pin_the_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that prints more than once (the TUI's commands, a test calling the command line
    in-process): after a table printed at its natural width, COLUMNS still sets the width. It was
    pinned at the width read before that table (80 when piped) for every print after."""
    monkeypatch.delenv("COLUMNS", raising=False)
    piped = io.StringIO()
    console = Output(file=piped, highlight=False, soft_wrap=True)
    wide = Table("name", "what")
    wide.add_row("printer.paper_out", "x" * 150)
    console.print(wide)
    assert max(len(line) for line in piped.getvalue().splitlines()) > 150  # one line, not wrapped
    monkeypatch.setenv("COLUMNS", "250")
    assert console.width == 250
