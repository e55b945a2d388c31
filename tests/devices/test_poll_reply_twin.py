"""The validator's POLL (:meth:`BillValidator.poll_reply`, with its quiet replies looked up by the
note's phase and a note in escrow seen in one call) against the general algorithm it stands for,
written out here as it was before: accept a note in escrow an earlier poll reported, drain the
one-shot events, add the ongoing states (the note's phase, the faults, disabled), mark a note in
escrow reported. Twin validators go through the same random story (notes offered, time passing,
polls, enable and disable, faults raised and cleared, resets); every reply, the validators'
status, log and queued events must agree."""

from __future__ import annotations

from typing import Any

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import bill_validator_poll as bv
from devices.bill_validator import BillValidator, BillValidatorSettings
from devices.bill_validator_state import (
    BOX_FULL,
    BOX_NEAR_FULL,
    BOX_REMOVED,
    FRAUD,
    SAFE_JAM,
    SENSOR_DIRTY,
    UNSAFE_JAM,
)
from devices.catalog import default_catalog
from devices.protocols.ssp_messages import POLL_REPLIES, Event, PollEvent

MODES = default_catalog().for_device("bill_validator") + default_catalog().for_device("cash_box")
FAULTS = [SAFE_JAM, UNSAFE_JAM, FRAUD, SENSOR_DIRTY, BOX_FULL, BOX_NEAR_FULL, BOX_REMOVED]


def general_poll_reply(v: BillValidator) -> bytes:
    """POLL's reply data as the unit made it before its shortcuts."""
    state, path = v.state, v.path
    state.last_contact = v.env.now
    note = path.note
    in_escrow = note is not None and note.phase == "escrow"
    if in_escrow and note is not None and note.reported and note.verdict is None:
        note.verdict = "accept"
        note.phase = "stacking"
        state.events.append(PollEvent(Event.STACKING))
        v.record("stacking", channel=note.channel)
        path._settled(note)
    events, state.events = state.events, []
    if note is not None:
        ongoing = bv.PHASE_STATES[note.phase]
        if ongoing is not None and ongoing not in events:
            events.append(ongoing)
    for fault, ongoing in bv.FAULT_STATES:
        if fault in v.active and ongoing not in events:
            events.append(ongoing)
    if not state.enabled and bv.DISABLED not in events:
        events.append(bv.DISABLED)
    if in_escrow and note is not None and note.phase == "escrow":
        note.reported = True
    return POLL_REPLIES[tuple(events)]


steps = st.one_of(
    st.tuples(st.just("poll"), st.none()),
    st.tuples(st.just("poll"), st.none()),
    st.tuples(st.just("insert"), st.sampled_from([5, 10, 20, 50, 500, 0])),
    st.tuples(st.just("wait"), st.sampled_from([0.0, 0.3, 0.5, 0.6, 1.0, 3.0, 6.0])),
    st.tuples(st.just("enable"), st.sampled_from([True, True, False])),
    st.tuples(st.just("fault"), st.tuples(st.sampled_from(FAULTS), st.booleans())),
    st.tuples(st.just("reset"), st.none()),
    st.tuples(st.just("hold_or_reject"), st.booleans()),
)


class Twin:
    def __init__(self, general: bool) -> None:
        self.env = simpy.Environment()
        self.v = BillValidator(self.env, BillValidatorSettings(reset_s=1.0), MODES)
        self.v.start()
        self.v.set_accepting({1, 2, 3, 4, 5, 6, 7})
        self.v.set_enabled(True)  # as a host leaves it while a customer pays
        self.general = general

    def poll(self) -> bytes:
        return general_poll_reply(self.v) if self.general else self.v.poll_reply()

    def seen(self) -> tuple[object, ...]:
        v = self.v
        note = v.path.note
        return (v.status(), v.log, v.state.events, note, self.env.now)


@settings(max_examples=300, deadline=None)
@given(st.lists(steps, max_size=40))
def test_poll_reply_answers_and_leaves_state_as_the_general_algorithm(
    story: list[tuple[str, Any]],
) -> None:
    fast, general = Twin(False), Twin(True)
    for kind, arg in story:
        if kind == "poll":
            assert fast.poll() == general.poll()
        else:
            for twin in (fast, general):
                v = twin.v
                if kind == "insert":
                    v.insert(arg, genuine=arg != 0)
                elif kind == "wait" and arg:
                    twin.env.run(until=twin.env.now + arg)
                elif kind == "wait":  # what is due at this instant (a stage's second step)
                    while twin.env.peek() <= twin.env.now:
                        twin.env.step()
                elif kind == "enable":
                    v.set_enabled(arg)
                elif kind == "fault":
                    fault, on = arg
                    v.inject(fault) if on else v.clear(fault)
                elif kind == "reset":
                    v.reset()
                elif arg:
                    v.host_hold()
                else:
                    v.host_reject()
        assert fast.seen() == general.seen()


def test_the_quiet_replies_are_the_general_replies_of_each_phase() -> None:
    """A poll with nothing queued, no fault and the unit enabled: for each phase of the note
    (none in the path too), the looked-up reply is what the general algorithm makes."""
    for phase in (None, "reading", "escrow", "stacking", "rejecting", "jammed"):
        twin = Twin(general=True)
        twin.v.set_enabled(True)
        twin.v.state.events.clear()
        if phase is not None:
            twin.v.insert(10)
            twin.v.state.events.clear()
            assert twin.v.path.note is not None
            twin.v.path.note.phase = phase
        assert bv.QUIET_REPLIES[phase] == general_poll_reply(twin.v)
