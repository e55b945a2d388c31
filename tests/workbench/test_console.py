"""Tables piped to a file read like the screen: one row a line, never squeezed to 80 columns."""

from __future__ import annotations

import os
import subprocess
import sys


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
