"""Modbus TCP framing and request checks, as a server applies them before touching its data.

The MBAP header (Modbus Messaging on TCP/IP Implementation Guide V1.0b) is transaction
id, protocol id (0 for Modbus), length (unit id + PDU) and unit id; an ADU is at most 260
bytes, so the length is at most 254. A frame whose protocol id is not 0 is not Modbus and is
discarded (the guide's server check of the header). A request PDU is checked in the order of
the Application Protocol Specification V1.1b3 (section 6 state diagrams): an unsupported
function gets exception 01 (illegal function); a quantity out of range, a byte count that does
not match it, or a PDU of the wrong length gets 03 (illegal data value); the address range is
the data store's (02). An exception reply is the request's function code | 0x80 and the code.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MBAP = struct.Struct(">HHHB")
"""Transaction id, protocol id, length, unit id."""
MBAP_SIZE = MBAP.size
MAX_LENGTH = 254
"""Largest MBAP length: a 260-byte ADU less the 6 bytes before the unit id."""

ILLEGAL_FUNCTION = 0x01
ILLEGAL_ADDRESS = 0x02
ILLEGAL_VALUE = 0x03

_READ_QUANTITY = {1: 2000, 2: 2000, 3: 125, 4: 125}
_FIXED_LENGTH = {1: 5, 2: 5, 3: 5, 4: 5, 5: 5, 6: 5, 22: 7}
"""PDU lengths (function code included) of the requests with no byte count."""


@dataclass(frozen=True, slots=True)
class Header:
    """One MBAP header."""

    transaction: int
    protocol: int
    length: int
    unit: int

    @classmethod
    def decode(cls, data: bytes) -> Header:
        """The header in the first :data:`MBAP_SIZE` bytes of ``data``."""
        return cls(*MBAP.unpack_from(data))

    @property
    def pdu_size(self) -> int:
        """Bytes of PDU that follow the header (the length less the unit id)."""
        return self.length - 1

    def framing_error(self) -> str | None:
        """Why the stream cannot be followed past this header (None: it can)."""
        if self.length < 2:
            return f"MBAP length {self.length} leaves no function code"
        if self.length > MAX_LENGTH:
            return f"MBAP length {self.length} is past the 260-byte ADU"
        return None


def frame(transaction: int, unit: int, pdu: bytes) -> bytes:
    """A complete Modbus TCP ADU (protocol id 0)."""
    return MBAP.pack(transaction, 0, len(pdu) + 1, unit) + pdu


def exception(function: int, code: int) -> bytes:
    """An exception response PDU: the request's function code with bit 7 set, then the code."""
    return bytes([(function | 0x80) & 0xFF, code])


def check_request(pdu: bytes, functions: frozenset[int]) -> int | None:
    """The exception code a server answers ``pdu`` with before reading its data (None: none).

    ``functions`` are the function codes the server implements.
    """
    function = pdu[0]
    if function not in functions:
        return ILLEGAL_FUNCTION
    size = len(pdu)
    if function in _FIXED_LENGTH:
        if size != _FIXED_LENGTH[function]:
            return ILLEGAL_VALUE
        (_, value) = struct.unpack_from(">HH", pdu, 1)
        if function in _READ_QUANTITY and not 1 <= value <= _READ_QUANTITY[function]:
            return ILLEGAL_VALUE
        if function == 5 and value not in (0x0000, 0xFF00):
            return ILLEGAL_VALUE
        return None
    if function in (15, 16):
        if size < 6:
            return ILLEGAL_VALUE
        (_, quantity, count) = struct.unpack_from(">HHB", pdu, 1)
        limit, need = (1968, (quantity + 7) // 8) if function == 15 else (123, 2 * quantity)
        if not 1 <= quantity <= limit or count != need or size != 6 + count:
            return ILLEGAL_VALUE
        return None
    if function == 23:
        if size < 10:
            return ILLEGAL_VALUE
        (_, reads, _, writes, count) = struct.unpack_from(">HHHHB", pdu, 1)
        if not 1 <= reads <= 125 or not 1 <= writes <= 121:
            return ILLEGAL_VALUE
        if count != 2 * writes or size != 10 + count:
            return ILLEGAL_VALUE
        return None
    return None  # a function this module has no rule for: the server's decoder checks it


FUNCTION_NAMES = {
    1: "read coils",
    2: "read discrete inputs",
    3: "read holding registers",
    4: "read input registers",
    5: "write coil",
    6: "write register",
    15: "write coils",
    16: "write registers",
    22: "mask write register",
    23: "read/write registers",
}


def describe(pdu: bytes) -> str:
    """A request or reply PDU as people read it: the function by name and its fields
    (``read input registers address=0 count=4``); bytes it cannot read are shown in hex."""
    if not pdu:
        return "empty PDU"
    fc = pdu[0]
    if fc & 0x80:
        return f"exception {pdu[1:2].hex() or '?'} to function {fc & 0x7F}"
    name = FUNCTION_NAMES.get(fc, f"function {fc}")
    body = pdu[1:]
    if fc in (1, 2, 3, 4, 15, 16) and len(body) >= 4:
        address, count = struct.unpack_from(">HH", body)
        values = f" values={body[5:].hex(' ')}" if fc in (15, 16) else ""
        return f"{name} address={address} count={count}{values}"
    if fc in (5, 6) and len(body) == 4:
        address, value = struct.unpack_from(">HH", body)
        return f"{name} address={address} value={value}"
    if fc == 22 and len(body) == 6:
        address, and_mask, or_mask = struct.unpack_from(">HHH", body)
        return f"{name} address={address} and=0x{and_mask:04X} or=0x{or_mask:04X}"
    if fc == 23 and len(body) >= 8:
        read_at, reads, write_at, writes = struct.unpack_from(">HHHH", body)
        return (
            f"{name} read address={read_at} count={reads} "
            f"write address={write_at} count={writes} values={body[9:].hex(' ')}"
        )
    return f"{name} {body.hex(' ')}".rstrip()
