"""Scenarios played in live time on the terminals of a running kiosk host, one at a time per
terminal, started, watched and stopped through each terminal's control plane:

    {"op": "scenario.start", "scenario": "p3-paper-out"}   -> the run record
    {"op": "scenario.status"}                              -> what has happened so far
    {"op": "scenario.stop"}                                -> the status, stopped

A :class:`Stage` is what ``workbench kiosk up`` plugs into its kiosks (so a trainer starts a
scenario on a kiosk that is already running, from the TUI or a script) and what
:class:`scenarios.live.LiveScenario` plays its timelines on. Each run writes ``STATE/ID/scenario.json``
(what scoring reads) and plays the site visits trainees dispatch (``workbench scenario dispatch``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import simpy

from scenarios.library import Loaded
from scenarios.schema import Step
from scenarios.timeline import Timeline, span
from workbench.clock import HOUR
from workbench.errors import ConfigError, WorkbenchError

if TYPE_CHECKING:
    from devices.kiosk import KioskHost
    from devices.terminal import Terminal

log = logging.getLogger(__name__)

DISPATCH_POLL_S = 0.25
"""How often (wall seconds) a stage looks for site visits trainees requested."""


def step_text(step: Step | None) -> str:
    """What a timeline step does, as a trainer reads it (the ticket is the ``None`` step)."""
    if step is None:
        return "ticket to the trainee"
    why = f" ({step.note})" if step.note else ""
    if step.act is not None:
        wait = None if step.wait_up_to is None else f"waits up to {span(step.wait_up_to)}"
        said = "; ".join(x for x in (wait, step.note) if x)
        return f"act {step.act}" + (f" ({said})" if said else "")
    if step.inject is not None:
        return f"inject {step.inject}{why}"
    if step.clear is not None:
        return f"clear {step.clear}{why}"
    if step.toxic is not None:
        return f"wire {step.toxic.device}: {step.toxic.type} {step.toxic.attributes}{why}"
    if step.remove_toxic is not None:
        return f"wire {step.remove_toxic.device}: remove {step.remove_toxic.name or 'all'}{why}"
    assert step.mtbf is not None
    return f"MTBF faults x{step.mtbf.scale:g} for {step.mtbf.period / HOUR:g} h{why}"


class Play:
    """One scenario run on one terminal: its timeline, its run record, its site visits."""

    def __init__(
        self, stage: Stage, terminal: Terminal, loaded: Loaded, sim_origin: float | None
    ) -> None:
        self.stage = stage
        self.terminal = terminal
        self.loaded = loaded
        self.timeline = Timeline(terminal, loaded.scenario)
        self.sim_origin = sim_origin
        self.state = "running"
        self.record: dict[str, Any] = {}
        self.seen: set[int] = set()
        self.stopped_wall: float | None = None
        self.stopped_sim: float | None = None  # the run's length stops with it

    def start(self) -> dict[str, Any]:
        """Start the timeline now and write the run record."""
        s, kiosks = self.loaded.scenario, self.stage.kiosks
        self.timeline.start()
        started_sim = kiosks.env.now
        self.record = {
            "scenario": s.name,
            "source": str(self.loaded.source.resolve()),
            "terminal": self.terminal.id,
            "speed": kiosks.clock.speed,
            "started_wall": time.time(),
            "started_sim": started_sim,
            "sim_origin": started_sim if self.sim_origin is None else self.sim_origin,
            "ticket_sim": started_sim + s.ticket.at,
            "severity": str(s.severity),
            "ca": str(self.stage.ca_dir.resolve()) if self.stage.ca_dir else None,
        }
        path = self.stage.run_path(self.terminal.id)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.record, indent=2) + "\n")
        os.replace(tmp, path)
        return self.record

    def clock(self, sim_time: float) -> str:
        """A simulated time on the scenario's calendar (its start is ``sim_origin``)."""
        s = self.loaded.scenario
        return s.clock_text(sim_time - float(self.record["sim_origin"]) + s.start_offset)

    def stop(self) -> None:
        """Play nothing more of the timeline (faults it injected stay until cleared)."""
        if self.state == "running":
            self.timeline.stop()
            self.timeline.note("stopped by the trainer")
            self.state = "stopped"
            self.stopped_wall = time.time()
            self.stopped_sim = self.stage.kiosks.env.now

    def status(self) -> dict[str, Any]:
        """What runs, since when (wall and simulated), each step done or not, the log."""
        s, tl = self.loaded.scenario, self.timeline
        now = self.stage.kiosks.env.now
        items = tl.items()
        if self.state == "running" and tl.played == len(items) and not tl.waiting:
            self.state = "finished"
        wall_end = self.stopped_wall or time.time()
        return {
            "scenario": s.name,
            "title": s.title,
            "severity": str(s.severity),
            "terminal": self.terminal.id,
            "state": self.state,
            "speed": self.record["speed"],
            "started_wall": self.record["started_wall"],
            "elapsed_wall": wall_end - float(self.record["started_wall"]),
            "elapsed_sim": (now if self.stopped_sim is None else self.stopped_sim)
            - float(self.record["started_sim"]),
            "clock": self.clock(now),
            "steps": [
                {
                    "at": at,
                    "what": step_text(step),
                    "done": n < tl.played and n not in tl.waiting,
                    "waiting": n in tl.waiting,
                }
                for n, (at, step) in enumerate(items)
            ],
            "log": [{"sim_time": t, "clock": self.clock(t), "text": x} for t, x in tl.log],
            "errors": list(tl.errors),
            "active_faults": self.terminal.active_faults(),
        }

    def poll_dispatches(self) -> None:
        """Start the visit of every dispatch not seen yet (travel, then the catalog's repair)."""
        kiosks, tid = self.stage.kiosks, self.terminal.id
        for d in kiosks.store.dispatches(tid):
            if d["id"] in self.seen or d["sim_requested"] is not None:
                continue
            self.seen.add(d["id"])
            kiosks.clock.catch_up()
            kiosks.store.update_dispatch(d["id"], sim_requested=kiosks.env.now)
            self.timeline.note(f"site visit requested for {d['fault']}")
            kiosks.env.process(self._visit(d["id"], str(d["fault"])))
            kiosks.clock.wake()

    def _visit(self, dispatch_id: int, fault_id: str) -> Generator[simpy.Event, Any, None]:
        terminal, store = self.terminal, self.stage.kiosks.store
        env, timeline = terminal.env, self.timeline
        yield env.timeout(self.loaded.scenario.site_visit.travel)
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


