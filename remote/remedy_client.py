"""A remote remedy from the engineer's side: ask a terminal's agent for ``remedy ACTION`` inside
the window, collect what it did and its re-test, and keep it as a maintenance action."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from remote.client import AgentClient, Endpoint, Identity
from workbench.errors import WorkbenchError
from workbench.store import RecordStore


@dataclass(slots=True)
class RemedyReport:
    """What one remedy on one terminal did: the agent's ``remedy`` line and its re-test."""

    terminal: str
    action: str
    engineer: str
    started: float
    finished: float = 0.0
    cleared: bool = False
    refused: bool = False
    detail: str = ""
    steps: list[str] = field(default_factory=list)
    retest: dict[str, Any] | None = None
    error: str | None = None

    @property
    def outcome(self) -> str:
        """``cleared``, ``not cleared``, ``refused`` (needs a site visit) or ``error``."""
        if self.error:
            return "error"
        if self.refused:
            return "refused"
        return "cleared" if self.cleared else "not cleared"


async def apply_remedy(
    endpoint: Endpoint, identity: Identity, action: str, *, connect_timeout: float = 10.0
) -> RemedyReport:
    """Ask a terminal's agent for ``remedy ACTION``; never raises for the terminal's problems."""
    report = RemedyReport(endpoint.terminal, action, identity.engineer, time.time())
    try:
        async with AgentClient(endpoint, identity, connect_timeout=connect_timeout) as client:
            async for line in client.stream(f"remedy {action}"):
                if line.get("event") == "remedy":
                    report.action = str(line.get("action") or action)
                    report.cleared = bool(line.get("cleared"))
                    report.refused = bool(line.get("refused"))
                    report.detail = str(line.get("detail") or "")
                    report.steps = [str(s) for s in line.get("steps") or []]
                    result = line.get("result")
                    report.retest = result if isinstance(result, dict) else None
                elif line.get("event") in ("error", "window_closed"):
                    report.error = str(line.get("error") or line.get("message"))
    except WorkbenchError as exc:
        report.error = str(exc)
    report.finished = time.time()
    return report


def record_remedy(store: RecordStore, report: RemedyReport) -> int:
    """Store a remedy as a maintenance action (suite ``remedy NAME``) with its re-test."""
    return store.add_maintenance_run(
        report.terminal,
        f"remedy {report.action}",
        report.engineer,
        report.started,
        report.finished,
        report.outcome,
        [report.retest] if report.retest else [],
        report.error,
    )
