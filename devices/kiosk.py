"""A process hosting one or many simulated kiosks in live time: one SimPy environment and one
live clock for all of them, their ports, control planes, endpoints manifests and records.

``KioskHost`` is what ``workbench kiosk up`` and ``workbench demo`` run, and what tests use:

    async with KioskHost(state_dir, "bill_payment", ["KSK-0001"], speed=60) as host:
        endpoints = host.endpoints["KSK-0001"]
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import simpy

from devices.catalog import default_catalog
from devices.control import ControlServer
from devices.profiles import Profile, load_profile
from devices.terminal import Terminal, TerminalSink
from devices.transcript import Recorder
from workbench import gc_freeze
from workbench.clock import LiveClock
from workbench.faults import FaultCatalog
from workbench.ids import check_terminal_id
from workbench.store import RecordStore

log = logging.getLogger(__name__)

Extra = Callable[
    ["KioskHost", Terminal, dict[str, Any]], Awaitable[Callable[[], Awaitable[None]] | None]
]
"""A plug-in started per terminal after its ports (the SSH agent, for one): it may add keys to
the terminal's endpoints manifest and returns an async closer."""


LOG_LIMIT = 5000
"""Recent events each device of a live kiosk keeps in memory (all of them go to the store)."""


def terminal_ids(prefix: str, count: int) -> list[str]:
    """``KSK-0001`` with count 1, else ``KSK-0001-0001``.. numbered ids for a fleet."""
    ids = [prefix] if count == 1 else [f"{prefix}-{i:04d}" for i in range(1, count + 1)]
    return [check_terminal_id(tid) for tid in ids]


class KioskHost:
    """Run terminals of one profile in live time until closed."""

    def __init__(
        self,
        state_dir: str | Path,
        profile: str | Path | Profile,
        ids: Sequence[str],
        *,
        speed: float = 1.0,
        seed: int = 0,
        host: str = "127.0.0.1",
        catalog: FaultCatalog | None = None,
        store: RecordStore | None = None,
        extras: Sequence[Extra] = (),
        initial_time: float = 0.0,
        transcript: str | Path | None = None,
        freeze_gc: bool = False,
    ) -> None:
        self.state_dir = Path(state_dir).absolute()
        """Absolute, so every path the manifests hold works from any directory."""
        self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        self.catalog = catalog or default_catalog()
        self.env = simpy.Environment(initial_time)
        """Simulated time starts at ``initial_time`` (seconds from a midnight: a scenario's time
        of day, so customers' opening hours and staff rounds fall where they should)."""
        self.listeners: list[TerminalSink] = []
        """Also called with every device event of every terminal (a scenario's observer)."""
        self.clock = LiveClock(self.env, speed)
        self.host = host
        self._own_store = store is None
        self.store = store or RecordStore(self.state_dir / "records.sqlite")
        self.terminals: dict[str, Terminal] = {
            tid: Terminal(self.env, tid, self.profile, self.catalog, seed=seed, sink=self._record)
            for tid in ids
        }
        for terminal in self.terminals.values():
            for device in terminal.devices.values():
                device.attach_clock(self.clock)
                device.log_limit = LOG_LIMIT
        self.recorders: dict[str, Recorder] = {}
        """Each terminal's wire-transcript recorder, when recording."""
        if transcript is not None:
            base = Path(transcript)
            for tid, terminal in self.terminals.items():
                path = base if len(ids) == 1 else base.with_name(f"{base.stem}-{tid}{base.suffix}")
                recorder = Recorder(
                    path,
                    lambda: self.env.now,
                    {"terminal": tid, "profile": self.profile.name, "speed": speed},
                )
                terminal.session_hook = recorder.wrap
                terminal.port_hook = recorder.tap_port
                self.recorders[tid] = recorder
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.controls: dict[str, ControlServer] = {}
        """Each terminal's control plane (an extra may add ops to it)."""
        self._extras = extras
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self.freeze_gc = freeze_gc
        """Freeze what start built out of the garbage collector's reach (:mod:`workbench.gc_freeze`):
        for a process that hosts until it exits (``kiosk up``), not for tests that start many."""
        self._frozen = False

    def _record(
        self, terminal: str, device: str, sim_time: float, kind: str, detail: dict[str, Any]
    ) -> None:
        if kind == "receipt":
            self.store.add_receipt(terminal, sim_time, str(detail.get("text", "")))
        else:
            self.store.add_device_event(terminal, device, sim_time, kind, detail)
        for listener in self.listeners:
            listener(terminal, device, sim_time, kind, detail)

    def manifest_path(self, terminal_id: str) -> Path:
        """Where the endpoints manifest of a terminal is written."""
        return self.state_dir / terminal_id / "endpoints.json"

    async def start(self) -> None:
        """Open every port and control socket, write the manifests, start live time."""
        for tid, terminal in self.terminals.items():
            devices = await terminal.open_ports(self.host)
            control = ControlServer(terminal, self.state_dir / tid / "control.sock")
            await control.start()
            self.controls[tid] = control
            manifest: dict[str, Any] = {
                "terminal": tid,
                "profile": self.profile.name,
                "devices": devices,
                "control": str(control.path),
            }
            self.endpoints[tid] = manifest
            for extra in self._extras:
                closer = await extra(self, terminal, manifest)
                if closer is not None:
                    self._closers.append(closer)
            terminal.start()
            self.store.upsert_terminal(tid, self.profile.name, manifest)
        self.clock.start()
        for tid, manifest in self.endpoints.items():
            self._write_manifest(tid, manifest)
        if self.freeze_gc:
            self._frozen = gc_freeze.freeze_startup(f"kiosk host of {len(self.terminals)}")

    def _write_manifest(self, tid: str, manifest: dict[str, Any]) -> None:
        path = self.manifest_path(tid)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(tmp, path)

    async def close(self) -> None:
        """Clean shutdown: manifests removed first (so nobody dials a dying kiosk), then ports."""
        for tid in self.endpoints:
            self.manifest_path(tid).unlink(missing_ok=True)
        for closer in reversed(self._closers):
            await closer()
        for control in self.controls.values():
            await control.close()
        for terminal in self.terminals.values():
            await terminal.close_ports()
        for recorder in self.recorders.values():
            recorder.close()
        await self.clock.close()
        if self._own_store:
            self.store.close()
        if self._frozen:
            gc_freeze.thaw()
            self._frozen = False

    async def __aenter__(self) -> KioskHost:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
