"""Waits passed in place: in virtual time a customer's or the application's wait that nothing
else precedes moves the clock on without a SimPy event; nothing a device, the application or a
fault records may differ from the run where every wait is an event."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Generator
from typing import Any

import pytest
import simpy
from wire_tap import outcome, tap_wire

from devices.catalog import default_catalog
from devices.profiles import load_profile
from devices.terminal import Terminal
from devices.usage import KioskApp
from workbench.clock import DAY
from workbench.waits import PlainEvent, wait_in_place


def _fortnight(
    *, mtbf: bool, inline: bool, monkeypatch: pytest.MonkeyPatch, poll_s: float = 0.5
) -> dict[str, Any]:
    profile = load_profile("bill_payment")
    assert profile.usage is not None
    usage = profile.usage.model_copy(
        update={"enabled": True, "repair_faults": True, "poll_interval_s": poll_s}
    )
    faults = profile.faults.model_copy(update={"mtbf": mtbf, "mtbf_scale": 40.0})
    profile = dataclasses.replace(profile, usage=usage, faults=faults)
    monkeypatch.setattr(KioskApp, "inline_waits", inline)
    env = simpy.Environment()
    terminal = Terminal(env, "KSK-0001", profile, default_catalog(), seed=3)
    terminal.start()
    app = terminal.app
    assert isinstance(app, KioskApp)
    wire = tap_wire(env, app)  # every byte the application and its devices exchange, and when
    env.run(until=14 * DAY)
    return {
        **outcome(terminal, app, wire),
        "events": next(env._eid),  # SimPy's count of events made
    }


@pytest.mark.parametrize("mtbf", [False, True], ids=["no-faults", "mtbf-faults"])
def test_waits_passed_in_place_change_nothing_that_is_recorded(
    mtbf: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    evented = _fortnight(mtbf=mtbf, inline=False, monkeypatch=monkeypatch)
    inline = _fortnight(mtbf=mtbf, inline=True, monkeypatch=monkeypatch)
    assert evented["stats"]["cash_payments"] > 50 and evented["stats"]["card_payments"] > 30
    if mtbf:
        assert sum(e.startswith("fault ") for log in evented["devices"].values() for _, e in log)
    for key in ("wire", "devices", "status", "app", "stats"):
        assert inline[key] == evented[key], key
    # The shortcut is taken: most of a customer's waits made no event.
    assert inline["events"] < 0.7 * evented["events"]


def test_a_poll_due_with_a_notes_stage_sees_what_it_saw_with_every_wait_an_event(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Polling every 0.3 s, the host's poll often falls on the very instant of a note's stage
    # (credit and stack 0.6 and 1.2 s after the poll that accepted it): the poll must come
    # between the two steps of the stage as before, and the customers' notes keep their times.
    evented = _fortnight(mtbf=False, inline=False, monkeypatch=monkeypatch, poll_s=0.3)
    inline = _fortnight(mtbf=False, inline=True, monkeypatch=monkeypatch, poll_s=0.3)
    assert evented["stats"]["cash_payments"] > 50
    for key in ("wire", "devices", "app", "stats"):
        assert inline[key] == evented[key], key


def _waiter(env: simpy.Environment, delay: float, seen: list[tuple[str, float]]) -> Generator:
    wait = wait_in_place(env, delay)
    if wait is None:
        seen.append(("in place", env.now))
    else:
        yield wait
        seen.append(("event", env.now))


def _stage(env: simpy.Environment, at: float, seen: list[tuple[str, float]], name: str) -> None:
    """A device's timed stage: a timeout whose callback is a plain function."""
    env.timeout(at - env.now).callbacks.append(lambda _: seen.append((name, env.now)))


def _other_process(env: simpy.Environment, at: float, seen: list[tuple[str, float]]) -> Generator:
    yield env.timeout(at)
    seen.append(("process", env.now))


def test_a_wait_passes_in_place_when_nothing_is_due_before_or_at_its_end() -> None:
    env = simpy.Environment()
    seen: list[tuple[str, float]] = []
    env.process(_waiter(env, 3, seen))
    env.run()
    assert seen == [("in place", 3)]


def test_plain_stages_due_first_run_in_place_at_their_own_times_in_queue_order() -> None:
    env = simpy.Environment()
    seen: list[tuple[str, float]] = []
    _stage(env, 2, seen, "stage b")
    _stage(env, 1, seen, "stage a")
    _stage(env, 4, seen, "tied, scheduled first")
    env.process(_waiter(env, 4, seen))
    env.run()
    assert seen == [("stage a", 1), ("stage b", 2), ("tied, scheduled first", 4), ("in place", 4)]


