"""A scenario's timeline played on a terminal as a SimPy process (the same code in virtual and in
live time), and the observer that records what the terminal did, for the expectations.

    observer = Observer()
    terminal = Terminal(env, "KSK-0001", profile, catalog, sink=observer)
    Timeline(terminal, scenario, observer).start()
"""

from __future__ import annotations

import logging
import random
import shlex
from collections import Counter
from collections.abc import Generator
from typing import Any

import simpy

from devices.terminal import Terminal
from scenarios.schema import MtbfDraw, Scenario, Step
from workbench.clock import HOUR
from workbench.errors import WorkbenchError

log = logging.getLogger(__name__)


def plan(scenario: Scenario) -> list[tuple[float, Step | None]]:
    """A scenario's ticket (the ``None`` step) and steps as ``(at, step)``, in playing order."""
    items: list[tuple[float, int, Step | None]] = [(scenario.ticket.at, -1, None)]
    items += [(step.at, n, step) for n, step in enumerate(scenario.timeline)]
    return [(at, step) for at, _, step in sorted(items, key=lambda item: (item[0], item[1]))]


class Observer:
    """A terminal sink: counts every device event by (terminal, device, kind) and remembers each
    fault raised, so expectations read what happened without the devices' trimmed logs."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str]] = Counter()
        self.raised: dict[str, dict[str, float]] = {}
        """Terminal -> fault id -> simulated time it was first raised."""
        self.cleared: dict[str, dict[str, float]] = {}
        """Terminal -> fault id -> simulated time it was last cleared."""

    def __call__(
        self, terminal: str, device: str, sim_time: float, kind: str, detail: dict[str, Any]
    ) -> None:
        self.counts[terminal, device, kind] += 1
        if kind == "fault":
            self.raised.setdefault(terminal, {}).setdefault(str(detail.get("id")), sim_time)
        elif kind == "clear":
            self.cleared.setdefault(terminal, {})[str(detail.get("id"))] = sim_time


class Timeline:
    """Plays a scenario's steps on one terminal, from the moment :meth:`start` is called.

    ``log`` holds ``(sim_time, text)`` for the ticket and every step, as the run shows them."""

    def __init__(self, terminal: Terminal, scenario: Scenario) -> None:
        self.terminal = terminal
        self.scenario = scenario
        self.env: simpy.Environment = terminal.env
        self.rng = random.Random(f"{scenario.seed}:{terminal.id}:timeline")
        self.log: list[tuple[float, str]] = []
        self.t0 = 0.0
        self.errors: list[str] = []
        self.played = 0
        """How many of :meth:`items` have happened (they happen in that order)."""
        self.stopped = False
        self._processes: list[simpy.Process] = []

    def note(self, text: str) -> None:
        """Add a line to the run's log at the current simulated time."""
        self.log.append((self.env.now, text))
        log.info("%s %s: %s", self.terminal.id, self.scenario.clock_text(self.env.now), text)

    def start(self) -> simpy.Process:
        """Schedule the ticket and every step relative to now."""
        self.t0 = self.env.now
        process = self.env.process(self._play())
        self._processes.append(process)
        return process

    def stop(self) -> None:
        """Play no further step (nor MTBF draw); what was done stays done."""
        self.stopped = True
        for process in self._processes:
            if process.is_alive and process is not self.env.active_process:
                process.interrupt("stopped")

    def items(self) -> list[tuple[float, Step | None]]:
        """``(at, step)`` in the order they are played; the ticket is the ``None`` step."""
        return plan(self.scenario)

    def _play(self) -> Generator[simpy.Event, Any, None]:
        try:
            yield from self._steps()
        except simpy.Interrupt:
            pass

    def _steps(self) -> Generator[simpy.Event, Any, None]:
        ticket = self.scenario.ticket
        for at, step in self.items():
            due = self.t0 + at
            if due > self.env.now:
                yield self.env.timeout(due - self.env.now)
            self.played += 1
            if step is None:
                self.note(f"ticket from {ticket.reporter}: {ticket.text.strip()}")
                continue
            try:
                self._do(step)
            except WorkbenchError as exc:  # a live trainee may have changed the terminal
                self.errors.append(f"{step.kind} at {at:g} s: {exc}")
                self.note(f"{step.kind} failed: {exc}")

    def _do(self, step: Step) -> None:
        t = self.terminal
        why = f" ({step.note})" if step.note else ""
        if step.inject is not None:
            t.inject(step.inject)
            self.note(f"fault {step.inject} injected{why}")
        elif step.clear is not None:
            t.clear(step.clear)
            self.note(f"fault {step.clear} cleared{why}")
        elif step.act is not None:
            action, *args = shlex.split(step.act)
            message = t.act(action, *args, device=step.device)
            self.note(f"{step.act}: {message}{why}")
        elif step.toxic is not None:
            x = step.toxic
            options: dict[str, Any] = {
                "stream": x.stream,
                "toxicity": x.toxicity,
                "attributes": x.attributes,
            }
            if x.name:
                options["name"] = x.name
            toxic = t.add_toxic(x.device, x.type, **options)
            self.note(f"wire: {x.device} toxic {toxic.name} {x.type} {x.attributes}{why}")
        elif step.remove_toxic is not None:
            r = step.remove_toxic
            t.remove_toxic(r.device, r.name)
            self.note(f"wire: {r.device} toxic {r.name or 'all'} removed{why}")
        elif step.mtbf is not None:
            self._processes.append(self.env.process(self._mtbf(step.mtbf)))
            self.note(
                f"faults drawn from the catalog's MTBF x{step.mtbf.scale:g} "
                f"for {step.mtbf.period / HOUR:g} h{why}"
            )

    def _mtbf(self, draw: MtbfDraw) -> Generator[simpy.Event, Any, None]:
        """One pooled source of failures over the terminal's faults, for ``draw.period``."""
        try:
            yield from self._draws(draw)
        except simpy.Interrupt:
            pass

    def _draws(self, draw: MtbfDraw) -> Generator[simpy.Event, Any, None]:
        t = self.terminal
        modes = [t.catalog[f] for f in t.owner if t.catalog[f].mtbf_hours]
        weights = [m.rate_per_hour * draw.scale for m in modes]
        total = sum(weights)
        end = self.env.now + draw.period
        while total > 0:
            gap = self.rng.expovariate(total) * HOUR
            if self.env.now + gap > end:
                return
            yield self.env.timeout(gap)
            mode = self.rng.choices(modes, weights)[0]
            if not t.owner[mode.id].has(mode.id):
                t.inject(mode.id)
                self.note(f"fault {mode.id} arrived (MTBF)")
