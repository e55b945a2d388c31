"""``workbench tui`` on a jump host over ``ssh -t``, as a support engineer runs it: plain OpenSSH
(``ssh -tt``, in tmux) logs in with a key to a loopback SSH server that runs the command in a pty
and forwards window changes. The terminal type that arrives is ``xterm-256color`` with no
``COLORTERM`` (OpenSSH does not send it), so Textual draws in the 256-colour palette: every
character of the fleet must still be readable. A resize of the engineer's window redraws the
TUI at the new size, and ``q`` quits with ssh exiting 0. Skipped where tmux or ssh is missing."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from pty_ssh_server import PtySSHServer
from tmux_driver import Cell, Tmux, contrast

from devices.kiosk import KioskHost
from remote.window import CertificateAuthority
from scenarios.wiring import kiosk_backend, kiosk_extra

ROOT = Path(__file__).resolve().parents[2]
TID = "KSK-0088"
LEGIBLE = 3.0
"""The least contrast a character may have against its background (WCAG's minimum for large
text and interface parts; the 256-colour palette's nearest colours lose some of the theme's)."""
DRAWING = set("▔▁▊▎▏▌▐╸━╺─│")
"""Borders and rules: lines, not text to read."""

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None or shutil.which("ssh") is None,
    reason="tmux or OpenSSH's ssh is not installed",
)


def unreadable(rows: list[list[Cell]]) -> list[str]:
    """Characters drawn with too little contrast to read, as ``row:col 'x' ratio``."""
    return [
        f"{y}:{x} {c.char!r} {contrast(c.fg, c.bg):.2f} in row {''.join(d.char for d in row)!r}"
        for y, row in enumerate(rows)
        for x, c in enumerate(row)
        if c.char.strip() and c.char not in DRAWING and not c.reverse
        if contrast(c.fg, c.bg) < LEGIBLE
    ]


@pytest.mark.timeout(60)
async def test_the_tui_over_ssh_in_256_colours(state_dir: Path) -> None:
    ca_dir = state_dir / "ca"
    CertificateAuthority.init(ca_dir)
    extra = kiosk_extra(ca_dir, kiosk_backend)
    exit_file = state_dir / "ssh-exit"
    tmux = Tmux(f"wb-ssh-{os.getpid()}")
    remote_command = (
        f"cd {ROOT} && exec {sys.executable} -m workbench.cli tui --state-dir {state_dir} "
        "--ticket INC-4242"
    )
    async with (
        KioskHost(state_dir, "bill_payment", [TID], speed=60, extras=[extra]),
        PtySSHServer(state_dir / "ssh") as server,
    ):
        ssh = shlex.join(server.ssh_command(remote_command))
        command = f"env -u COLORTERM TERM=xterm-256color {ssh}; echo $? > {exit_file}; sleep 30"
        try:
            await tmux("new-session", "-d", "-s", "tui", "-x", "100", "-y", "30", command)
            await tmux.wait_for(TID)
            await tmux.wait_for("1 terminals")  # the fleet's status line
            await tmux.wait_for(" up ")  # the agent answered the probe: the row is coloured
            (session,) = server.sessions
            assert session.term_type == "xterm-256color"

            rows = await tmux.coloured()
            depths = {c.depth for row in rows for c in row if c.char.strip()}
            assert "256" in depths and "rgb" not in depths, depths  # Textual chose 256 colours
            assert unreadable(rows) == []

            await tmux("resize-window", "-t", "tui", "-x", "140", "-y", "36")
            # the session bar right-aligned to the new width, the footer on the new last line
            await tmux.wait_until(
                "redrawn at 140x36",
                lambda lines: (
                    len(lines) == 36
                    and lines[0].rstrip().endswith("no window")
                    and len(lines[0].rstrip()) > 130
                    and lines[-1].rstrip().endswith("palette")
                ),
            )
            assert session.resizes[-1] == (140, 36)  # it came as an SSH window-change

            await tmux.keys("q")
            while not exit_file.exists():
                await asyncio.sleep(0.1)
            assert exit_file.read_text().strip() == "0"
        finally:
            await tmux("kill-server")