def test_a_stage_scheduled_during_the_wait_for_its_last_instant_comes_after_it() -> None:
    env = simpy.Environment()
    seen: list[tuple[str, float]] = []
    env.timeout(1).callbacks.append(lambda _: _stage(env, 4, seen, "tied, scheduled later"))
    env.process(_waiter(env, 4, seen))
    env.run()
    assert seen == [("in place", 4), ("tied, scheduled later", 4)]


def test_a_stage_that_looks_at_what_else_is_due_at_its_instant_sees_the_wait() -> None:
    # As a note path does: its second step is an event only when something else is due then.
    def looks(_: simpy.Event) -> None:
        seen.append(("others due now" if env.peek() <= env.now else "nothing else", env.now))

    for inline in (False, True):
        env = simpy.Environment()
        seen: list[tuple[str, float]] = []
        env.timeout(4).callbacks.append(looks)  # tied with the wait's end, scheduled first
        if inline:
            env.process(_waiter(env, 4, seen))
        else:
            env.process(_evented_waiter(env, 4, seen))
        env.run()
        assert seen[0] == ("others due now", 4), inline


def _evented_waiter(
    env: simpy.Environment, delay: float, seen: list[tuple[str, float]]
) -> Generator:
    yield env.timeout(delay)
    seen.append(("event", env.now))


def test_a_process_due_first_makes_the_wait_an_event_in_its_place() -> None:
    env = simpy.Environment()
    seen: list[tuple[str, float]] = []
    env.process(_other_process(env, 2, seen))
    env.run(until=0.5)  # the other process is now waiting on its timeout at 2
    _stage(env, 1, seen, "stage")
    env.process(_waiter(env, 2.5, seen))  # from 0.5: ends at 3, after the process's turn at 2
    env.run()
    assert seen == [("stage", 1), ("process", 2), ("event", 3)]
    # A tie with a process scheduled later: the wait's event keeps the place it took.
    env = simpy.Environment()
    seen = []
    env.process(_waiter(env, 3, seen))  # made first (its Initialize event runs first)
    env.process(_other_process(env, 3, seen))
    _stage(env, 1, seen, "stage")
    env.run()
    assert seen == [("stage", 1), ("event", 3), ("process", 3)]


def test_a_wait_never_passes_the_until_of_a_run() -> None:
    env = simpy.Environment()
    seen: list[tuple[str, float]] = []
    _stage(env, 2, seen, "stage")
    env.process(_waiter(env, 10, seen))
    env.run(until=4)
    assert env.now == 4 and seen == [("stage", 2)]
    env.run(until=20)
    assert seen == [("stage", 2), ("event", 10)]


def test_a_wait_made_an_event_after_stages_ran_in_place_keeps_the_place_it_took() -> None:
    # The stage at 1 runs in place; the process at 2 then makes the wait an event: at 3 it comes
    # after the stage scheduled before the wait began and before the one a stage scheduled during.
    env = simpy.Environment()
    seen: list[tuple[str, float]] = []
    env.process(_other_process(env, 2, seen))
    env.run(until=0.5)
    _stage(env, 3, seen, "at the end, scheduled before")
    env.timeout(0.5).callbacks.append(
        lambda _: _stage(env, 3, seen, "at the end, scheduled during")
    )
    env.process(_waiter(env, 2.5, seen))
    env.run()
    assert seen == [
        ("process", 2),
        ("at the end, scheduled before", 3),
        ("event", 3),
        ("at the end, scheduled during", 3),
    ]


class _Step(PlainEvent):
    """A device's timed step as a note path makes its stages: triggered ok, scheduled, its
    callbacks given (here a ``functools.partial``, plain though not a function)."""

    _ok = True
    _value = None

    def __init__(self, env: simpy.Environment, delay: float, callback: Any) -> None:
        self.env = env
        self.callbacks = [callback]
        env.schedule(self, delay=delay)


def test_a_plain_event_runs_in_place_by_its_class_another_by_its_callbacks() -> None:
    def note(name: str, env: simpy.Environment, _: simpy.Event) -> None:
        seen.append((name, env.now))

    env = simpy.Environment()
    seen: list[tuple[str, float]] = []
    _Step(env, 1, functools.partial(note, "plain by its class", env))
    _stage(env, 2, seen, "plain by its callback")
    env.process(_waiter(env, 3, seen))
    env.run()
    assert seen == [("plain by its class", 1), ("plain by its callback", 2), ("in place", 3)]
    # The same callback on a timeout: nothing tells it from a process resumed, so the wait is an
    # event, in its place.
    env = simpy.Environment()
    seen = []
    env.timeout(1).callbacks.append(functools.partial(note, "not known plain", env))
    env.process(_waiter(env, 3, seen))
    env.run()
    assert seen == [("not known plain", 1), ("event", 3)]
