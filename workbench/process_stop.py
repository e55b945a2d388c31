"""Stopping another process as a careful supervisor does: SIGTERM, await its exit for a grace
period, then SIGKILL and await that too, and say which it took.

The process is held by a pidfd (Linux 5.3+) from before the caller checks that it is the right
one until the end, so a pid the system gives to another process meanwhile is never signalled, and
its exit is awaited on the pidfd (readable once it has exited) rather than by polling.

    with ProcessHandle.open(pid) as proc:   # None when it has already exited
        ...                                 # check it is the process you mean
        stopped = proc.stop(grace_s=10.0)   # Stopped(pid, killed=False/True, waited_s)
"""

from __future__ import annotations

import os
import select
import signal
import time
from dataclasses import dataclass
from types import TracebackType

from workbench.errors import WorkbenchError

GRACE_S = 10.0
"""How long a process is given to exit after SIGTERM before it is killed (``docker stop``'s
default too): a class closes every kiosk and agent in well under a second when the machine
is not overloaded."""
KILL_WAIT_S = 5.0
"""How long a SIGKILLed process may take to be gone (it finishes a system call first)."""


@dataclass(frozen=True, slots=True)
class Stopped:
    """How a process ended: on SIGTERM within the grace period, or SIGKILLed after it."""

    pid: int
    killed: bool
    grace_s: float
    waited_s: float
    """Wall seconds from SIGTERM to its exit."""


class ProcessHandle:
    """One process, held from :meth:`open` to :meth:`close` (a pidfd where the kernel has them)."""

    def __init__(self, pid: int, pidfd: int | None) -> None:
        self.pid = pid
        self._pidfd = pidfd

    @classmethod
    def open(cls, pid: int) -> ProcessHandle | None:
        """Hold process ``pid``; None when there is no such process (it has exited)."""
        try:
            return cls(pid, os.pidfd_open(pid))
        except ProcessLookupError:
            return None
        except OSError:  # no pidfds on this kernel: plain signals and polling
            return cls(pid, None) if _alive(pid) else None

    def close(self) -> None:
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    def __enter__(self) -> ProcessHandle:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def signal(self, sig: signal.Signals) -> bool:
        """Send ``sig``; False when the process has already exited; :class:`WorkbenchError` when
        this user may not signal it."""
        try:
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, sig)
            else:
                os.kill(self.pid, sig)
        except ProcessLookupError:
            return False
        except PermissionError:
            raise WorkbenchError(
                f"process {self.pid}: not allowed to signal it (another user's process?)"
            ) from None
        return True

    def wait(self, timeout: float) -> bool:
        """Await the process's exit for up to ``timeout`` seconds; True once it has exited."""
        if self._pidfd is not None:
            return bool(select.select([self._pidfd], [], [], max(timeout, 0.0))[0])
        deadline = time.monotonic() + timeout  # no pidfd to wait on: poll its existence
        while _alive(self.pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self, grace_s: float, kill_wait_s: float = KILL_WAIT_S) -> Stopped:
        """SIGTERM, then up to ``grace_s`` for it to exit; else SIGKILL and up to ``kill_wait_s``
        for it to be gone. :class:`WorkbenchError` when even that did not end it
        (stuck in the kernel: nothing more can be done from here)."""
        started = time.monotonic()
        if not self.signal(signal.SIGTERM) or self.wait(grace_s):
            return Stopped(self.pid, False, grace_s, time.monotonic() - started)
        if self.signal(signal.SIGKILL) and not self.wait(kill_wait_s):
            raise WorkbenchError(
                f"process {self.pid} did not stop in {grace_s:g} s and was still there "
                f"{kill_wait_s:g} s after SIGKILL (stuck in the kernel?)"
            )
        return Stopped(self.pid, True, grace_s, time.monotonic() - started)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True
