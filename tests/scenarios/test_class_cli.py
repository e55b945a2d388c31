"""``workbench class stop`` from any shell against a real ``workbench class up`` process: the class
stops cleanly, ``class status`` says whether it runs, and a class that has ended (or a record whose
pid now belongs to another process) is refused in one line, with no signal sent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
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
        here = f"--state-dir {state_dir}"  # the hints name the state dir: it is not the default
        assert f"'workbench class status {here}' shows progress" in line
        assert f"'workbench class stop {here}' or Ctrl-C stops it" in line
        code, out, _ = wb(capsys, state_dir, "class", "status")
        assert code == 0
        assert out.splitlines()[0] == (
            f"class on p3-paper-out: 1 trainee(s), running (process {proc.pid})"
        )

        # a second class up under the same state dir: refused before any certificate is signed
        cert = state_dir / "trainees" / "t01" / "key-cert.pub"
        issued = cert.read_bytes()
        code, _, err = wb(capsys, state_dir, "class", "up", "--scenario", "p3-paper-out",
                          "--trainees", "2")  # fmt: skip
        assert (code, err) == (
            3,
            f"workbench: error: KSK-T01 already runs under {state_dir}: a class is running "
            "there; stop it with 'workbench class stop' or use another --state-dir\n",
        )
        assert cert.read_bytes() == issued

        code, out, err = wb(capsys, state_dir, "class", "stop")
        assert code == 0, err
        assert out == (
            f"class on p3-paper-out stopped (process {proc.pid}, 1 kiosk); "
            f"scores: workbench class status {here}\n"
        )
        assert proc.poll() is not None  # exited before 'class stop' returned
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"class stopped; scores: workbench class status {here}\n" in rest
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


STUBBORN = """
import json, os, signal, socket, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a class hung in its shutdown, as far as SIGTERM goes
home = sys.argv[1]
os.makedirs(home, exist_ok=True)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.bind(os.path.join(home, "control.sock"))
sock.listen()
with open(os.path.join(home, "endpoints.json"), "w") as f:
    json.dump({"terminal": "KSK-T01", "control": os.path.join(home, "control.sock")}, f)
print("ready", flush=True)
while True:
    sock.accept()[0].close()
"""


def test_a_class_that_ignores_sigterm_is_killed_after_the_grace_and_its_files_removed(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real process that serves the class's first kiosk socket and ignores SIGTERM: ``class
    stop`` awaits the grace period, kills it, confirms it is gone, removes the socket and the
    manifest it left, and says so in one line."""
    home = state_dir / "KSK-T01"
    proc = subprocess.Popen(
        [sys.executable, "-c", STUBBORN, str(home)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline() == "ready\n"  # serving, SIGTERM ignored
        trainee = {"name": "t01", "terminal": "KSK-T01"}
        record = {"scenario": "p3-paper-out", "pid": proc.pid, "trainees": [trainee]}
        (state_dir / "class.json").write_text(json.dumps(record))
        started = time.monotonic()
        code, out, err = wb(capsys, state_dir, "class", "stop", "--grace", "0.5")
        took = time.monotonic() - started
        assert (code, err) == (0, "")
        assert out == (
            f"class on p3-paper-out did not stop in 0.5 s: killed (process {proc.pid}, 1 kiosk; "
            f"removed 2 files it left); scores: workbench class status --state-dir {state_dir}\n"
        )
        assert took >= 0.5  # the grace was given before the kill
        assert proc.wait(timeout=1) == -signal.SIGKILL  # gone when 'class stop' returned
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not (home / "control.sock").exists() and not (home / "endpoints.json").exists()
    code, _, err = wb(capsys, state_dir, "class", "stop")
    assert code == 2 and "is not running" in err


def test_a_bad_grace_is_refused_in_one_line(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = wb(capsys, state_dir, "class", "stop", "--grace", "-1")
    assert code == 2 and "--grace" in err and "-1" in err


def test_a_hung_real_class_is_killed_and_leaves_no_kiosk_to_dial(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real ``class up`` frozen (SIGSTOP: it cannot act on SIGTERM, as a hung process): killed
    after the grace; every file its clean exit would have removed is gone, the scores stay."""
    proc = subprocess.Popen(
        [*CLASS_UP, "--trainees", "2", "--state-dir", str(state_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    try:
        while "up in" not in (line := proc.stdout.readline()):
            assert line, "class up exited"
        kiosks = [state_dir / t for t in ("KSK-T01", "KSK-T02")]
        assert all(
            (k / "control.sock").exists() and (k / "endpoints.json").exists() for k in kiosks
        )
        proc.send_signal(signal.SIGSTOP)
        code, out, err = wb(capsys, state_dir, "class", "stop", "--grace", "0.5")
        assert (code, err) == (0, "")
        assert out == (
            f"class on p3-paper-out did not stop in 0.5 s: killed (process {proc.pid}, 2 kiosks; "
            f"removed 4 files it left); scores: workbench class status --state-dir {state_dir}\n"
        )
        assert proc.wait(timeout=1) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert [p.name for k in kiosks for p in k.iterdir() if p.suffix in (".sock", ".json")] == [
        "scenario.json",
        "scenario.json",
    ]
    code, out, _ = wb(capsys, state_dir, "class", "status")
    assert code == 0 and out.splitlines()[0] == "class on p3-paper-out: 2 trainee(s), not running"