class Stage:
    """The scenario runs of one kiosk host's terminals, and the watcher of their site visits."""

    def __init__(self, kiosks: KioskHost, ca_dir: Path | None = None) -> None:
        self.kiosks = kiosks
        self.ca_dir = ca_dir
        self.plays: dict[str, Play] = {}
        self._watcher: asyncio.Task[None] | None = None

    def run_path(self, terminal_id: str) -> Path:
        """``STATE/ID/scenario.json``: what runs on this terminal and since when."""
        return self.kiosks.state_dir / terminal_id / "scenario.json"

    def serve(self, terminal_id: str) -> None:
        """Answer ``scenario.start|status|stop`` on the terminal's control plane."""
        ops = self.kiosks.controls[terminal_id].ops
        ops["scenario.start"] = lambda req: self.start(terminal_id, str(req["scenario"]))["record"]
        ops["scenario.status"] = lambda req: self.status(terminal_id)
        ops["scenario.stop"] = lambda req: self.stop(terminal_id)
        self.kiosks.controls[terminal_id].changed.append(lambda req: self.by_hand(terminal_id, req))

    def by_hand(self, terminal_id: str, req: dict[str, Any]) -> None:
        """A fault injected or cleared, or a stimulus applied, on the control plane while a
        scenario plays here (a trainer's hand, not the timeline's): written to the run's log at
        the simulated time, with who (the request's ``by``). Only the trainer reads that log
        (``scenario.status``); a trainee's ``status`` and ``logs`` still carry no fault ids."""
        play = self.plays.get(terminal_id)
        if play is None or play.state == "stopped" or (req["op"] == "act" and "by" not in req):
            return  # a stimulus an inspection's test applies is not the trainer's hand
        who = str(req.get("by") or "the trainer")
        op = req["op"]
        if op == "act":
            what = " ".join([str(req["action"]), *map(str, req.get("args", []))])
            text = f"{what}: {req.get('message')} (by hand, {who})"
        else:
            done = "injected" if op == "fault.inject" else "cleared"
            text = f"fault {req['id']} {done} by hand ({who})"
        self.kiosks.clock.catch_up()
        play.timeline.note(text)

    def start(
        self, terminal_id: str, scenario: str | Loaded, *, sim_origin: float | None = None
    ) -> dict[str, Any]:
        """Play a scenario (a library name, a file or a loaded one) on a terminal from now;
        ``sim_origin`` is the simulated time that stands for the scenario's start of day (default:
        now). Refused while another runs there."""
        from scenarios.library import load

        loaded = scenario if isinstance(scenario, Loaded) else load(scenario)
        if loaded.profile.name != self.kiosks.profile.name:  # said first: stopping cannot help
            raise ConfigError(
                f"scenario {loaded.scenario.name} runs on a {loaded.profile.name} kiosk; "
                f"{terminal_id} is a {self.kiosks.profile.name} kiosk"
            )
        playing = self.plays.get(terminal_id)
        if playing is not None and playing.status()["state"] == "running":
            raise ConfigError(
                f"{terminal_id}: scenario {playing.loaded.scenario.name} is running; stop it first"
            )
        self.kiosks.clock.catch_up()
        play = Play(self, self.kiosks.terminals[terminal_id], loaded, sim_origin)
        self.plays[terminal_id] = play
        record = play.start()
        self.kiosks.clock.wake()
        if self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self._watch_dispatches())
        log.info("%s: scenario %s started", terminal_id, loaded.scenario.name)
        return {"record": record}

    def status(self, terminal_id: str) -> dict[str, Any]:
        """The run's status (``{"state": "none"}`` when no scenario was started here)."""
        play = self.plays.get(terminal_id)
        self.kiosks.clock.catch_up()
        if play is None:
            active = self.kiosks.terminals[terminal_id].active_faults()
            return {"terminal": terminal_id, "state": "none", "active_faults": active}
        return play.status()

    def stop(self, terminal_id: str) -> dict[str, Any]:
        """Stop the terminal's scenario; its status after."""
        play = self.plays.get(terminal_id)
        if play is None:
            raise ConfigError(f"{terminal_id}: no scenario is running")
        self.kiosks.clock.catch_up()
        play.stop()
        return play.status()

    def poll_dispatches(self) -> None:
        """Start the site visits requested since the last poll."""
        for play in self.plays.values():
            play.poll_dispatches()

    async def _watch_dispatches(self) -> None:
        while True:
            try:
                self.poll_dispatches()
            except WorkbenchError as exc:
                log.warning("site visits: %s", exc)
            await asyncio.sleep(DISPATCH_POLL_S)

    async def close(self) -> None:
        """Stop watching for site visits (the run records stay, for scoring)."""
        if self._watcher is not None:
            self._watcher.cancel()
            try:
                await self._watcher
            except asyncio.CancelledError:
                pass
            self._watcher = None


def stage_extra(
    ca_dir: Path | None = None,
) -> Callable[
    [KioskHost, Terminal, dict[str, Any]], Awaitable[Callable[[], Awaitable[None]] | None]
]:
    """A ``KioskHost`` extra that lets a trainer play scenarios on the host's running kiosks."""
    stages: dict[int, Stage] = {}

    async def extra(
        kiosks: KioskHost, terminal: Terminal, manifest: dict[str, Any]
    ) -> Callable[[], Awaitable[None]] | None:
        first = id(kiosks) not in stages
        stage = stages.setdefault(id(kiosks), Stage(kiosks, ca_dir))
        stage.serve(str(manifest["terminal"]))
        return stage.close if first else None

    return extra
