"""A class started and stopped through the live backend, as the class view does: ``workbench
class up`` runs as a process of its own, the view reads each trainee's kiosk and scenario, a
second class is refused while one runs, and stopping ends that process (its records stay), as it
does a class started from a shell."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from tui.live import LiveBackend
from workbench.errors import ConfigError

pytestmark = pytest.mark.timeout(60)


async def test_a_class_comes_up_in_its_own_process_and_stops(state_dir: Path) -> None:
    backend = LiveBackend(state_dir)
    assert await backend.class_view() is None
    view = await backend.start_class("p3-paper-out", 2, 60.0, 1.0)
    pid = json.loads((state_dir / "class.json").read_text())["pid"]
    try:
        assert (view.scenario, view.speed, view.running) == ("p3-paper-out", 60.0, True)
        assert [(s.trainee, s.terminal, s.state) for s in view.seats] == [
            ("t01", "KSK-T01", "running"),
            ("t02", "KSK-T02", "running"),
        ]
        assert (state_dir / "trainees" / "t02" / "handout.md").is_file()
        assert {"KSK-T01", "KSK-T02"} <= {r.terminal for r in backend.terminals()}
        with pytest.raises(ConfigError, match="a class on p3-paper-out is running here"):
            await backend.start_class("p3-paper-out", 1, 60.0, 1.0)
    finally:
        await backend.stop_class()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    after = await backend.class_view()
    assert after is not None and not after.running
    assert [s.state for s in after.seats] == ["down", "down"]


async def test_a_class_started_from_a_shell_is_stopped_from_the_tui(state_dir: Path) -> None:
    """``workbench class up`` typed in a shell, not started by this TUI: the class view shows it
    running and its stop ends that process, which closes its kiosks cleanly."""
    proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "workbench.cli", "class", "up", "--scenario", "p3-paper-out"],
        *["--trainees", "1", "--state-dir", str(state_dir)],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    while b"up in" not in (line := await proc.stdout.readline()):  # the class is ready
        assert line, (await proc.stderr.read()).decode()
    backend = LiveBackend(state_dir)
    view = await backend.class_view()
    assert view is not None and view.running
    await backend.stop_class()
    rest, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert b"class stopped" in rest
    after = await backend.class_view()
    assert after is not None and not after.running
    with pytest.raises(ConfigError, match=r"the class on p3-paper-out under .* is not running"):
        await backend.stop_class()


async def test_a_class_that_cannot_start_says_why(state_dir: Path) -> None:
    with pytest.raises(ConfigError, match="unknown scenario 'no-such'"):
        await LiveBackend(state_dir).start_class("no-such", 1, 60.0, 1.0)
