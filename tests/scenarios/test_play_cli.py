"""``workbench scenario start|status|stop`` against a real ``workbench kiosk up`` process: the
trainer plays a library scenario (or a file) on a kiosk that is already running, sees each step
done or to come with simulated and wall time, stops it; every refusal is one line and a non-zero
exit."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from scenarios.library import LIBRARY_DIR
from workbench.cli import main

pytestmark = pytest.mark.timeout(60)

A, B = "KSK-0700-0001", "KSK-0700-0002"
WB = [sys.executable, "-m", "workbench.cli"]


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


class Workbench:
    """``workbench ARGS --state-dir STATE`` in this process, as a trainer types it (the kiosk is
    the real process; the commands are quick clients of its control socket)."""

    def __init__(self, state: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.state = state
        self.capsys = capsys

    def __call__(self, *args: str, state_dir: bool = True) -> Done:
        self.capsys.readouterr()
        try:
            main([*args, *(["--state-dir", str(self.state)] if state_dir else [])])
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = self.capsys.readouterr()
        return Done(code, captured.out, captured.err)


def one_line_error(done: Done, code: int) -> str:
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr.removeprefix("workbench: error: ").strip()


@contextmanager
def kiosk_up(state: Path) -> Iterator[str]:
    """Two kiosks in one ``workbench kiosk up`` process at 10x, until SIGTERM; yields the line
    that says they are up."""
    state_args = ["--state-dir", str(state)]
    proc = subprocess.Popen(
        [*WB, "kiosk", "up", "--id", "KSK-0700", "--count", "2", "--speed", "10", *state_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        while "kiosk(s) up" not in (line := proc.stdout.readline()):  # ready: sockets bound
            assert line, proc.stderr.read()
        yield line.rstrip("\n")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_start_status_and_stop_a_scenario_on_a_running_kiosk(
    state_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    wb = Workbench(state_dir, capsys)
    assert one_line_error(wb("scenario", "status"), 4) == (
        f"no kiosk is running under {state_dir} (start one with 'workbench kiosk up')"
    )
    with kiosk_up(state_dir) as ready:
        advertised = f"workbench scenario start NAME --state-dir {state_dir} --id {A}"
        assert ready == (
            f"2 kiosk(s) up at speed 10; Ctrl-C to stop; to play a scenario on one: {advertised}"
        )
        assert one_line_error(wb("scenario", "status"), 2) == (
            f"kiosks {A}, {B} run under {state_dir}; name one with --id"
        )
        idle = wb("scenario", "status", "--id", A)
        assert idle.returncode == 0
        assert idle.stdout.splitlines()[0] == (
            f"{A}: no scenario started (workbench scenario start NAME --state-dir {state_dir} "
            f"--id {A})"
        )
        assert one_line_error(wb("scenario", "start", "nope", "--id", A), 2).startswith(
            "unknown scenario 'nope'; see 'workbench scenario list'"
        )
        assert one_line_error(wb("scenario", "start", "network-dns-failure", "--id", A), 3) == (
            f"scenario network-dns-failure runs on a query_print kiosk; {A} is a bill_payment kiosk"
        )

        # the command the banner gives, as the trainer copies it
        command = advertised.replace("NAME", "display-brightness-low").split()[1:]
        started = wb(*command, state_dir=False)
        assert started.returncode == 0, started.stderr
        lines = started.stdout.splitlines()
        assert lines[0].startswith(f"{A}: display-brightness-low (P3) running · ")
        assert " at 10x · now Wed 13:2" in lines[0] and lines[0].endswith("1/2 steps done")
        assert lines[2:4] == [
            "  done        +0:00  inject display.brightness_low",
            "  to come    +10:00  ticket to the trainee",
        ]
        assert lines[-1] == "active faults: display.brightness_low"
        assert one_line_error(wb("scenario", "start", "p3-paper-out", "--id", A), 3) == (
            f"{A}: scenario display-brightness-low is running; stop it first"
        )
        # a scenario of another profile: said at once, as stopping the running one cannot help
        assert one_line_error(wb("scenario", "start", "network-dns-failure", "--id", A), 3) == (
            f"scenario network-dns-failure runs on a query_print kiosk; {A} is a bill_payment kiosk"
        )

        doc = json.loads(wb("scenario", "status", "--id", A, "--json").stdout)
        assert doc["state"] == "running" and doc["speed"] == 10
        assert [(s["at"], s["done"]) for s in doc["steps"]] == [(0, True), (600, False)]
        assert 0 < doc["elapsed_sim"] <= 10 * doc["elapsed_wall"] + 1
        record = json.loads((state_dir / A / "scenario.json").read_text())  # what scoring reads
        assert record["scenario"] == "display-brightness-low" and record["terminal"] == A
        other = wb("scenario", "status", "--id", B)
        assert other.stdout.startswith(f"{B}: no scenario started")

        stopped = wb("scenario", "stop", "--id", A)
        assert stopped.returncode == 0, stopped.stderr
        assert f"{A}: display-brightness-low (P3) stopped · " in stopped.stdout
        assert "stopped by the trainer" in stopped.stdout
        assert "  not run    +10:00  ticket to the trainee" in stopped.stdout.splitlines()
        assert one_line_error(wb("scenario", "stop", "--id", A), 3) == (
            f"{A}: no scenario is running (display-brightness-low stopped)"
        )

        (state_dir / "mine.yaml").write_text(
            (LIBRARY_DIR / "p3-paper-out.yaml")
            .read_text()
            .replace("name: p3-paper-out", "name: mine")
        )
        monkeypatch.chdir(state_dir)  # a file named relative to where the trainer is
        again = wb("scenario", "start", "mine.yaml", "--id", A, "--json")
        assert again.returncode == 0, again.stderr
        doc = json.loads(again.stdout)
        assert (doc["scenario"], doc["state"], doc["clock"][:3]) == ("mine", "running", "Mon")
        assert [s["done"] for s in doc["steps"]] == [False, False]
    assert one_line_error(wb("scenario", "stop", "--id", A), 4) == (
        f"no kiosk {A} is running under {state_dir} (start it with 'workbench kiosk up --id {A}')"
    )


def test_the_ready_line_gives_only_the_options_the_command_needs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from scenarios.kiosk_cli import ready_line

    monkeypatch.setenv("WORKBENCH_STATE_DIR", str(tmp_path))
    assert ready_line(["KSK-0001"], 60, tmp_path) == (
        "1 kiosk(s) up at speed 60; Ctrl-C to stop; "
        "to play a scenario on it: workbench scenario start NAME"
    )
    assert ready_line(["KSK-0001"], 1, Path("/tmp/my kiosks")).endswith(
        ": workbench scenario start NAME --state-dir '/tmp/my kiosks'"
    )


def test_live_only_options_on_a_virtual_run_are_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 'scenario run NAME --speed 5' ran in virtual time as if the speed had been heard
    from workbench.cli import main

    for args, said in (
        (["--speed", "5"], "--speed: only for a live run (add --live)"),
        (["--id", "K", "--ca", "ca"], "--ca, --id: only for a live run (add --live)"),
        (["--live", "--json"], "--json is for a virtual run; a live run prints its story"),
    ):
        with pytest.raises(SystemExit) as exit_:
            main(["scenario", "run", "p3-paper-out", *args])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith(f"workbench: error: {said}") and err.count("\n") == 1
