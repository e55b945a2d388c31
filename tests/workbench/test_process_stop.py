"""Stopping a real process: SIGTERM honoured within the grace, SIGTERM ignored (killed after the
grace, and gone when ``stop`` returns), and a process that has already exited."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from workbench.errors import WorkbenchError
from workbench.process_stop import ProcessHandle

pytestmark = pytest.mark.timeout(30)
READY = "import signal, sys; {} print('ready', flush=True); sys.stdin.read()"


def child(setup: str = "") -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", READY.format(setup)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


def test_a_process_that_honours_sigterm_is_not_killed() -> None:
    proc = child()
    with ProcessHandle.open(proc.pid) as handle:  # type: ignore[union-attr]
        stopped = handle.stop(grace_s=20.0)
    assert (stopped.pid, stopped.killed) == (proc.pid, False)
    assert stopped.waited_s < 20.0  # its exit was awaited, not the whole grace
    assert proc.wait(timeout=1) == -signal.SIGTERM


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace() -> None:
    proc = child("signal.signal(signal.SIGTERM, signal.SIG_IGN);")
    try:
        handle = ProcessHandle.open(proc.pid)
        assert handle is not None
        with handle:
            stopped = handle.stop(grace_s=0.3)
        assert (stopped.killed, stopped.grace_s) == (True, 0.3)
        assert stopped.waited_s >= 0.3
        assert proc.poll() == -signal.SIGKILL  # reaped at once: it was gone already
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_process_that_has_exited_is_not_held() -> None:
    proc = child()
    proc.communicate("")  # it reads end of input and exits
    assert ProcessHandle.open(proc.pid) is None


def test_a_process_this_user_may_not_signal_is_said_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(pidfd: int, sig: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    proc = child()
    try:
        monkeypatch.setattr(signal, "pidfd_send_signal", refused)  # another user's process
        handle = ProcessHandle.open(proc.pid)
        assert handle is not None
        with handle, pytest.raises(WorkbenchError) as caught:
            handle.stop(grace_s=0.1)
        assert str(caught.value) == (
            f"process {proc.pid}: not allowed to signal it (another user's process?)"
        )
        assert proc.poll() is None  # nothing was done to it
    finally:
        proc.kill()
        proc.wait()
