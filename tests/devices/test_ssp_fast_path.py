"""The SSP slave's fast path (a whole plain frame, new command, unit answering: straight to the
command's function) against the general path (every frame through the deframer's byte loop
and the command handler), on twin validators driven by the same random story: frames valid,
retried, SYNC, for another address, with a bad CRC, cut in pieces, in the clear where eSSP is
required, eSSP packets; notes inserted, time passing, a hung unit, resets. Every reply, the
link's sequence state and the validator's state and log must agree after each step."""

from __future__ import annotations

from typing import Any

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.bill_validator import BillValidator, BillValidatorSession, BillValidatorSettings
from devices.bill_validator_state import NO_RESPONSE
from devices.catalog import default_catalog
from devices.protocols.ssp import encode_frame
from devices.protocols.ssp_messages import Command, inhibit_mask

MODES = default_catalog().for_device("bill_validator") + default_catalog().for_device("cash_box")

COMMANDS = [
    (Command.POLL, b""),
    (Command.POLL, b""),
    (Command.POLL, b""),
    (Command.ENABLE, b""),
    (Command.DISABLE, b""),
    (Command.SYNC, b""),
    (Command.SET_INHIBITS, inhibit_mask(range(1, 8))),
    (Command.SET_INHIBITS, b""),  # wrong parameter count
    (Command.HOLD, b""),
    (Command.REJECT, b""),
    (Command.DISPLAY_ON, b""),
    (Command.GET_COUNTERS, b""),
    (Command.SETUP_REQUEST, b""),
    (Command.LAST_REJECT_CODE, b""),
    (Command.RESET, b""),
    (Command.SET_FIXED_KEY, bytes(8)),  # must come encrypted
    (0x99, b""),  # unknown
    (0x7E, bytes(range(1, 18))),  # an eSSP packet (STEX): no key negotiated
]

frames = st.tuples(
    st.sampled_from(COMMANDS),
    st.sampled_from(["new", "new", "new", "retry", "set"]),  # flag: toggled, kept, or set
    st.sampled_from([0, 0, 0, 0, 3]),  # address
    st.sampled_from(["whole", "whole", "whole", "bad_crc", "split", "two"]),
)
steps = st.one_of(
    st.tuples(st.just("frame"), frames),
    st.tuples(st.just("insert"), st.sampled_from([5, 10, 20, 50, 500])),
    st.tuples(st.just("wait"), st.sampled_from([0.25, 0.5, 1.0, 3.0])),
    st.tuples(st.just("hang"), st.booleans()),
    st.tuples(st.just("piece"), st.binary(min_size=1, max_size=4)),  # a partial frame / junk
)


class Twin:
    """A validator and a host session on it; ``general`` sessions take no shortcut."""

    def __init__(self, general: bool, require_encryption: bool) -> None:
        self.env = simpy.Environment()
        options = BillValidatorSettings(require_encryption=require_encryption, reset_s=1.0)
        self.validator = BillValidator(self.env, options, MODES)  # the same rng seed: twins
        self.validator.start()
        self.session: BillValidatorSession = self.validator.new_session()
        self.general = general
        if general:
            self.session.direct = None  # every command through the handler

    def feed(self, data: bytes) -> bytes:
        # bytearray: never read as a remembered whole frame, always by the byte loop
        return self.session.feed(bytearray(data) if self.general else data)

    def seen(self) -> tuple[object, ...]:
        """What the two paths must agree on: the link's state, the validator's state and log."""
        link, v = self.session, self.validator
        return (
            link.last_seq,
            link.last_reply,
            link.after_sync,
            link.retries,
            link.bad_frames,
            link.deframer.in_frame,
            v.status(),
            v.log,
            v.state.events,
            self.env.now,
        )


def wire(step: tuple[Any, ...], seq: bool) -> tuple[list[bytes], bool]:
    """The writes a frame step puts on the wire, and the host's flag after it."""
    (code, params), flag, address, shape = step
    seq = {"new": not seq, "retry": seq, "set": True}[flag]
    frame = encode_frame(seq, address, bytes([code]) + params)
    if shape == "bad_crc":
        return [frame[:-1] + bytes([frame[-1] ^ 0x01])], seq
    if shape == "split":
        return [frame[:3], frame[3:]], seq
    if shape == "two":  # two frames in one write: the byte loop, on both sides
        return [frame + frame], seq
    return [frame], seq


@settings(max_examples=300, deadline=None)
@given(st.lists(steps, max_size=40), st.booleans())
def test_the_fast_path_answers_and_leaves_state_as_the_general_path(
    story: list[tuple[str, Any]], require_encryption: bool
) -> None:
    fast, general = Twin(False, require_encryption), Twin(True, require_encryption)
    seq = False
    for kind, arg in story:
        if kind == "frame":
            writes, seq = wire(arg, seq)
            for data in writes:
                assert fast.feed(data) == general.feed(data)
        elif kind == "piece":
            assert fast.feed(arg) == general.feed(arg)
        else:
            for twin in (fast, general):
                v = twin.validator
                if kind == "insert":
                    v.insert(arg)
                elif kind == "wait":
                    twin.env.run(until=twin.env.now + arg)
                elif arg:
                    v.inject(NO_RESPONSE)
                else:
                    v.clear(NO_RESPONSE)
        assert fast.seen() == general.seen()
        for twin in (fast, general):  # what the session reads is what responsive() means
            v = twin.validator
            assert v.answering == (not (v.state.resetting or NO_RESPONSE in v.active))


def test_a_whole_poll_frame_takes_the_fast_path() -> None:
    """The shortcut is taken (the handler is not called) for a new POLL, not for its retry."""
    twin = Twin(False, False)
    calls: list[bytes] = []
    handle = twin.session.handler
    twin.session.handler = lambda data: calls.append(data) or handle(data)
    sync = encode_frame(True, 0, bytes([Command.SYNC]))
    poll = encode_frame(False, 0, bytes([Command.POLL]))
    assert twin.feed(sync) and twin.feed(poll)
    assert calls == []
    assert twin.feed(poll)  # a retry: answered from the link's cache, the handler not asked
    assert twin.session.retries == 1 and calls == []
    twin.validator.inject(NO_RESPONSE)
    assert twin.feed(encode_frame(True, 0, bytes([Command.POLL]))) == b""
    assert calls == [bytes([Command.POLL])]  # a hung unit: the handler decides (silence)
