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
main(["tui", *sys.argv[1:]])
"""


def _window(tmp_path: Path) -> list[str]:
    """A CA and a window certificate, as an engineer starts the TUI (docs/tui.md)."""
    from remote.window import CertificateAuthority, engineer_key

    authority = CertificateAuthority.init(tmp_path / "CA")
    key = engineer_key(tmp_path / "alice", "alice@support")
    cert = tmp_path / "alice-cert.pub"
    cert.write_bytes(authority.grant(["KSK-0001"], key).certificate)
    return ["--ca", str(tmp_path / "CA"), "--key", str(tmp_path / "alice"), "--cert", str(cert)]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("window", [False, True], ids=["no-window", "ca-and-certificate"])
def test_first_screen_imports_nothing_heavy(tmp_path: Path, window: bool) -> None:
    """With a CA and a certificate given, they are read after the first frame too."""
    args = [
        "--state-dir",
        str(tmp_path),
        "--ticket",
        "INC-1",
        *(_window(tmp_path) if window else []),
    ]
    done = subprocess.run(
        [sys.executable, "-c", FIRST_SCREEN, *args],
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


HEADLESS = """
import sys
from textual.app import App

run = App.run
App.run = lambda self, **kw: run(self, headless=True)
from workbench.cli import main
main(sys.argv[1:])
"""


@pytest.mark.timeout(60)
def test_a_bad_certificate_read_after_the_first_frame_is_one_line_and_exit_1(
    tmp_path: Path,
) -> None:
    """The certificate is read once the fleet is on screen; a bad one still ends the command
    with its one-line error, and no session is recorded under it."""
    key, cert, known = tmp_path / "alice", tmp_path / "alice-cert.pub", tmp_path / "known_hosts"
    key.write_text("not a key\n")
    cert.write_text("not a certificate\n")
    known.write_text("")
    args = ["tui", "--state-dir", str(tmp_path), "--ticket", "INC-1", "--key", str(key)]
    done = subprocess.run(
        [sys.executable, "-c", HEADLESS, *args, "--cert", str(cert), "--known-hosts", str(known)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert done.returncode != 0
    assert done.stderr.startswith(f"workbench: error: {key}: cannot read private key"), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "records.sqlite").exists()
