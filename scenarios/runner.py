"""Running a scenario in virtual time (as fast as the CPU allows): the terminal, its customers and
the timeline on one SimPy environment that starts at the scenario's time of day, with every
expectation checked at its simulated time. This is the regression form of a scenario.

    run = run_virtual(load("paper-out-at-opening"))
    assert run.ok, run.failures()
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from devices.catalog import default_catalog
from devices.terminal import Terminal
from scenarios.library import Loaded
from scenarios.schema import Expectation, parse_comparison
from scenarios.timeline import Observer, Timeline

TERMINAL = "KSK-SCN"

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}


def compare(value: float, wanted: str | float) -> bool:
    """Whether ``value`` satisfies ``wanted`` (``">= 1"``, ``"< 3"``, or a number)."""
    op, number = parse_comparison(wanted)
    return _OPS[op](value, number)


@dataclass(frozen=True, slots=True)
class Check:
    """One expectation's verdict."""

    index: int
    kind: str
    at: float
    ok: bool
    detail: str
    why: str = ""


@dataclass(slots=True)
class VirtualRun:
    """What a virtual run did: its log, its checks and the state it ended in."""

    name: str
    checks: list[Check] = field(default_factory=list)
    log: list[tuple[float, str]] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    app: dict[str, Any] | None = None
    sim_seconds: float = 0.0
    wall_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every expectation held and every timeline step ran."""
        return all(c.ok for c in self.checks) and not self.errors

    def failures(self) -> list[str]:
        """One line per failed check or step."""
        return [
            f"expect.{c.index} ({c.kind}): {c.detail}" for c in self.checks if not c.ok
        ] + self.errors


def evaluate(item: Expectation, terminal: Terminal, observer: Observer, index: int = 0) -> Check:
    """Check one expectation against the terminal now."""
    now = terminal.env.now
    active = set(terminal.active_faults())
    raised = observer.raised.get(terminal.id, {})
    kind = item.kind
    if item.active is not None:
        missing = [f for f in item.active if f not in active]
        ok = not missing
        detail = f"not active: {', '.join(missing)}" if missing else ", ".join(item.active)
    elif item.inactive is not None:
        still = [f for f in item.inactive if f in active]
        ok = not still
        detail = f"still active: {', '.join(still)}" if still else ", ".join(item.inactive)
    elif item.raised is not None:
        never = [f for f in item.raised if f not in raised]
        ok, detail = (
            not never,
            (f"never raised: {', '.join(never)}" if never else ", ".join(item.raised)),
        )
    elif item.app is not None:
        stats = terminal.app.status() if terminal.app is not None else {}
        bad = [
            f"{k} = {stats.get(k, 0)}, wanted {v}"
            for k, v in item.app.items()
            if not compare(stats.get(k, 0), v)
        ]
        shown = ", ".join(f"{k} = {stats.get(k, 0)}" for k in item.app)
        ok, detail = not bad, "; ".join(bad) if bad else shown
    elif item.events is not None:
        e = item.events
        key = (terminal.id, e.device, e.kind) + ((e.wanted,) if e.detail else ())
        n = observer.counts[key]
        ok = compare(n, e.count)
        wanted = f"{e.count:g}" if isinstance(e.count, float) else e.count
        detail = f"{e.text} events: {n}" + ("" if ok else f", wanted {wanted}")
    else:
        assert item.toxics is not None
        have = {d: len(v) for d, v in terminal.toxics().items()}
        bad = [
            f"{d}: {have.get(d, 0)}, wanted {n}"
            for d, n in item.toxics.items()
            if have.get(d, 0) != n
        ]
        ok, detail = not bad, "; ".join(bad) if bad else str(have or "none")
    return Check(index, kind, now, ok, detail, item.why)


def run_virtual(loaded: Loaded, terminal_id: str = TERMINAL) -> VirtualRun:
    """Play the whole scenario in virtual time and check every expectation."""
    s = loaded.scenario
    started = time.perf_counter()
    env = simpy.Environment(initial_time=s.start_offset)
    observer = Observer()
    terminal = Terminal(
        env, terminal_id, loaded.profile, default_catalog(), seed=s.seed, sink=observer
    )
    for item in s.expect:
        if item.events is not None and item.events.detail:
            observer.watch(item.events.device, item.events.kind, item.events.wanted)
    terminal.start()
    timeline = Timeline(terminal, s)
    timeline.start()
    run = VirtualRun(s.name)
    t0 = env.now

    def checker(n: int, item: Expectation) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(item.at if item.at is not None else s.duration)
        yield env.timeout(0)  # after a step due at the same time, whenever it was scheduled
        run.checks.append(evaluate(item, terminal, observer, n))

    for n, item in enumerate(s.expect):
        env.process(checker(n, item))
    env.run(until=t0 + s.duration + 1e-9)
    run.checks.sort(key=lambda c: (c.at, c.index))
    run.log = timeline.log
    run.errors = timeline.errors
    run.active = terminal.active_faults()
    run.app = terminal.app.status() if terminal.app is not None else None
    run.sim_seconds = env.now - t0
    run.wall_seconds = time.perf_counter() - started
    return run
