"""What the class view says each trainee did, read from their kiosk's agent audit log."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tui.live import LiveBackend
from workbench.errors import ConfigError


def test_a_tuis_reads_do_not_swamp_a_trainees_actions(tmp_path: Path) -> None:
    """Seen in a class: t01 worked in 'workbench tui', whose terminal screen sends status and
    logs every few seconds; the class view said 213 actions, the last 'logs --since 17962...'.
    A run of reads is one action, and the last action is the last one that is not a read."""
    commands = ["status", "diag run quick", "status", "logs --since 1.5", "status"]
    commands += ["remedy system_software.restart_service", "status", "logs --since 2.5"]
    audit = tmp_path / "KSK-T01" / "agent" / "audit.jsonl"
    audit.parent.mkdir(parents=True)
    t0 = time.mktime((2026, 12, 2, 16, 20, 0, 0, 0, -1))
    audit.write_text(
        "".join(
            json.dumps({"event": "command", "time": t0 + n, "command": c}) + "\n"
            for n, c in enumerate(commands)
        )
    )
    assert LiveBackend(tmp_path)._actions_seen("KSK-T01") == (
        5,  # status; diag run quick; 3 reads; the remedy; 2 reads
        "16:20:05 remedy system_software.restart_service",
    )


async def test_a_new_class_counts_none_of_the_last_ones_actions(tmp_path: Path) -> None:
    """Seen in tmux: a class stopped and a new one started under the same state dir; the new
    class's t01 and t02 showed the old class's '7 actions, 16:21:34 diag run quick' before they
    had connected (each kiosk's agent audit log goes on from class to class)."""
    t0 = time.mktime((2026, 12, 2, 16, 20, 0, 0, 0, -1))
    audit = tmp_path / "KSK-T01" / "agent" / "audit.jsonl"
    audit.parent.mkdir(parents=True)
    audit.write_text(json.dumps({"event": "command", "time": t0, "command": "diag run quick"}))
    seats = [{"name": "t01", "terminal": "KSK-T01"}]
    record = {"scenario": "p3-paper-out", "speed": 20.0, "started": t0 + 600, "trainees": seats}
    (tmp_path / "class.json").write_text(json.dumps(record))
    view = await LiveBackend(tmp_path).class_view()
    assert view is not None
    assert [(s.trainee, s.actions, s.last_action) for s in view.seats] == [("t01", 0, "")]


async def test_a_stopped_kiosk_is_said_not_running(tmp_path: Path) -> None:
    """Seen in tmux after 'workbench class stop': the trainer screen said 'scenario status
    unavailable: STATE/KSK-T03/endpoints.json: cannot read the endpoints manifest: [Errno 2] No
    such file or directory: ...'."""
    backend = LiveBackend(tmp_path)
    said = f"KSK-T03 is not running (no kiosk answers for it under {tmp_path})"
    view = await backend.scenario_status("KSK-T03")
    assert (view.state, view.error) == ("down", said)
    with pytest.raises(ConfigError) as refused:
        await backend.faults("KSK-T03")
    assert str(refused.value) == said
