"""The card reader session's whole-write path (a host's write that is exactly one command frame,
or its lone ACK, taken without the deframer) against the general path (every write through the
deframer), on twin readers driven by the same random story: commands good and bad, the host's
ACK and NAK, frames with a bad BCC, cut in pieces or two in one write, line noise, time passing
(a frame left open is abandoned), cards in and out, a hung reader, a jam. Every answer, the
reader's state and log must agree after each step, and the reader's ``hung`` (kept up to date
as its no-response fault comes and goes) must say what the fault says; and the protocol's memo
of a lone command frame (:func:`stx_bcc.lone_command`) must equal the deframer's byte loop."""

from __future__ import annotations

from typing import Any

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import usage_card
from devices.card_reader import JAM, NO_RESPONSE, CardReader, CardReaderSettings
from devices.catalog import default_catalog
from devices.protocols import stx_bcc as p
from devices.protocols.hosts.card_reader import CardReaderHost
from workbench.errors import ProtocolError

MODES = default_catalog().for_device("card_reader")

COMMANDS = [
    ("0", "0"),
    ("0", "1"),
    ("0", "7"),  # parameter error
    ("1", "0"),
    (":", "0"),
    (":", "0"),
    (":", "1"),
    ("6", "2"),
    ("6", "2"),
    ("6", "3"),  # no data on track 3
    ("3", "0"),
    ("3", "1"),
    ("I", "0"),
    ("I", "1"),
    ("Z", "0"),  # undefined
]

frames = st.tuples(
    st.sampled_from(COMMANDS),
    st.sampled_from(["whole", "whole", "whole", "bad_bcc", "split", "two", "noise_before"]),
)
steps = st.one_of(
    st.tuples(st.just("frame"), frames),
    st.tuples(st.just("ack"), st.sampled_from([b"\x06", b"\x15", b"\x06\x06", b"\x05"])),
    st.tuples(st.just("reply_frame"), st.just(p.Reply(True, "1", "0", "00").encode())),
    st.tuples(st.just("piece"), st.binary(min_size=1, max_size=6)),
    st.tuples(st.just("wait"), st.sampled_from([0.05, 0.1, 0.3, 2.0])),
    st.tuples(st.just("card"), st.sampled_from(["insert-card", "take-card"])),
    st.tuples(st.just("fault"), st.sampled_from([(NO_RESPONSE, True), (NO_RESPONSE, False)])),
    st.tuples(st.just("fault"), st.sampled_from([(JAM, True), (JAM, False)])),
)


class Twin:
    """A reader and a host session on it; a ``general`` session takes no shortcut."""

    def __init__(self, general: bool) -> None:
        self.env = simpy.Environment()
        settings = CardReaderSettings(head_dirty_passes=8)  # read errors from the third card on
        self.reader = CardReader(self.env, settings, MODES)  # the same rng seed: twins
        self.reader.start()
        self.session = self.reader.new_session()
        if general:
            self.session.whole_writes = False

    def seen(self) -> tuple[object, ...]:
        """What the two paths must agree on: the reader's state and log, the session's frames."""
        return (
            self.reader.status(),
            self.reader.log,
            self.session._last,
            bytes(self.session._deframer.held),
            self.env.now,
        )


def writes(step: tuple[Any, ...]) -> list[bytes]:
    """The host's writes for a frame step."""
    (cm, pm), shape = step
    frame = p.Command(cm, pm).encode()
    if shape == "bad_bcc":
        return [frame[:-1] + bytes([frame[-1] ^ 0x01])]
    if shape == "split":
        return [frame[:4], frame[4:]]
    if shape == "two":
        return [frame + frame]
    if shape == "noise_before":
        return [b"\x7f" + frame]
    return [frame]


