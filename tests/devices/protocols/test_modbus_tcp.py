"""Modbus TCP framing and the spec's request checks: known frames, the order of the checks,
and fuzzing (no PDU raises; every verdict is a spec exception code)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.protocols import modbus_tcp as m

ALL = frozenset({1, 2, 3, 4, 5, 6, 15, 16, 22, 23})


def test_frame_and_header_round_trip() -> None:
    adu = m.frame(0x1234, 7, bytes([4, 0, 0, 0, 2]))
    assert adu == bytes([0x12, 0x34, 0, 0, 0, 6, 7, 4, 0, 0, 0, 2])
    header = m.Header.decode(adu)
    assert header == m.Header(0x1234, 0, 6, 7) and header.pdu_size == 5
    assert header.framing_error() is None


def test_lengths_that_cannot_be_followed() -> None:
    assert m.Header(1, 0, 1, 1).framing_error() == "MBAP length 1 leaves no function code"
    assert m.Header(1, 0, 255, 1).framing_error() == "MBAP length 255 is past the 260-byte ADU"
    assert m.Header(1, 0, 254, 1).framing_error() is None


@pytest.mark.parametrize(
    ("pdu", "code"),
    [
        (bytes([3, 0, 0, 0, 125]), None),
        (bytes([3, 0, 0, 0, 126]), m.ILLEGAL_VALUE),
        (bytes([4, 0, 0, 0, 0]), m.ILLEGAL_VALUE),
        (bytes([1, 0, 0, 0x07, 0xD0]), None),  # 2000 coils
        (bytes([1, 0, 0, 0x07, 0xD1]), m.ILLEGAL_VALUE),
        (bytes([5, 0, 1, 0xFF, 0x00]), None),
        (bytes([5, 0, 1, 0x12, 0x34]), m.ILLEGAL_VALUE),  # a coil is 0x0000 or 0xFF00
        (bytes([16, 0, 0, 0, 2, 4, 0, 1, 0, 2]), None),
        (bytes([16, 0, 0, 0, 2, 3, 0, 1, 0]), m.ILLEGAL_VALUE),
        (bytes([15, 0, 0, 0, 9, 2, 0xFF, 1]), None),
        (bytes([15, 0, 0, 0, 9, 1, 0xFF]), m.ILLEGAL_VALUE),
        (bytes([23, 0, 0, 0, 1, 0, 5, 0, 1, 2, 0, 9]), None),
        (bytes([23, 0, 0, 0, 1, 0, 5, 0, 1, 2, 0]), m.ILLEGAL_VALUE),
        (bytes([22, 0, 1, 0xFF, 0, 0, 1]), None),
        (bytes([0x2B, 0x0E, 1, 0]), m.ILLEGAL_FUNCTION),  # not implemented here
        (bytes([0x83, 0, 0, 0, 1]), m.ILLEGAL_FUNCTION),
    ],
)
def test_checks_in_the_spec_order(pdu: bytes, code: int | None) -> None:
    assert m.check_request(pdu, ALL) == code


def test_an_implemented_function_is_checked_before_its_quantity() -> None:
    assert m.check_request(bytes([3, 0, 0, 0, 0]), frozenset({4})) == m.ILLEGAL_FUNCTION


def test_exception_reply_keeps_the_function_code() -> None:
    assert m.exception(4, m.ILLEGAL_VALUE) == bytes([0x84, 3])
    assert m.exception(0x41, m.ILLEGAL_FUNCTION) == bytes([0xC1, 1])
    assert m.exception(0x83, m.ILLEGAL_FUNCTION) == bytes([0x83, 1])


@given(st.binary(min_size=1, max_size=253))
def test_no_pdu_raises(pdu: bytes) -> None:
    assert m.check_request(pdu, ALL) in (None, m.ILLEGAL_FUNCTION, m.ILLEGAL_VALUE)


@pytest.mark.parametrize(
    ("pdu", "text"),
    [
        ("0400000004", "read input registers address=0 count=4"),
        ("0600030019", "write register address=3 value=25"),
        ("100003000204000a000b", "write registers address=3 count=2 values=00 0a 00 0b"),
        ("16000100f00005", "mask write register address=1 and=0x00F0 or=0x0005"),
        (
            "1700000001000100010200ff",
            "read/write registers read address=0 count=1 write address=1 count=1 values=00 ff",
        ),
        ("8402", "exception 02 to function 4"),
        ("2b0e01", "function 43 0e 01"),
        ("04", "read input registers"),
    ],
)
def test_describe_names_the_function_and_its_fields(pdu: str, text: str) -> None:
    assert m.describe(bytes.fromhex(pdu)) == text


@given(st.binary(max_size=20))
def test_describe_reads_any_pdu_without_raising(pdu: bytes) -> None:
    assert isinstance(m.describe(pdu), str)
