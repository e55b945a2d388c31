"""A class started and stopped through the live backend, as the class view does: ``workbench
class up`` runs as a process of its own, the view reads each trainee's kiosk and scenario, a
second class is refused while one runs, and stopping ends that process (its records stay)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.live import LiveBackend
from workbench.errors import ConfigError

pytestmark = pytest.mark.timeout(60)


async def test_a_class_comes_up_in_its_own_process_and_stops(state_dir: Path) -> None:
    backend = LiveBackend(state_dir)
    assert await backend.class_view() is None
    view = await backend.start_class("p3-paper-out", 2, 60.0, 1.0)
    pid = int((state_dir / "class.pid").read_text())
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
    assert not (state_dir / "class.pid").exists()


async def test_a_class_that_cannot_start_says_why(state_dir: Path) -> None:
    with pytest.raises(ConfigError, match="unknown scenario 'no-such'"):
        await LiveBackend(state_dir).start_class("no-such", 1, 60.0, 1.0)