@settings(max_examples=300, deadline=None)
@given(st.lists(steps, max_size=40))
def test_whole_writes_answer_and_leave_state_as_the_deframer_does(
    story: list[tuple[str, Any]],
) -> None:
    fast, general = Twin(False), Twin(True)
    for kind, arg in story:
        if kind in ("frame", "ack", "reply_frame", "piece"):
            for data in writes(arg) if kind == "frame" else [arg]:
                assert fast.session.feed(data) == general.session.feed(data)
        else:
            for twin in (fast, general):
                reader = twin.reader
                if kind == "wait":
                    twin.env.run(until=twin.env.now + arg)
                elif kind == "card":
                    try:
                        reader.act(arg)
                    except Exception as exc:  # the same refusal on both
                        twin.reader.record("test_refused", error=type(exc).__name__)
                elif arg[1]:
                    reader.inject(arg[0])
                else:
                    reader.clear(arg[0])
        assert fast.seen() == general.seen()
        # what both sessions read to answer nothing is the fault as it stands
        assert fast.reader.hung is (NO_RESPONSE in fast.reader.active)


def test_a_whole_command_frame_and_the_hosts_ack_skip_the_deframer() -> None:
    """The shortcut is taken (the deframer is not fed) for a whole command and a lone ACK, not
    for a command cut in two."""
    twin = Twin(False)
    fed: list[bytes] = []
    deframer = twin.session._deframer
    feed = deframer.feed

    def spy(data: bytes) -> list[p.Item]:
        fed.append(bytes(data))
        return feed(data)

    deframer.feed = spy  # type: ignore[method-assign]
    frame = p.Command("1", "0").encode()
    out = twin.session.feed(frame)
    assert out[:1] == b"\x06" and p.parse_reply(p.decode_frame(out[1:])).code == "00"
    assert twin.session.feed(b"\x06") == b""
    assert fed == []
    twin.session.feed(frame[:3])
    assert twin.session.feed(frame[3:])[:1] == b"\x06"
    assert fed == [frame[:3], frame[3:]]


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=12),
        st.builds(
            lambda cm, pm, d: p.Command(cm, pm, d).encode(),
            st.sampled_from("0136:IZ"),
            st.sampled_from("0123"),
            st.binary(max_size=6),
        ),
        st.builds(lambda t: p.encode_frame(t), st.binary(max_size=8)),
        st.builds(
            lambda t, c: p.encode_frame(t)[:-1] + bytes([c]),
            st.binary(max_size=8),
            st.integers(0, 255),
        ),
    ),
    st.binary(max_size=2),
)
def test_lone_command_is_what_the_byte_loop_and_parse_command_make(
    data: bytes, tail: bytes
) -> None:
    for write in (data, data + tail, tail + data):
        deframer = p.Deframer()
        items: list[p.Item] = []
        for i in range(len(write)):  # byte by byte: the deframer's loop, never a whole frame
            items += deframer.feed(write[i : i + 1])
        expected = None
        lone = len(items) == 1 and isinstance(items[0], bytes) and not deframer.pending
        if lone and p.encode_frame(items[0]) == write:  # one frame, nothing around it
            try:
                expected = p.parse_command(items[0])
            except ProtocolError:
                expected = None
        assert p.lone_command(write) == expected


replies = st.builds(
    p.Reply,
    st.booleans(),
    st.sampled_from(["0", "1", "3", "6", ":", "I"]),
    st.sampled_from(["0", "1", "2"]),
    st.sampled_from(["00", "01", "20", "21", "40"]),
    st.binary(max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(
    replies,
    st.sampled_from(["acked", "acked", "no_ack", "nak", "bad_bcc", "cut", "garbage"]),
    st.binary(max_size=4),
)
def test_the_applications_memo_of_answers_reads_as_the_host_does(
    reply: p.Reply, shape: str, garbage: bytes
) -> None:
    frame = reply.encode()
    raw = {
        "acked": bytes([p.ACK]) + frame,
        "no_ack": frame,
        "nak": bytes([p.NAK]) + frame,
        "bad_bcc": bytes([p.ACK]) + frame[:-1] + bytes([frame[-1] ^ 0x01]),
        "cut": bytes([p.ACK]) + frame[:-2],
        "garbage": bytes([p.ACK]) + garbage,
    }[shape]
    try:  # the host's reading, not its lru_cache: parsed afresh
        expected: p.Reply | None = CardReaderHost.answer.__wrapped__(raw)
    except ProtocolError:
        expected = None
    assert usage_card._ANSWERS[raw] == expected
    assert usage_card._ANSWERS[raw] == expected  # and when remembered
    if shape == "acked":
        assert expected == reply
