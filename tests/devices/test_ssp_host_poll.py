"""The SSP host's POLL in one call (:meth:`SspMaster.poll`: one of POLL's two frames, the reply
looked up by its bytes) against the host's general steps as the kiosk application took them
before (:meth:`SspMaster.request`, the session, :meth:`SspMaster.answer`, the events decoded),
on twin hosts given the same replies: plain replies from this address or another, with either
flag, OK with any events (known, unknown, one cut short of its channel byte) or not OK, empty
data, a bad CRC, garbage, silence; and with a key set, sealed replies with the right count or a
stale one, and plain ones. The frames sent, what each host reads and its state must agree."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.protocols import essp
from devices.protocols.hosts.ssp import PollAnswer, SspAnswer, SspMaster
from devices.protocols.ssp import encode_frame
from devices.protocols.ssp_messages import Command, Event, Response, decode_poll_events
from workbench.errors import ProtocolError

KEY = bytes(range(16))

events = st.lists(
    st.sampled_from([*(bytes([e]) for e in Event), bytes([Event.CREDIT, 3]), b"\x99"]), max_size=4
).map(b"".join)
reply_data = st.one_of(
    st.tuples(st.sampled_from([Response.OK] * 3 + [Response.KEY_NOT_SET, 0xF2]), events).map(
        lambda r: bytes([r[0]]) + r[1]
    ),
    st.just(b""),  # a frame with no data: no reply to read
    st.binary(max_size=4),
)
replies = st.tuples(
    reply_data,
    st.sampled_from(["echo", "echo", "echo", "other_flag"]),
    st.sampled_from([0, 0, 0, 2]),  # the address that answers
    st.sampled_from(["whole", "whole", "whole", "bad_crc", "garbage", "silent", "stale"]),
)


def general(host: SspMaster, feed: Any) -> PollAnswer:
    """A POLL as the application took it before: frame, reply, answer, the events decoded."""
    raw = feed(host.request(Command.POLL))
    try:
        answer = host.answer(raw) if raw else None
    except ProtocolError:
        answer = None
    if answer is None:
        return None, ()
    if answer[0] != Response.OK:
        return answer[0], ()
    try:
        return answer[0], tuple(decode_poll_events(answer[1]))
    except ProtocolError:
        return answer[0], ()


class Wire:
    """What the unit sends back to a host: the reply a step describes, to the frame it got."""

    def __init__(self, host: SspMaster) -> None:
        self.host = host
        self.sent: list[bytes] = []
        self.step: tuple[Any, ...] = (b"", "echo", 0, "silent")

    def __call__(self, frame: bytes) -> bytes:
        self.sent.append(frame)
        data, flag, address, shape = self.step
        seq = bool(frame[1] & 0x80) if flag == "echo" else not frame[1] & 0x80
        crypto = self.host.crypto
        if crypto is not None and shape in ("whole", "stale") and data:
            count = crypto.count - (shape == "stale")
            data = essp.seal(KEY, count, data, bytes)  # packing: zeros, the same for the twins
        if shape == "silent":
            return b""
        if shape == "garbage":
            return data
        out = encode_frame(seq, address, data)
        return out[:-1] + bytes([out[-1] ^ 1]) if shape == "bad_crc" else out


def _twin_hosts(keyed: bool) -> tuple[SspMaster, SspMaster]:
    """Two hosts, with the same eSSP key when ``keyed``: one for the fast path, one for the
    general steps."""
    fast, slow = SspMaster(), SspMaster()
    if keyed:
        for host in (fast, slow):
            host.crypto = essp.HostCrypto(KEY, bytes)
    return fast, slow


def _assert_same_state(fast: SspMaster, slow: SspMaster, fast_wire: Wire, slow_wire: Wire) -> None:
    """The two hosts sent the same bytes and are left in the same state: sequence flag, last
    frame (sealed or not, a SYNC or not) and the eSSP count."""
    assert fast_wire.sent == slow_wire.sent
    assert fast._seq == slow._seq
    assert fast._last and slow._last
    assert fast._last[0] == slow._last[0] and fast._last[2] == slow._last[2]
    assert (fast._last[1] is None) == (slow._last[1] is None)
    assert (fast.crypto and fast.crypto.count) == (slow.crypto and slow.crypto.count)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(replies, st.booleans()), max_size=30), st.booleans())
def test_poll_in_one_call_reads_and_sends_as_the_general_steps(
    story: list[tuple[tuple[Any, ...], bool]], keyed: bool
) -> None:
    fast, slow = _twin_hosts(keyed)
    fast_wire, slow_wire = Wire(fast), Wire(slow)
    for step, other_command in story:
        if other_command:  # a command in between: the flag moves on, _last changes
            fast.request(Command.ENABLE)
            slow.request(Command.ENABLE)
        fast_wire.step = slow_wire.step = step
        assert fast.poll(fast_wire) == general(slow, slow_wire)
        _assert_same_state(fast, slow, fast_wire, slow_wire)


def test_a_poll_reply_seen_before_is_read_without_parsing_and_a_resend_repeats_the_poll() -> None:
    host = SspMaster()
    reply = encode_frame(True, 0, bytes([Response.OK, Event.CREDIT, 2]))
    assert host.poll(lambda frame: reply) == (Response.OK, ((Event.CREDIT, 2),))
    assert host.resend().request == encode_frame(False, 0, bytes([Command.POLL]))
    assert host.poll(lambda frame: reply) == (Response.OK, ((Event.CREDIT, 2),))
    assert host.poll(lambda frame: b"") == (None, ())
    other = encode_frame(False, 1, bytes([Response.OK]))
    assert host.poll(lambda frame: other) == (None, ())  # another slave's reply: never read


def general_ask(host: SspMaster, code: int, feed: Any) -> SspAnswer | None:
    """A command without parameters as the application took it before :meth:`SspMaster.ask`:
    frame, reply, answer (None: silence, or a reply the host cannot read)."""
    raw = feed(host.request(code))
    try:
        return host.answer(raw) if raw else None
    except ProtocolError:
        return None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            replies, st.sampled_from([Command.ENABLE, Command.DISABLE, Command.SYNC, Command.POLL])
        ),
        max_size=30,
    ),
    st.booleans(),
)
def test_a_command_in_one_call_reads_and_sends_as_the_general_steps(
    story: list[tuple[tuple[Any, ...], Command]], keyed: bool
) -> None:
    fast, slow = _twin_hosts(keyed)
    fast_wire, slow_wire = Wire(fast), Wire(slow)
    for step, code in story:
        fast_wire.step = slow_wire.step = step
        if code == Command.POLL:  # a poll in between, one call on both
            assert fast.poll(fast_wire) == slow.poll(slow_wire)
        else:
            assert fast.ask(int(code), fast_wire) == general_ask(slow, code, slow_wire)
        _assert_same_state(fast, slow, fast_wire, slow_wire)
        assert fast.resend().request == slow.resend().request  # a retry sends the same frame


def test_a_command_reply_from_another_address_or_cut_short_is_not_read() -> None:
    host = SspMaster()
    ok = encode_frame(True, 0, bytes([Response.OK]))
    assert host.ask(Command.ENABLE, lambda frame: ok) == (Response.OK, b"")
    assert host.ask(Command.DISABLE, lambda frame: b"") is None  # silence
    other = encode_frame(True, 1, bytes([Response.OK]))
    assert host.ask(Command.ENABLE, lambda frame: other) is None  # another slave's: never read
    assert host.ask(Command.ENABLE, lambda frame: ok[:-1]) is None
    assert host.resend().request == encode_frame(True, 0, bytes([Command.ENABLE]))  # 4th: set
