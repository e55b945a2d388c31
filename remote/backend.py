"""The seam between the SSH agent and whatever answers its commands: diagnostics on a real
terminal, or diagnostics plus fault injection on a simulated one.

The agent only ever calls these methods; every value returned must be JSON-able. A backend
signals a problem the engineer should see by raising a :class:`workbench.errors.WorkbenchError`
subclass; the agent turns it into a JSON error line and a non-zero exit status, never a crash.

The simulator's answer key (which faults a trainer injected) is for trainers only: ``status`` and
``logs`` are told whether the window holds the ``trainer`` permission, and without it show what a
real terminal shows (device replies, counters, the application's and the devices' logs).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Backend(Protocol):
    """What the agent needs from a terminal."""

    simulated: bool
    """True on a simulated terminal: only then may a ``trainer`` grant inject faults."""

    async def status(self, *, trainer: bool = False) -> dict[str, Any]:
        """A snapshot of the terminal: devices and their state now; with ``trainer``, on a
        simulated terminal, also the faults injected (``active_faults``)."""
        ...

    def diag_list(self) -> list[dict[str, Any]]:
        """Every diagnostic and suite: ``{"name": ..., "kind": "test"|"suite", ...}``."""
        ...

    def diag_run(self, names: list[str]) -> AsyncIterator[dict[str, Any]]:
        """Run suites or tests by name, yielding one result per test as it finishes:
        ``{"test": ..., "status": "pass"|"warn"|"fail", "measurements": {...},
        "suspect": <fault id or None>, "remedy": <hint or None>, ...}``.
        Unknown names raise before the first result."""
        ...

    async def remedy(self, action: str) -> dict[str, Any]:
        """Apply a remote remedy; ``{"action": ..., "cleared": bool, "detail": ...}``."""
        ...

    def logs(self, since: float | None, *, trainer: bool = False) -> list[dict[str, Any]]:
        """Device and terminal log entries newer than ``since`` (all when None); the trainer's
        fault injections and clearings only with ``trainer``."""
        ...

    def fault_list(self) -> list[dict[str, Any]]:
        """Faults a trainer may inject, with whether each is active (simulated terminals)."""
        ...

    def fault_inject(self, fault_id: str, *, by: str | None = None) -> dict[str, Any]:
        """Inject a catalog fault (simulated terminals); ``by``: who, the window's engineer (a
        scenario playing there names them in its log)."""
        ...

    def fault_clear(self, fault_id: str, *, by: str | None = None) -> dict[str, Any]:
        """Clear an injected fault (simulated terminals); ``by`` as for :meth:`fault_inject`."""
        ...
