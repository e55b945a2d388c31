"""SSP codec: known vectors, stuffing, the incremental deframer, message layouts, the slave link's
sequence flag, and property-based fuzzing (random bytes never raise anything but ProtocolError)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.protocols.ssp import BadFrame, Deframer, Packet, crc16, decode_frame, encode_frame
from devices.protocols.ssp_messages import (
    Command,
    Counters,
    Event,
    PollEvent,
    SetupData,
    UnitData,
    channels_of_mask,
    decode_channel_values,
    decode_poll_events,
    decode_serial,
    encode_channel_values,
    encode_poll,
    encode_serial,
    inhibit_mask,
    parse_reply,
)
from devices.protocols.ssp_slave import SlaveLink
from workbench.errors import ProtocolError

SYNC_FRAME = bytes.fromhex("7F 80 01 11 65 82")
OK_FRAME = bytes.fromhex("7F 80 01 F0 23 80")

# A protocol-7 SETUP REQUEST reply of an EUR validator with four channels (5, 10, 20, 50):
# the test vector of the Rust `ssp` crate, with its CRC.
SETUP_V7 = bytes.fromhex(
    "7F 80 35 F0 00 00 33 33 33 45 55 52 00 00 01 04 05 0A 14 32 02 02 02 02 00 00 64 07"
    " 45 55 52 45 55 52 45 55 52 45 55 52"
    " 05 00 00 00 0A 00 00 00 14 00 00 00 32 00 00 00 8B 9B"
)


# -- vectors -----------------------------------------------------------------------------------
def test_sync_and_ok_vectors() -> None:
    assert encode_frame(True, 0, bytes([Command.SYNC])) == SYNC_FRAME
    assert encode_frame(True, 0, b"\xf0") == OK_FRAME
    assert decode_frame(SYNC_FRAME) == Packet(True, 0, b"\x11")
    assert decode_frame(OK_FRAME) == Packet(True, 0, b"\xf0")


def test_crc_is_crc16_cms() -> None:
    # poly 0x8005, init 0xFFFF, no reflection, no final xor: the catalogued CRC-16/CMS.
    assert crc16(b"123456789") == 0xAEE7
    assert crc16(bytes.fromhex("80 01 11")) == 0x8265


def test_setup_request_vector_decodes_and_reencodes() -> None:
    packet = decode_frame(SETUP_V7)
    code, payload = parse_reply(packet.data)
    assert code == 0xF0
    setup = SetupData.decode(payload)
    assert setup.unit_type == 0
    assert setup.country == "EUR"
    assert setup.value_multiplier == 1
    assert setup.values == (5, 10, 20, 50)
    assert setup.security == (2, 2, 2, 2)
    assert setup.real_value_multiplier == 100
    assert setup.protocol_version == 7
    assert setup.countries == ("EUR",) * 4
    assert encode_frame(True, 0, b"\xf0" + setup.encode()) == SETUP_V7


def test_setup_layout_before_protocol_6_has_no_expanded_fields() -> None:
    setup = SetupData("0372", "CNY", 1, (1, 5, 10, 20, 50, 100), (2,) * 6, 100, 5)
    payload = setup.encode()
    assert len(payload) == 12 + 2 * 6 + 4
    assert payload[12:18] == bytes([1, 5, 10, 20, 50, 100])
    assert payload[-1] == 5
    assert SetupData.decode(payload).values == (1, 5, 10, 20, 50, 100)


def test_values_too_big_for_a_byte_are_zero_short_and_full_in_the_expanded_segment() -> None:
    setup = SetupData("0372", "EUR", 1, (200, 500), (2, 2), 100, 7)
    payload = setup.encode()
    assert payload[12:14] == bytes([200, 0])
    assert SetupData.decode(payload).values == (200, 500)


def test_stuffing_doubles_every_7f_after_stx() -> None:
    frame = encode_frame(False, 0x7F, b"\x7f\x01")
    assert frame[:3] == b"\x7f\x7f\x7f"  # STX, then SEQ/ID 0x7F doubled
    assert frame.count(b"\x7f\x7f") >= 2
    assert decode_frame(frame) == Packet(False, 0x7F, b"\x7f\x01")


def test_messages_round_trip() -> None:
    assert decode_serial(encode_serial(0x01020304)) == 0x01020304
    assert encode_serial(20512345) == (20512345).to_bytes(4, "big")
    counters = Counters(stacked=541, rejected=3)
    assert Counters.decode(counters.encode()) == counters
    assert counters.encode()[:5] == bytes([5, 0x1D, 0x02, 0, 0])
    unit = UnitData("0372", "EUR", 1, 7)
    assert UnitData.decode(unit.encode()) == unit
    assert channels_of_mask(inhibit_mask([1, 3, 9])) == {1, 3, 9}
    assert inhibit_mask([1, 2, 3]) == b"\x07\x00"
    values = encode_channel_values([5, 10, 500], 1, 7, ["EUR"] * 3)
    assert decode_channel_values(values, 1, 7) == [5, 10, 500]
    assert decode_channel_values(encode_channel_values([5, 10], 1, 4, []), 1, 4) == [5, 10]


def test_poll_events_with_and_without_channel() -> None:
    events = [
        PollEvent(Event.SLAVE_RESET),
        PollEvent(Event.READ, 0),
        PollEvent(Event.READ, 3),
        PollEvent(Event.STACKING),
        PollEvent(Event.CREDIT, 3),
        PollEvent(Event.STACKED),
    ]
    data = encode_poll(events)
    assert data == bytes.fromhex("F0 F1 EF 00 EF 03 CC EE 03 EB")
    assert decode_poll_events(data[1:]) == events
    with pytest.raises(ProtocolError):
        decode_poll_events(b"\xee")
    with pytest.raises(ProtocolError):
        PollEvent(Event.CREDIT).encode()


# -- the deframer ------------------------------------------------------------------------------
def test_deframer_takes_bytes_split_anywhere() -> None:
    stream = SYNC_FRAME + SETUP_V7 + OK_FRAME
    for cut in range(1, len(stream)):
        d = Deframer()
        got = d.feed(stream[:cut]) + d.feed(stream[cut:])
        assert [p.data[:1] for p in got if isinstance(p, Packet)] == [b"\x11", b"\xf0", b"\xf0"]


def test_deframer_skips_garbage_and_reports_bad_crc() -> None:
    bad = bytearray(SYNC_FRAME)
    bad[-1] ^= 0x01
    d = Deframer()
    got = d.feed(b"\x00\x12garbage" + bytes(bad) + OK_FRAME)
    assert got == [BadFrame("crc", bytes(bad[1:])), Packet(True, 0, b"\xf0")]
    assert d.discarded == 9


def test_a_lone_stx_restarts_the_frame() -> None:
    d = Deframer()
    got = d.feed(SYNC_FRAME[:3] + OK_FRAME)
    assert got == [BadFrame("restart", SYNC_FRAME[1:3]), Packet(True, 0, b"\xf0")]


def test_decode_frame_refuses_anything_but_one_frame() -> None:
    for junk in (b"", SYNC_FRAME[:-1], SYNC_FRAME + OK_FRAME, SYNC_FRAME[:-1] + b"\x00"):
        with pytest.raises(ProtocolError):
            decode_frame(junk)


# -- the slave link ------------------------------------------------------------------------------
class Counter:
    def __init__(self) -> None:
        self.calls: list[bytes] = []

    def __call__(self, data: bytes) -> bytes:
        self.calls.append(data)
        return bytes([0xF0, len(self.calls)])


def test_a_retry_with_the_same_flag_gets_the_same_answer_without_running_twice() -> None:
    handler = Counter()
    link = SlaveLink(0, handler)
    assert link.feed(SYNC_FRAME) == encode_frame(True, 0, b"\xf0\x01")
    poll = encode_frame(False, 0, b"\x07")
    first = link.feed(poll)
    assert link.feed(poll) == first
    assert len(handler.calls) == 2
    assert link.retries == 1
    assert link.feed(encode_frame(True, 0, b"\x07")) == encode_frame(True, 0, b"\xf0\x03")


def test_sync_runs_whatever_its_flag_and_the_next_command_is_new_whatever_its_flag() -> None:
    handler = Counter()
    link = SlaveLink(0, handler)
    link.feed(SYNC_FRAME)
    link.feed(encode_frame(True, 0, b"\x11"))  # a second SYNC with the same flag still runs
    link.feed(encode_frame(True, 0, b"\x07"))  # a host that keeps the flag set after SYNC
    assert [c[0] for c in handler.calls] == [0x11, 0x11, 0x07]


def test_bad_crc_and_other_addresses_get_no_answer() -> None:
    link = SlaveLink(0, Counter())
    bad = bytearray(encode_frame(False, 0, b"\x07"))
    bad[-2] ^= 0xFF
    assert link.feed(bytes(bad)) == b""
    assert link.bad_frames == 1
    assert link.feed(encode_frame(False, 16, b"\x07")) == b""
    assert link.feed(encode_frame(False, 0, b"\x07")) == encode_frame(False, 0, b"\xf0\x01")


# -- properties ------------------------------------------------------------------------------------
packets = st.builds(
    Packet,
    seq=st.booleans(),
    address=st.integers(0, 0x7F),
    data=st.binary(max_size=255),
)


@given(st.lists(packets, max_size=5), st.lists(st.integers(1, 40), max_size=10))
def test_encode_then_deframe_in_any_chunks_is_identity(ps: list[Packet], cuts: list[int]) -> None:
    stream = b"".join(p.encode() for p in ps)
    d = Deframer()
    got: list[Packet | BadFrame] = []
    i = 0
    for n in cuts:
        got += d.feed(stream[i : i + n])
        i += n
    got += d.feed(stream[i:])
    assert got == ps


@given(st.binary(max_size=600))
def test_random_bytes_never_break_the_deframer(data: bytes) -> None:
    d = Deframer()
    for item in d.feed(data):
        assert isinstance(item, Packet | BadFrame)
    # Whatever came before, a host retrying SYNC gets through once the partial frame it
    # landed in is complete (a frame is at most 259 bytes, so within 44 retries).
    for _ in range(44):
        if Packet(True, 0, b"\x11") in d.feed(SYNC_FRAME):
            return
    raise AssertionError("SYNC never received")


@given(st.binary(max_size=300))
def test_decoders_raise_only_protocol_error(payload: bytes) -> None:
    decoders = (
        SetupData.decode,
        UnitData.decode,
        Counters.decode,
        decode_serial,
        decode_poll_events,
        lambda p: decode_channel_values(p, 1, 7),
        lambda p: decode_channel_values(p, 1, 4),
        decode_frame,
        parse_reply,
    )
    for decode in decoders:
        try:
            decode(payload)
        except ProtocolError:
            pass


@given(packets, st.booleans())
def test_the_remembered_whole_frame_reads_as_byte_by_byte(packet: Packet, corrupt: bool) -> None:
    """A whole frame is read once and then remembered by its bytes: first and later reads agree
    with the byte-by-byte deframer (a frame it does not take, e.g. stuffed or with a bad CRC,
    goes byte by byte)."""
    frame = bytearray(packet.encode())
    if corrupt:
        frame[-1] ^= 0x01
    bytewise = Deframer()
    slow = [item for i in range(len(frame)) for item in bytewise.feed(bytes(frame[i : i + 1]))]
    for _ in range(2):
        whole = Deframer().whole(bytes(frame))
        assert whole is None or [whole] == slow
    if corrupt:
        assert Deframer().whole(bytes(frame)) is None
    busy = Deframer()
    busy.feed(bytes(frame[:3]))  # a frame in progress: nothing is taken whole
    assert busy.whole(bytes(frame)) is None


host_frames = st.builds(
    Packet, seq=st.booleans(), address=st.sampled_from([0, 0, 0, 5]), data=st.binary(max_size=8)
).map(Packet.encode)


@given(st.lists(st.binary(max_size=12) | host_frames, max_size=12))
def test_a_slave_link_answers_writes_as_it_answers_single_bytes(writes: list[bytes]) -> None:
    """Whole frames take the remembered path; the replies, the commands run and the counters are
    those of the same bytes arriving one at a time."""
    fast, slow = Counter(), Counter()
    fast_link, slow_link = SlaveLink(0, fast), SlaveLink(0, slow)
    fast_out = b"".join(fast_link.feed(w) for w in writes)
    stream = b"".join(writes)
    slow_out = b"".join(slow_link.feed(stream[i : i + 1]) for i in range(len(stream)))
    assert fast_out == slow_out
    assert fast.calls == slow.calls
    assert (fast_link.bad_frames, fast_link.retries) == (slow_link.bad_frames, slow_link.retries)


@given(st.binary(max_size=300))
def test_random_bytes_into_a_slave_link_never_raise(data: bytes) -> None:
    link = SlaveLink(0, Counter())
    out = link.feed(data)
    assert all(isinstance(p, Packet) for p in Deframer().feed(out))


@given(
    st.lists(st.integers(1, 0xFFFFFFFF), min_size=1, max_size=16),
    st.integers(1, 8),
    st.sampled_from(["EUR", "CNY", "GBP"]),
)
def test_setup_data_round_trips(values: list[int], protocol: int, country: str) -> None:
    if protocol < 6:
        values = [v % 256 for v in values]
    setup = SetupData("0372", country, 1, tuple(values), (2,) * len(values), 100, protocol)
    back = SetupData.decode(setup.encode())
    assert back.values == setup.values
    assert back.protocol_version == protocol


@given(st.lists(st.tuples(st.sampled_from(list(Event)), st.integers(0, 16)), max_size=20))
def test_poll_events_round_trip(raw: list[tuple[Event, int]]) -> None:
    events = [
        PollEvent(code, ch if code in {0xEF, 0xEE, 0xE6, 0xE1, 0xE2} else None) for code, ch in raw
    ]
    assert decode_poll_events(encode_poll(events)[1:]) == events
