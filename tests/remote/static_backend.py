"""An in-memory agent backend for tests: canned status, two diagnostics, one slow one, and
trainer faults that really flip what the diagnostics report."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from workbench.errors import ConfigError, DeviceError

TESTS = {"printer": "print_head", "validator": "bill_validator"}
SUITES = {"quick": ["printer"], "inspection": ["printer", "validator"], "slow": ["slow"]}
FAULTS = {"printer.paper_out": "printer", "bill_validator.acceptor_jam": "validator"}


class StaticBackend:
    """Backend protocol implementation with no devices behind it."""

    def __init__(self, *, simulated: bool = True, slow_s: float = 30.0) -> None:
        self.simulated = simulated
        self.active: set[str] = set()
        self.slow_s = slow_s
        self.remedies: list[str] = []
        self.slow_started = asyncio.Event()

    async def status(self, *, trainer: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"terminal_state": "in_service"}
        if trainer:
            out["active_faults"] = sorted(self.active)
        return out

    def diag_list(self) -> list[dict[str, Any]]:
        tests = [{"name": n, "kind": "test", "checklist": c} for n, c in TESTS.items()]
        return tests + [{"name": s, "kind": "suite", "tests": t} for s, t in SUITES.items()]

    async def diag_run(self, names: list[str]) -> AsyncIterator[dict[str, Any]]:
        todo: list[str] = []
        for name in names:
            if name in SUITES:
                todo += SUITES[name]
            elif name in TESTS or name == "slow":
                todo.append(name)
            else:
                raise ConfigError(f"no diagnostic or suite {name!r}")  # as the registry does
        for test in todo:
            if test == "slow":
                self.slow_started.set()
                yield {"test": "slow", "status": "pass", "progress": "started"}
                await asyncio.sleep(self.slow_s)
            fault = next((f for f, t in FAULTS.items() if t == test and f in self.active), None)
            yield {
                "test": test,
                "status": "fail" if fault else "pass",
                "measurements": {"latency_ms": {"value": 3.0, "unit": "ms"}},
                "suspect": fault,
                "remedy": "clear it" if fault else None,
            }

    async def remedy(self, action: str) -> dict[str, Any]:
        if action == "explode":
            raise DeviceError("the validator did not answer the reset")
        self.remedies.append(action)
        if action == "visit_only":  # as a fault that is not remote-fixable answers
            return {"action": action, "cleared": False, "refused": True, "detail": "needs a visit"}
        return {"action": action, "cleared": True, "detail": "done"}

    def logs(self, since: float | None, *, trainer: bool = False) -> list[dict[str, Any]]:
        entries = [
            {"time": 1.0, "device": "printer", "kind": "paper_low"},
            {"time": 5.0, "device": "ups", "kind": "on_battery"},
        ]
        if trainer:
            entries += [{"time": 6.0, "kind": "fault_inject", "id": f} for f in sorted(self.active)]
        return [e for e in entries if since is None or e["time"] > since]

    def fault_list(self) -> list[dict[str, Any]]:
        return [{"id": f, "active": f in self.active} for f in FAULTS]

    def fault_inject(self, fault_id: str, *, by: str | None = None) -> dict[str, Any]:
        if fault_id not in FAULTS:
            raise DeviceError(f"unknown fault {fault_id!r}")
        self.active.add(fault_id)
        return {"id": fault_id, "active": True}

    def fault_clear(self, fault_id: str, *, by: str | None = None) -> dict[str, Any]:
        self.active.discard(fault_id)
        return {"id": fault_id, "active": False}


def make_backend(config: object) -> StaticBackend:
    """Factory for ``backend: static_backend:make_backend`` in an agent config file."""
    return StaticBackend(slow_s=60.0)
