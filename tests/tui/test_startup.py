"""``workbench tui`` reaches its first screen without importing what that screen does not need:
no SSH or crypto stack, no simulator, Modbus, Dask, plotting or schema libraries, no records
store, and none of the other screens. Each is imported when first used, after the first frame.

Run in a fresh interpreter through the real command line; Textual runs headless and the modules
are listed the moment the app is ready (its first screen composed and mounted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

HEAVY = (
    "asyncssh",
    "cryptography",
    "pymodbus",
    "dask",
    "distributed",
    "plotext",
    "matplotlib",
    "numpy",
    "pydantic",
    "escpos",
    "simpy",
    "serial",
    "yaml",
    "psycopg",
    "jinja2",
    "fpdf",
    "devices",
    "scenarios",
)
LATER = (
    "remote.client",
    "remote.window",
    "workbench.store",
    "tui.screens.terminal",
    "tui.screens.trainer",
    "tui.screens.classroom",
    "tui.screens.reports",
    "tui.screens.window",
    "tui.widgets.scenario_panel",
)
"""Modules of ours the first frame must not wait for: the other screens and the records store."""

FIRST_SCREEN = """
import json, sys
from textual.app import App

async def at_first_screen(pilot):
    loaded = sorted(m for m, mod in sys.modules.items() if mod is not None)
    print(json.dumps({"screen": type(pilot.app.screen).__name__, "modules": loaded}))
    pilot.app.exit()

run = App.run
App.run = lambda self, **kw: run(self, headless=True, auto_pilot=at_first_screen)
from workbench.cli import main
main(["tui", "--state-dir", sys.argv[1], "--ticket", "INC-1"])
"""


@pytest.mark.timeout(60)
def test_first_screen_imports_nothing_heavy(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FIRST_SCREEN, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["screen"] == "FleetScreen"
    modules = set(seen["modules"])
    assert {"textual.app", "tui.app", "tui.screens.fleet", "tui.live"} <= modules  # it ran
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []
    later = sorted(m for m in modules if m in LATER)
    assert later == []
