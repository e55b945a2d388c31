"""A scenario played in live time: simulated kiosks with their SSH agents, the scenario's timeline
on each, and site visits that trainees dispatch, so that trainees work on the kiosks through
``workbench remote`` (or the TUI) while the story unfolds.

    async with LiveScenario(load("display-brightness-low"), state_dir, ["KSK-0001"], speed=60):
        ...   # trainees connect; STATE/KSK-0001/scenario.json says what is running

Each terminal's ``scenario.json`` (beside its ``endpoints.json``) records which scenario runs,
the speed and the wall and simulated times it started: what scoring needs to put the agent's
audit log (wall time) on the scenario's simulated clock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import simpy

from devices.kiosk import KioskHost
from devices.terminal import Terminal
from scenarios.library import Loaded
from scenarios.timeline import Observer, Timeline
from workbench.errors import WorkbenchError

log = logging.getLogger(__name__)

DISPATCH_POLL_S = 0.25
"""How often (wall seconds) the live run looks for site visits trainees requested."""


def ensure_ca(ca_dir: Path) -> Path:
    """The support CA in ``ca_dir``, created there on first use."""
    from remote.window import CertificateAuthority

    if not (ca_dir / "user_ca.pub").exists():
        CertificateAuthority.init(ca_dir)
    return ca_dir


class LiveScenario:
    """Kiosks with agents, in live time, each playing the scenario's timeline."""

    def __init__(
        self,
        loaded: Loaded,
        state_dir: str | Path,
        ids: Sequence[str],
        *,
        speed: float = 60.0,
        ca_dir: str | Path | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.loaded = loaded
        self.state_dir = Path(state_dir).resolve()
        self.ids = list(ids)
        self.speed = speed
        self.ca_dir = Path(ca_dir) if ca_dir is not None else self.state_dir / "ca"
        self.bind = host
        self.observer = Observer()
        self.timelines: dict[str, Timeline] = {}
        self.kiosks: KioskHost | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._seen: set[int] = set()

    @property
    def scenario(self) -> Any:
        return self.loaded.scenario

    def run_path(self, terminal_id: str) -> Path:
        """``STATE/ID/scenario.json``: what runs on this terminal and since when."""
        return self.state_dir / terminal_id / "scenario.json"

    async def start(self) -> None:
        """Start the kiosks and their agents, then the timelines; write each run record."""
        from workbench.wiring import kiosk_backend, kiosk_extra

        s = self.scenario
        ensure_ca(self.ca_dir)
        self.kiosks = KioskHost(
            self.state_dir,
            self.loaded.profile,
            self.ids,
            speed=self.speed,
            seed=s.seed,
            host=self.bind,
            extras=[kiosk_extra(self.ca_dir, kiosk_backend, host=self.bind)],
            initial_time=s.start_offset,
        )
        self.kiosks.listeners.append(self.observer)
        await self.kiosks.start()
        started_wall, started_sim = time.time(), self.kiosks.env.now
        for tid, terminal in self.kiosks.terminals.items():
            timeline = Timeline(terminal, s)
            timeline.start()
            self.timelines[tid] = timeline
            record = {
                "scenario": s.name,
                "source": str(self.loaded.source.resolve()),
                "terminal": tid,
                "speed": self.speed,
                "started_wall": started_wall,
                "started_sim": started_sim,
                "ticket_sim": started_sim + s.ticket.at,
                "severity": str(s.severity),
                "ca": str(self.ca_dir.resolve()),
            }
            path = self.run_path(tid)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(record, indent=2) + "\n")
            os.replace(tmp, path)
        self.kiosks.clock.wake()
        self._watcher = asyncio.get_running_loop().create_task(self._watch_dispatches())

    async def close(self) -> None:
        """Stop the visits watcher, the agents and the kiosks (the run records stay for scoring)."""
        if self._watcher is not None:
            self._watcher.cancel()
            try:
                await self._watcher
            except asyncio.CancelledError:
                pass
            self._watcher = None
        if self.kiosks is not None:
            await self.kiosks.close()
            self.kiosks = None

    async def __aenter__(self) -> LiveScenario:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- site visits --------------------------------------------------------------------------------
    async def _watch_dispatches(self) -> None:
        while True:
            try:
                self.poll_dispatches()
            except WorkbenchError as exc:
                log.warning("site visits: %s", exc)
            await asyncio.sleep(DISPATCH_POLL_S)

    def poll_dispatches(self) -> None:
        """Start the visit of every dispatch not seen yet (travel, then the catalog's repair)."""
        assert self.kiosks is not None
        kiosks = self.kiosks
        for tid, terminal in kiosks.terminals.items():
            for d in kiosks.store.dispatches(tid):
                if d["id"] in self._seen or d["sim_requested"] is not None:
                    continue
                self._seen.add(d["id"])
                kiosks.clock.catch_up()
                kiosks.store.update_dispatch(d["id"], sim_requested=kiosks.env.now)
                self.timelines[tid].note(f"site visit requested for {d['fault']}")
                kiosks.env.process(self._visit(terminal, d["id"], str(d["fault"])))
                kiosks.clock.wake()

    def _visit(
        self, terminal: Terminal, dispatch_id: int, fault_id: str
    ) -> Generator[simpy.Event, Any, None]:
        assert self.kiosks is not None
        store, env, timeline = self.kiosks.store, terminal.env, self.timelines[terminal.id]
        yield env.timeout(self.scenario.site_visit.travel)
        store.update_dispatch(dispatch_id, sim_arrived=env.now)
        timeline.note(f"engineer on site for {fault_id}")
        known = fault_id in set(terminal.owner)
        repair = terminal.catalog[fault_id].repair_minutes * 60 if known else 15 * 60.0
        yield env.timeout(repair)
        if known and fault_id in terminal.active_faults():
            terminal.clear(fault_id)
            outcome = f"repaired {fault_id}"
        else:
            outcome = f"{fault_id} not found on site"
        store.update_dispatch(dispatch_id, sim_done=env.now, outcome=outcome)
        timeline.note(f"site visit: {outcome}")


def read_run(state_dir: Path, terminal_id: str) -> dict[str, Any]:
    """A terminal's ``scenario.json`` (a :class:`WorkbenchError` naming it when missing)."""
    from workbench.errors import ConfigError

    path = state_dir / terminal_id / "scenario.json"
    try:
        record: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no scenario has run on {terminal_id} here (see 'workbench scenario run "
            "--live' or 'workbench class up')"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a scenario run record: {exc}") from None
    return record
