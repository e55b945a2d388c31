"""The agent's backend for a terminal described by its endpoints manifest, real or simulated:
status from quick device reads, the checklist diagnostics and their suites, remedies, a log of
what was run, and, when the manifest names a kiosk control plane (a simulated terminal), the
trainer's fault operations and the physical stimuli the diagnostics need.

    backend = TerminalBackend.from_file("state/KSK-0001/endpoints.json")
    async with Agent(config, backend): ...
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from devices.transports.control_client import request
from remote import remedies
from remote.diagnostics import registry
from remote.diagnostics.base import Result
from remote.diagnostics.control import ControlClient
from remote.diagnostics.links import REAL_LINKS, LinkFactory
from workbench.errors import ConfigError, RemoteError

log = logging.getLogger(__name__)

MAX_LOG = 10_000
TRAINER_KINDS = frozenset({"fault_inject", "fault_clear"})
"""Log entries only a trainer sees."""


class Trainer(Protocol):
    """Synchronous fault operations of a simulated terminal in this process (a kiosk host hands
    its terminal's control plane over; ``remote`` never imports the simulator classes).
    ``by`` names who injects or clears (the window's engineer) for a scenario playing there."""

    def faults(self) -> list[dict[str, Any]]: ...

    def inject(self, fault_id: str, by: str | None = None) -> None: ...

    def clear(self, fault_id: str, by: str | None = None) -> None: ...

    def active_faults(self) -> list[str]: ...


class SocketTrainer:
    """Fault operations over the control socket of a kiosk running in another process (blocking
    calls with a timeout: the agent's event loop must not be the kiosk's)."""

    def __init__(self, path: str, timeout_s: float = 5.0) -> None:
        self.path = path
        self.timeout_s = timeout_s

    def _request(self, op: str, **fields: Any) -> Any:
        return request(self.path, op, timeout=self.timeout_s, **fields)

    def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._request("fault.list")
        return result

    def inject(self, fault_id: str, by: str | None = None) -> None:
        self._request("fault.inject", id=fault_id, **({"by": by} if by else {}))

    def clear(self, fault_id: str, by: str | None = None) -> None:
        self._request("fault.clear", id=fault_id, **({"by": by} if by else {}))

    def active_faults(self) -> list[str]:
        return [f["id"] for f in self.faults() if f.get("active")]


ManifestSource = Mapping[str, Any] | Callable[[], Mapping[str, Any]]


class TerminalBackend:
    """:class:`remote.backend.Backend` over an endpoints manifest.

    ``manifest`` may be a callable when the manifest is completed after the backend is made
    (a kiosk host starts the agent before it writes the manifest). ``trainer`` gives fault
    operations in-process; without it a simulated terminal's control socket is used.
    """

    def __init__(
        self,
        manifest: ManifestSource,
        *,
        trainer: Trainer | None = None,
        simulated: bool | None = None,
        timeout_s: float = 0.5,
        links: LinkFactory = REAL_LINKS,
    ) -> None:
        self._source = manifest
        self.links = links
        self._trainer = trainer
        self._simulated = simulated
        self.timeout_s = timeout_s
        self._runner: registry.Runner | None = None
        self._log: list[dict[str, Any]] = []
        self._last: dict[str, dict[str, Any]] = {}

    @property
    def manifest(self) -> Mapping[str, Any]:
        """The endpoints manifest."""
        return self._source() if callable(self._source) else self._source

    @property
    def terminal(self) -> str:
        """The terminal id."""
        return str(self.manifest.get("terminal", "?"))

    @property
    def simulated(self) -> bool:
        """True when the terminal is a simulated kiosk (its manifest names a control plane)."""
        if self._simulated is not None:
            return self._simulated
        return "control" in self.manifest or self._trainer is not None

    @simulated.setter
    def simulated(self, value: bool) -> None:
        self._simulated = value

    @property
    def control(self) -> ControlClient | None:
        """The kiosk control plane (physical stimuli and host actions), when simulated."""
        path = self.manifest.get("control")
        return ControlClient(path) if path else None

    @property
    def runner(self) -> registry.Runner:
        """The diagnostics runner (one per backend: its device locks span concurrent sessions)."""
        if self._runner is None:
            self._runner = registry.Runner(self.manifest, self.control, self.timeout_s, self.links)
        return self._runner

    @classmethod
    def from_file(cls, path: str | Path, **options: Any) -> TerminalBackend:
        """A backend for the manifest at ``path`` (``DIR/ID/endpoints.json``)."""
        try:
            manifest = json.loads(Path(path).read_text())
        except (OSError, ValueError, RecursionError) as exc:
            raise ConfigError(f"{path}: cannot read the endpoints manifest: {exc}") from None
        if not isinstance(manifest, dict) or "devices" not in manifest:
            raise ConfigError(f"{path}: not an endpoints manifest (no 'devices')")
        control = manifest.get("control")
        if isinstance(control, str) and not Path(control).is_absolute():
            raise ConfigError(
                f"{path}: control(={control!r}) must be an absolute path (a relative one means "
                "another file depending on the directory this is run from)"
            )
        return cls(manifest, **options)

    # -- log ------------------------------------------------------------------------------------
    def _record(self, kind: str, **detail: Any) -> None:
        self._log.append({"time": time.time(), "kind": kind, **detail})
        del self._log[:-MAX_LOG]

    def logs(self, since: float | None, *, trainer: bool = False) -> list[dict[str, Any]]:
        """Diagnostic results and remedies run through this backend; the trainer's fault
        operations too with ``trainer`` (they are the answer key)."""
        return [
            e
            for e in self._log
            if (since is None or e["time"] > since) and (trainer or e["kind"] not in TRAINER_KINDS)
        ]

    # -- status and diagnostics -----------------------------------------------------------------
    async def status(self, *, trainer: bool = False) -> dict[str, Any]:
        """The terminal, its devices and ports, each checklist item as the ``quick`` suite (status
        reads only, no stimuli or test prints, tens of milliseconds) finds it now, and the last
        verdict of every test run here; for a trainer on a simulated terminal, the faults
        injected (``active_faults``)."""
        devices = self.manifest.get("devices", {})
        # never wait behind another session's diagnostic: a busy device is reported busy
        busy = {
            name: {"status": "busy", "behind": holder, "suspect": None}
            for name, test in registry.diagnostics().items()
            if (holder := self.runner.busy(test.device)) is not None
        }
        read = {
            r.test: {"status": r.status, "suspect": r.suspect}
            async for r in self.runner.stream(["quick"], skip_busy=True)
            if isinstance(r, Result)
        }
        now = {name: read.get(name) or busy[name] for name in registry.diagnostics()}
        out: dict[str, Any] = {
            "terminal": self.terminal,
            "profile": self.manifest.get("profile"),
            "simulated": self.simulated,
            "devices": {name: dict(ports) for name, ports in devices.items()},
            "now": now,
            "last_results": dict(self._last),
            "suspects": sorted({r["suspect"] for r in now.values() if r.get("suspect")}),
        }
        if trainer and self.simulated:
            out["active_faults"] = await self._active_faults()
        return out

    def diag_list(self) -> list[dict[str, Any]]:
        """Every test and suite."""
        return registry.describe()

    async def diag_run(self, names: list[str]) -> AsyncIterator[dict[str, Any]]:
        """Stream one result per test; unknown names raise before the first."""
        registry.plan(names)
        async for result in self.runner.stream(names, notify=True):
            if isinstance(result, registry.Queued):
                yield result.as_dict()  # "busy, queued behind ..." before the wait
                continue
            out = result.as_dict()
            self._last[result.test] = {
                "status": result.status,
                "suspect": result.suspect,
                "at": time.time(),
            }
            self._record("diag", **out)
            yield out

    async def remedy(self, action: str) -> dict[str, Any]:
        """Apply a remedy (or refuse one that needs an engineer on site) and re-test."""
        outcome = await remedies.apply(
            action,
            self.manifest,
            control=self.control,
            runner=self.runner,
            timeout_s=self.timeout_s,
        )
        self._record("remedy", **{k: v for k, v in outcome.items() if k != "result"})
        return outcome

    # -- trainer operations (simulated terminals) -------------------------------------------------
    async def _active_faults(self) -> list[str]:
        if self._trainer is not None:
            return self._trainer.active_faults()
        control = self.control
        if control is None:
            return []
        return [str(f) for f in (await control.status()).get("active_faults", [])]

    def _need_trainer(self) -> Trainer:
        if self._trainer is not None:
            return self._trainer
        path = self.manifest.get("control")
        if not path:
            raise RemoteError(f"{self.terminal} is a real terminal: no fault injection")
        self._trainer = SocketTrainer(str(path))
        return self._trainer

    def fault_list(self) -> list[dict[str, Any]]:
        """Faults a trainer may inject here, with whether each is active."""
        return self._need_trainer().faults()

    def fault_inject(self, fault_id: str, *, by: str | None = None) -> dict[str, Any]:
        """Inject a catalog fault (``by``: who, for a scenario's log)."""
        self._need_trainer().inject(fault_id, by)
        self._record("fault_inject", id=fault_id, by=by)
        return {"id": fault_id, "active": True}

    def fault_clear(self, fault_id: str, *, by: str | None = None) -> dict[str, Any]:
        """Clear a fault (``by``: who, for a scenario's log)."""
        self._need_trainer().clear(fault_id, by)
        self._record("fault_clear", id=fault_id, by=by)
        return {"id": fault_id, "active": False}
