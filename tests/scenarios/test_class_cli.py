"""``workbench class stop`` from any shell against a real ``workbench class up`` process: the class
stops cleanly, ``class status`` says whether it runs, and a class that has ended (or a record whose
pid now belongs to another process) is refused in one line, with no signal sent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import main

pytestmark = pytest.mark.timeout(60)
CLASS_UP = [sys.executable, "-m", "workbench.cli", "class", "up", "--scenario", "p3-paper-out"]


def wb(capsys: pytest.CaptureFixture[str], state: Path, *args: str) -> tuple[int, str, str]:
    """``workbench ARGS --state-dir STATE`` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        main([*args, "--state-dir", str(state)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_class_started_in_one_shell_is_stopped_from_another(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = wb(capsys, state_dir, "class", "stop")
    assert (code, err.count("\n")) == (2, 1)
    assert f"{state_dir}/class.json: no class here (start one with 'workbench class up')" in err

    proc = subprocess.Popen(
        [*CLASS_UP, "--trainees", "1", "--state-dir", str(state_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        while "up in" not in (line := proc.stdout.readline()):  # the class is ready
            assert line, proc.stderr.read()
        assert "'workbench class stop' or Ctrl-C stops it" in line
        code, out, _ = wb(capsys, state_dir, "class", "status")
        assert code == 0
        assert out.splitlines()[0] == (
            f"class on p3-paper-out: 1 trainee(s), running (process {proc.pid})"
        )

        code, out, err = wb(capsys, state_dir, "class", "stop")
        assert code == 0, err
        assert out == (
            f"class on p3-paper-out stopped (process {proc.pid}, 1 kiosk); "
            "scores: workbench class status\n"
        )
        assert proc.poll() is not None  # exited before 'class stop' returned
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "class stopped; scores: workbench class status" in rest
    assert not (state_dir / "KSK-T01" / "control.sock").exists()

    code, out, _ = wb(capsys, state_dir, "class", "status", "--json")
    doc = json.loads(out)
    assert (doc["running"], doc["pid"], len(doc["trainees"])) == (False, None, 1)
    code, _, err = wb(capsys, state_dir, "class", "stop")
    assert (code, err.count("\n")) == (2, 1)
    assert err == (
        f"workbench: error: the class on p3-paper-out under {state_dir} is not running "
        "(its scores: 'workbench class status')\n"
    )

    # the record's pid given to another process since (here: this test): never signalled
    record = json.loads((state_dir / "class.json").read_text())
    (state_dir / "class.json").write_text(json.dumps(record | {"pid": os.getpid()}))
    code, _, err = wb(capsys, state_dir, "class", "stop")
    assert code == 2 and "is not running" in err
