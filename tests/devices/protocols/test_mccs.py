"""DDC/CI + MCCS packets: vectors from the spec and a real display, round trips, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.protocols import mccs as m
from workbench.errors import ProtocolError


def test_get_vcp_brightness_request_is_the_ddcutil_bytes() -> None:
    assert m.encode_request(m.GetVcp(0x10).payload()) == bytes.fromhex(
        "6e5182011 0ac".replace(" ", "")
    )


def test_set_vcp_brightness_request() -> None:
    # 6E ^ 51 ^ 84 ^ 03 ^ 10 ^ 00 ^ 32 = 9A
    assert m.encode_request(m.SetVcp(0x10, 50).payload()) == bytes.fromhex(
        "6e518403100032 9a".replace(" ", "")
    )


def test_null_message() -> None:
    assert bytes.fromhex("6f6e80be") == m.NULL_REPLY
    assert m.parse_reply(m.decode_packet(m.NULL_REPLY, reply=True)) == m.NullMessage()


def test_reply_checksum_uses_the_virtual_host_address() -> None:
    # A capabilities fragment as read from a real monitor (reply checksum 0x4C over 0x50, 6E...).
    real = bytes.fromhex("6f 6e 8d e3 00 00 28 70 72 6f 74 28 6d 6f 6e 69 4c")
    assert m.parse_reply(m.decode_packet(real, reply=True)) == m.CapabilitiesReply(0, b"(prot(moni")
    assert m.encode_reply(m.CapabilitiesReply(0, b"(prot(moni").payload()) == real


def test_vcp_reply_layout() -> None:
    wire = m.encode_reply(m.VcpReply(0, 0x10, 0, 100, 80).payload())
    assert wire[:3] == bytes([0x6F, 0x6E, 0x88])
    assert wire[3:11] == bytes([0x02, 0x00, 0x10, 0x00, 0x00, 0x64, 0x00, 0x50])
    assert wire[11] == m.checksum(wire[:11], 0x50)


@pytest.mark.parametrize(
    "packet",
    [
        bytes.fromhex("6e51820110ad"),  # checksum
        bytes.fromhex("6e51020110ac"),  # no length flag
        bytes.fromhex("6e 51 83 01 10 ac"),  # length
        bytes.fromhex("6f6e80be"),  # a reply where a request belongs
    ],
)
def test_bad_requests_raise(packet: bytes) -> None:
    with pytest.raises(ProtocolError):
        m.decode_packet(packet, reply=False)


requests = st.one_of(
    st.builds(m.GetVcp, st.integers(0, 255)),
    st.builds(m.SetVcp, st.integers(0, 255), st.integers(0, 0xFFFF)),
    st.builds(m.CapabilitiesRequest, st.integers(0, 0xFFFF)),
)
replies = st.one_of(
    st.builds(
        m.VcpReply,
        st.integers(0, 1),
        st.integers(0, 255),
        st.integers(0, 1),
        st.integers(0, 0xFFFF),
        st.integers(0, 0xFFFF),
    ),
    st.builds(m.CapabilitiesReply, st.integers(0, 0xFFFF), st.binary(max_size=32)),
)


@given(requests, st.integers(0, 12))
def test_request_round_trip_split_anywhere(req: m.Request, cut: int) -> None:
    wire = m.encode_request(req.payload())
    r = m.PacketReader(reply=False)
    items = r.feed(b"\x6e\x00" + wire[:cut]) + r.feed(wire[cut:])
    assert [m.parse_request(i) for i in items if isinstance(i, bytes)] == [req]


@given(replies)
def test_reply_round_trip(reply: m.Reply) -> None:
    wire = m.encode_reply(reply.payload())
    assert [
        m.parse_reply(i) for i in m.PacketReader(reply=True).feed(wire) if isinstance(i, bytes)
    ] == [reply]


@given(st.binary(max_size=120))
def test_random_bytes_only_ever_raise_protocol_error(data: bytes) -> None:
    for reply in (False, True):
        try:
            m.decode_packet(data, reply=reply)
        except ProtocolError:
            pass
        for item in m.PacketReader(reply=reply).feed(data):
            assert isinstance(item, bytes | m.BadPacket)
            if isinstance(item, bytes):
                try:
                    (m.parse_reply if reply else m.parse_request)(item)
                except ProtocolError:
                    pass
