"""Waits passed in place: in virtual time a customer's or the application's wait that nothing
else precedes moves the clock on without a SimPy event; nothing a device, the application or a
fault records may differ from the run where every wait is an event."""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from typing import Any

import pytest
import simpy

from devices.catalog import default_catalog
from devices.profiles import load_profile
from devices.terminal import Terminal
from devices.usage import KioskApp
from workbench.clock import DAY, pass_in_place


def _fortnight(*, mtbf: bool, inline: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    profile = load_profile("bill_payment")
    assert profile.usage is not None
    usage = profile.usage.model_copy(update={"enabled": True, "repair_faults": True})
    faults = profile.faults.model_copy(update={"mtbf": mtbf, "mtbf_scale": 40.0})
    profile = dataclasses.replace(profile, usage=usage, faults=faults)
    monkeypatch.setattr(KioskApp, "inline_waits", inline)
    env = simpy.Environment()
    terminal = Terminal(env, "KSK-0001", profile, default_catalog(), seed=3)
    terminal.start()
    env.run(until=14 * DAY)
    app = terminal.app
    assert isinstance(app, KioskApp)
    return {
        "devices": {name: d.log for name, d in terminal.devices.items()},
        "status": terminal.status(),
        "app": app.log,
        "stats": app.status(),
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
    for key in ("devices", "status", "app", "stats"):
        assert inline[key] == evented[key], key
    # The shortcut is taken: most of a customer's waits made no event.
    assert inline["events"] < 0.7 * evented["events"]


def _waiter(env: simpy.Environment, delay: float, seen: list[tuple[str, float]]) -> Generator:
    if pass_in_place(env, delay):
        seen.append(("in place", env.now))
    else:
        yield env.timeout(delay)
        seen.append(("event", env.now))


def test_a_wait_passes_in_place_only_when_nothing_is_due_before_or_at_its_end() -> None:
    env = simpy.Environment()
    seen: list[tuple[str, float]] = []
    env.timeout(5).callbacks.append(lambda _: seen.append(("other", env.now)))
    env.process(_waiter(env, 3, seen))
    env.run()
    env.process(_waiter(env, 4, seen))  # from 5: nothing else left
    env.run()
    assert seen == [("in place", 3), ("other", 5), ("in place", 9)]

    env = simpy.Environment()
    seen = []
    env.timeout(5).callbacks.append(lambda _: seen.append(("other", env.now)))
    env.process(_waiter(env, 5, seen))  # the other one was scheduled first: it runs first
    env.run()
    assert seen == [("other", 5), ("event", 5)]


def test_a_wait_never_passes_the_until_of_a_run() -> None:
    env = simpy.Environment()
    seen: list[tuple[str, float]] = []
    env.process(_waiter(env, 10, seen))
    env.run(until=4)
    assert env.now == 4 and seen == []
    env.run(until=20)
    assert seen == [("event", 10)]
