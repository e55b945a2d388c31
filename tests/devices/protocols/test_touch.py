"""eGalax/TouchKit packets: known bytes, Linux's decoding, round trips, and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.protocols import touch as t
from workbench.errors import ProtocolError


def linux_egalax_xy(packet: bytes) -> tuple[int, int, bool]:
    """What Linux ``egalax_ts_serial.c`` computes: coordinates scaled to 14 bits, touch bit."""
    shift = 3 - ((packet[0] & 0x06) >> 1)
    mask = 0xFF >> (shift + 1)
    x = (((packet[1] & mask) << 7) | (packet[2] & 0x7F)) << shift
    y = (((packet[3] & mask) << 7) | (packet[4] & 0x7F)) << shift
    return x, y, bool(packet[0] & 0x01)


def test_pen_down_packet_known_bytes() -> None:
    assert t.TouchPacket(1024, 512, True).encode() == bytes([0x81, 0x08, 0x00, 0x04, 0x00])
    assert t.TouchPacket(2047, 0, False).encode() == bytes([0x80, 0x0F, 0x7F, 0x00, 0x00])


@given(
    st.integers(11, 14).flatmap(
        lambda b: st.tuples(
            st.just(b), st.integers(0, (1 << b) - 1), st.integers(0, (1 << b) - 1), st.booleans()
        )
    )
)
def test_packets_agree_with_the_linux_driver(args: tuple[int, int, int, bool]) -> None:
    bits, x, y, down = args
    packet = t.TouchPacket(x, y, down, bits)
    wire = packet.encode()
    assert linux_egalax_xy(wire) == (x << (14 - bits), y << (14 - bits), down)
    assert t.decode_touch(wire) == packet


def test_check_active_command_is_the_touchkit_one() -> None:
    assert t.CommandPacket(b"A").encode() == b"\x0a\x01A"


def test_calibration_round_trip_and_mapping() -> None:
    cal = t.Calibration(60, 1987, 60, 1987)
    assert t.Calibration.decode(cal.encode()) == cal
    assert cal.to_screen(60, 1987, 1920, 1080) == (0.0, 1080.0)
    with pytest.raises(ProtocolError):
        t.Calibration.decode(bytes(8))


def test_reader_splits_mixed_stream_cut_anywhere() -> None:
    stream = (
        b"\x55"
        + t.TouchPacket(100, 0x0A, True).encode()  # a 0x0A data byte inside a packet
        + t.CommandPacket(b"D2.00").encode()
        + t.TouchPacket(100, 10, False).encode()
    )
    for cut in range(len(stream) + 1):
        r = t.PacketReader()
        items = r.feed(stream[:cut]) + r.feed(stream[cut:])
        assert [i for i in items if not isinstance(i, t.Garbage)] == [
            t.TouchPacket(100, 10, True),
            t.CommandPacket(b"D2.00"),
            t.TouchPacket(100, 10, False),
        ]


def test_controller_side_reader_ignores_coordinate_like_bytes() -> None:
    r = t.PacketReader(commands_only=True)
    items = r.feed(b"\x81\x08\x00" + t.CommandPacket(b"K").encode())
    assert items[-1] == t.CommandPacket(b"K")


@given(st.binary(max_size=200))
def test_random_bytes_only_ever_raise_protocol_error(data: bytes) -> None:
    for parse in (t.decode_touch, t.Calibration.decode):
        try:
            parse(data)
        except ProtocolError:
            pass
    for commands_only in (False, True):
        for item in t.PacketReader(commands_only=commands_only).feed(data):
            assert isinstance(item, t.TouchPacket | t.CommandPacket | t.Garbage)
