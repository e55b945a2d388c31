"""The cash payment's written-out paths (:meth:`CashPayment._follow_note`'s waits and POLL
exchange) against the general calls they stand for (:meth:`KioskApp._wait`,
:meth:`SspMaster.poll`), on twin kiosks over a fortnight: with faults or without, eSSP required
or not, a poll period that falls on the note's stages. The bytes on the wire and when, every
device's log and status, the application's log and counters, and the SimPy events made must
agree (the bytes themselves but with eSSP, whose key and packing are random)."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Generator
from typing import Any

import pytest
import simpy
from wire_tap import outcome, tap_wire

from devices.bill_validator_state import FRAUD, SAFE_JAM, UNSAFE_JAM
from devices.catalog import default_catalog
from devices.profiles import load_profile
from devices.protocols import ssp_messages as sm
from devices.terminal import Terminal
from devices.usage import KioskApp
from workbench.clock import DAY

_OK = int(sm.Response.OK)


SEEN: Counter[int] = Counter()
"""Poll events :func:`general_follow_note` acted on, by code (that a case shows them)."""


def general_follow_note(self: KioskApp) -> Generator[simpy.Event, Any, str]:
    """:meth:`CashPayment._follow_note` with every wait :meth:`KioskApp._wait` and every POLL
    :meth:`SspMaster.poll` (as it was written before they were taken inline)."""
    s, env, host = self.settings, self.env, self._validator
    feed = self._sessions["bill_validator"].feed
    deadline = env.now + s.note_timeout_s
    credit = False
    while env.now < deadline:
        if (wait := self._wait(s.poll_interval_s)) is not None:
            yield wait
        status, events = host.poll(feed)
        if status != _OK:
            events = self._not_polled(status)
        for event in events:
            code = event.code
            if code == sm.Event.CREDIT:
                credit = True
                self.stats.notes_credited += 1
            elif code == sm.Event.STACKED:
                return "credit"
            elif code == sm.Event.REJECTED:
                self.stats.notes_returned += 1
                return "rejected"
            elif code in (sm.Event.SAFE_JAM, sm.Event.UNSAFE_JAM, sm.Event.FRAUD_ATTEMPT):
                self.record("note_jammed", event=sm.Event(code).name)
                return "credit" if credit else "jam"
            elif code == sm.Event.SLAVE_RESET:
                SEEN[code] += 1
                self._validator_ready = False
    return "credit" if credit else "timeout"


def _disturbances(env: simpy.Environment, terminal: Terminal) -> Generator[simpy.Event, Any, None]:
    """Every 1 to 5 minutes (its own draws) the validator is power-cycled, jams (cleared by
    staff 10 s later) or sees a fraud attempt (locked out until the next power cycle), now
    and then while a note is in the path: the poll that follows the note sees the SLAVE RESET,
    the jam or the fraud."""
    draws = random.Random(7)
    validator = terminal.devices["bill_validator"]
    while True:
        yield env.timeout(draws.uniform(60, 300))
        what = draws.choice(["power-cycle", "power-cycle", SAFE_JAM, UNSAFE_JAM, FRAUD])
        if what == "power-cycle":
            validator.act("power-cycle")
            continue
        validator.inject(what)
        if what != FRAUD:
            yield env.timeout(10)
            validator.act("clear-jam")


def _fortnight(
    monkeypatch: pytest.MonkeyPatch,
    *,
    general: bool,
    mtbf: bool = False,
    essp: bool = False,
    poll_s: float = 0.5,
    inline: bool = True,
    disturbed: bool = False,
) -> dict[str, Any]:
    with monkeypatch.context() as patch:
        if general:
            patch.setattr(KioskApp, "_follow_note", general_follow_note)
        patch.setattr(KioskApp, "inline_waits", inline)
        profile = load_profile("bill_payment")
        assert profile.usage is not None
        usage = profile.usage.model_copy(
            update={"enabled": True, "repair_faults": True, "poll_interval_s": poll_s}
        )
        faults = profile.faults.model_copy(update={"mtbf": mtbf, "mtbf_scale": 40.0})
        devices = dict(profile.devices)
        if essp:
            entry = devices["bill_validator"]
            devices["bill_validator"] = entry.model_copy(update={"require_encryption": True})
        profile = dataclasses.replace(profile, usage=usage, faults=faults, devices=devices)
        env = simpy.Environment()
        terminal = Terminal(env, "KSK-0001", profile, default_catalog(), seed=5)
        terminal.start()
        app = terminal.app
        assert isinstance(app, KioskApp)
        wire = tap_wire(env, app)
        if disturbed:  # resets, jams and fraud now and then, sometimes during a note
            env.process(_disturbances(env, terminal))
        env.run(until=14 * DAY)
        return {
            **outcome(terminal, app, wire),
            "events": next(env._eid),
        }


@pytest.mark.parametrize(
    "case",
    [
        {},
        {"mtbf": True},
        {"essp": True},
        {"poll_s": 0.3},
        {"inline": False},
        {"disturbed": True},
    ],
    ids=["plain", "mtbf-faults", "essp", "poll-0.3s", "every-wait-an-event", "resets-jams-fraud"],
)
def test_the_cash_paths_written_out_do_what_the_general_calls_do(
    case: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    SEEN.clear()
    general = _fortnight(monkeypatch, general=True, **case)
    fast = _fortnight(monkeypatch, general=False, **case)
    assert general["stats"]["cash_payments"] > 50
    if case.get("mtbf"):
        assert sum(e.startswith("fault ") for log in general["devices"].values() for _, e in log)
    if case.get("disturbed"):  # notes stopped by a jam or fraud, and by a power cycle
        assert sum(text.startswith("note_jammed") for _, text in general["app"]) > 5
        assert SEEN[sm.Event.SLAVE_RESET] > 5
    if case.get("essp"):
        assert general["status"]["devices"]["bill_validator"]["essp"]["key_set"]
    # (eSSP draws its key and its packing from the system's randomness: no two runs send the
    # same bytes; what they do must still agree)
    for key in (
        "devices",
        "status",
        "app",
        "stats",
        "events",
        *(() if "essp" in case else ["wire"]),
    ):
        assert fast[key] == general[key], key
