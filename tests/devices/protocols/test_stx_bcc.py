"""The card reader's STX/LEN/ETX/BCC framing: known frames, round trips, and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.protocols import stx_bcc as p
from workbench.errors import ProtocolError

STATUS_FRAME = bytes([0x02, 0x00, 0x03, 0x43, 0x31, 0x30, 0x03, 0x40])
"""``C 1 0`` (status request): BCC = 02^00^03^43^31^30^03 = 0x40."""


def test_status_command_frame_is_known_bytes() -> None:
    assert p.Command("1", "0").encode() == STATUS_FRAME
    assert p.parse_command(p.decode_frame(STATUS_FRAME)) == p.Command("1", "0")


def test_positive_and_negative_reply_layout() -> None:
    ok = p.Reply(True, "1", "0", "20", b"0005").encode()
    assert ok[:3] == b"\x02\x00\x09" and ok[3:12] == b"P10200005" and ok[12] == p.ETX
    assert ok[13] == p.bcc(ok[:13])
    bad = p.Reply(False, "3", "1", "40").encode()
    assert p.decode_frame(bad) == b"N3140"


def test_length_is_big_endian_over_the_text() -> None:
    frame = p.encode_frame(b"C61" + b"x" * 300)
    assert frame[1:3] == (303).to_bytes(2, "big")
    assert p.decode_frame(frame) == b"C61" + b"x" * 300


@pytest.mark.parametrize(
    "frame",
    [
        STATUS_FRAME[:-1] + b"\x41",  # BCC
        STATUS_FRAME[:-2] + b"\x04\x40",  # no ETX
        b"\x03" + STATUS_FRAME[1:],  # no STX
        STATUS_FRAME[:4],  # short
    ],
)
def test_malformed_frames_raise_protocol_error(frame: bytes) -> None:
    with pytest.raises(ProtocolError):
        p.decode_frame(frame)


def test_deframer_reports_controls_bad_frames_and_skips_noise() -> None:
    d = p.Deframer()
    good = p.Command("6", "2").encode()
    items = d.feed(b"\xff\x06" + STATUS_FRAME[:-1] + b"\x00" + b"\x15" + good[:4])
    assert items[0] == p.Control(p.ACK)
    assert isinstance(items[1], p.BadFrame) and items[1].reason == "bcc"
    assert items[2] == p.Control(p.NAK)
    assert d.feed(good[4:]) == [b"C62"]


def test_deframer_finds_a_frame_behind_a_false_stx() -> None:
    d = p.Deframer()
    items = d.feed(b"\x02\x00\x01" + STATUS_FRAME)  # a stray STX claiming one byte of text
    assert items[-1] == b"C10"


commands = st.builds(
    p.Command,
    st.characters(min_codepoint=0, max_codepoint=255),
    st.characters(min_codepoint=0, max_codepoint=255),
    st.binary(max_size=64),
)
replies = st.builds(
    p.Reply,
    st.booleans(),
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.text(alphabet="0123456789", min_size=2, max_size=2),
    st.binary(max_size=64),
)


@given(commands, st.integers(min_value=0, max_value=40))
def test_command_round_trip_split_anywhere(cmd: p.Command, cut: int) -> None:
    wire = cmd.encode()
    d = p.Deframer()
    items = d.feed(wire[:cut]) + d.feed(wire[cut:])
    assert [p.parse_command(i) for i in items if isinstance(i, bytes)] == [cmd]


@given(replies)
def test_reply_round_trip(reply: p.Reply) -> None:
    assert p.parse_reply(p.decode_frame(reply.encode())) == reply


@given(st.binary(max_size=300))
def test_random_bytes_only_ever_raise_protocol_error(data: bytes) -> None:
    for parse in (p.decode_frame, p.parse_command, p.parse_reply):
        try:
            parse(data)
        except ProtocolError:
            pass
    for item in p.Deframer().feed(data):
        assert isinstance(item, bytes | p.Control | p.BadFrame)
