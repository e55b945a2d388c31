"""The root CLI's one-line error, printed as the user typed the value."""

from __future__ import annotations

import os
import subprocess
import sys


def test_an_error_line_keeps_colon_words_instead_of_turning_them_into_emoji() -> None:
    # rich replaced ':b:' in "engineers=a:b:c" with an emoji in the error line
    proc = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "capacity", "sweep", "--vary", "engineers=a:b:c"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("workbench: error: --vary 'engineers=a:b:c': expected")
