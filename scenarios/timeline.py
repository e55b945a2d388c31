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

WAIT_POLL_S = 1.0
"""How often (simulated seconds) a step that waits for its device asks it again (a customer at
the cash screen reaches for a note 2 to 5 s after the validator is enabled)."""


def span(seconds: float) -> str:
    """A simulated duration as a trainer reads it: ``45s``, ``3m12s``, ``1h05m``."""
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def plan(scenario: Scenario) -> list[tuple[float, Step | None]]:
    """A scenario's ticket (the ``None`` step) and steps as ``(at, step)``, in playing order."""
    items: list[tuple[float, int, Step | None]] = [(scenario.ticket.at, -1, None)]
    items += [(step.at, n, step) for n, step in enumerate(scenario.timeline)]
    return [(at, step) for at, _, step in sorted(items, key=lambda item: (item[0], item[1]))]


class Observer:
    """A terminal sink: counts every device event by (terminal, device, kind) and remembers each
    fault raised, so expectations read what happened without the devices' trimmed logs."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[Any, ...]] = Counter()
        """Events by (terminal, device, kind), and those with the details a :meth:`watch`
        asked for by (terminal, device, kind, details)."""
        self.watched: dict[tuple[str, str], list[tuple[tuple[str, Any], ...]]] = {}
        self.raised: dict[str, dict[str, float]] = {}
        """Terminal -> fault id -> simulated time it was first raised."""
        self.cleared: dict[str, dict[str, float]] = {}
        """Terminal -> fault id -> simulated time it was last cleared."""

    def __call__(
        self, terminal: str, device: str, sim_time: float, kind: str, detail: dict[str, Any]
    ) -> None:
        self.counts[terminal, device, kind] += 1
        if self.watched and (device, kind) in self.watched:
            for wanted in self.watched[device, kind]:
                if all(k in detail and detail[k] == v for k, v in wanted):
                    self.counts[terminal, device, kind, wanted] += 1
        if kind == "fault":
            self.raised.setdefault(terminal, {}).setdefault(str(detail.get("id")), sim_time)
        elif kind == "clear":
            self.cleared.setdefault(terminal, {})[str(detail.get("id"))] = sim_time

    def watch(self, device: str, kind: str, wanted: tuple[tuple[str, Any], ...]) -> None:
        """Also count the events of ``kind`` whose details include ``wanted`` (sorted pairs),
        from now on, under ``(terminal, device, kind, wanted)``."""
        watched = self.watched.setdefault((device, kind), [])
        if wanted not in watched:
            watched.append(wanted)


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
        self.waiting: set[int] = set()
        """The items (indexes in :meth:`items`) whose step waits for its device to take it
        (``wait_up_to``): reached, but not done yet."""
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
        for n, (at, step) in enumerate(self.items()):
            due = self.t0 + at
            if due > self.env.now:
                yield self.env.timeout(due - self.env.now)
            self.played += 1
            if step is None:
                self.note(f"ticket from {ticket.reporter}: {ticket.text.strip()}")
                continue
            if step.wait_up_to is not None and (why := self._why_not(step)) is not None:
                self.waiting.add(n)
                self._processes.append(self.env.process(self._wait(n, at, step, why)))
                continue
            self._try(at, step)

    def _try(self, at: float, step: Step, waited: str = "") -> None:
        try:
            self._do(step, waited)
        except WorkbenchError as exc:  # a live trainee may have changed the terminal
            self.errors.append(f"{step.kind} at {at:g} s: {exc}")
            self.note(f"{step.kind} failed: {exc}")

    def _why_not(self, step: Step) -> str | None:
        """Why the device of an ``act`` step would not take it now (None: it would, or the step
        names no one device: playing it says what is wrong)."""
        assert step.act is not None
        action = shlex.split(step.act)[0]
        owners = [
            d
            for name, d in self.terminal.devices.items()
            if action in d.actions and step.device in (None, name)
        ]
        return owners[0].why_not(action) if len(owners) == 1 else None

    def _wait(
        self, n: int, at: float, step: Step, why: str | None
    ) -> Generator[simpy.Event, Any, None]:
        """An ``act`` step whose device would not take it yet: ask the device again every
        :data:`WAIT_POLL_S` until it would (then play the step) or ``wait_up_to`` has passed
        (then the step fails, saying why the device still refused it)."""
        assert step.wait_up_to is not None
        start = self.env.now
        end = start + step.wait_up_to
        try:
            while why is not None and self.env.now < end:
                yield self.env.timeout(min(WAIT_POLL_S, end - self.env.now))
                why = self._why_not(step)
        except simpy.Interrupt:  # stopped meanwhile: the step is not played
            self.waiting.discard(n)
            return
        self.waiting.discard(n)
        waited = span(self.env.now - start)
        if why is None:
            self._try(at, step, f"after waiting {waited}")
            return
        error = f"{step.act}: still not taken after waiting {waited}: {why}"
        self.errors.append(f"act at {at:g} s: {error}")
        self.note(f"act failed: {error}")

    def _do(self, step: Step, waited: str = "") -> None:
        t = self.terminal
        why = f" ({'; '.join(x for x in (waited, step.note) if x)})" if waited or step.note else ""
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
