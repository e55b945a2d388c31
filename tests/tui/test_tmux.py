"""``workbench tui`` as a user drives it, in a real terminal (tmux): the running kiosk's id is on
the fleet screen, a window is requested, the inspection finds the injected fault, the remedy
clears it, and ``q`` quits with exit status 0. Skipped where tmux is not installed."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest
from tmux_driver import Tmux

from devices.kiosk import KioskHost
from remote.window import CertificateAuthority
from scenarios.wiring import kiosk_backend, kiosk_extra

ROOT = Path(__file__).resolve().parents[2]
TID = "KSK-0077"
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.mark.timeout(60)
async def test_a_session_in_tmux(state_dir: Path) -> None:
    ca_dir = state_dir / "ca"
    CertificateAuthority.init(ca_dir)
    extra = kiosk_extra(ca_dir, kiosk_backend)
    exit_file = state_dir / "exit"
    tmux = Tmux(f"wb-test-{os.getpid()}")
    command = (
        f"cd {ROOT} && {sys.executable} -m workbench.cli tui --state-dir {state_dir} "
        f"--ca {ca_dir} --ticket INC-9; echo $? > {exit_file}; sleep 30"
    )
    async with KioskHost(state_dir, "bill_payment", [TID], speed=60, extras=[extra]) as host:
        host.terminals[TID].inject("display.panel_off")
        try:
            await tmux("new-session", "-d", "-s", "tui", "-x", "130", "-y", "36", command)
            shown_after = await tmux.wait_for(TID)
            await tmux.wait_for("no window")
            await tmux.keys("w")
            await tmux.wait_for("request for")
            await tmux.keys("n")
            await tmux.wait_gone("Load certificate")  # the footer shows the input has the focus
            await tmux.keys("Enter")
            await tmux.wait_for("reachable")
            await tmux.keys("Escape")
            await tmux.wait_for("sort terminal")  # the fleet's status line
            await tmux.keys("Enter")
            await tmux.wait_for(f"Terminal {TID}")
            await tmux.keys("i")
            await tmux.wait_for("inspection: fail")
            assert "display.panel_off" in await tmux.screen()
            await tmux.keys("m")
            await tmux.wait_for("Apply which remedy?")
            await tmux.keys("Enter")
            await tmux.wait_for("y yes")
            await tmux.keys("y")
            await tmux.wait_for("remedy display.power_on: cleared")
            await tmux.keys("q")
            while not exit_file.exists():
                await asyncio.sleep(0.1)
            assert exit_file.read_text().strip() == "0"
        finally:
            await tmux("kill-server")
    print(f"{TID} on the fleet screen {shown_after:.1f} s after launch")
