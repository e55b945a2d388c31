"""SSP message payloads: command codes, generic responses, poll events and reject codes, and the
encoders and decoders of the replies an NV-series validator (unit type 0) sends.

Layouts follow ITL's SSP manual (GA138) as read by real host libraries: SETUP REQUEST is unit
type, firmware (4 ASCII), country (3 ASCII), value multiplier (3, big-endian), channel count,
one value byte and one security byte per channel, real value multiplier (3, big-endian),
protocol version, and for protocol >= 6 a country code (3 ASCII) and a 32-bit little-endian
value per channel. Decoders raise :class:`ProtocolError` on malformed payloads and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from workbench.errors import ProtocolError
from workbench.memo import Memo

EXPANDED_PROTOCOL = 6
"""From this protocol version on, setup and channel-value replies carry the expanded fields."""


class Command(IntEnum):
    """Host-to-validator command codes (first data byte of a command packet)."""

    RESET = 0x01
    SET_INHIBITS = 0x02
    DISPLAY_ON = 0x03
    DISPLAY_OFF = 0x04
    SETUP_REQUEST = 0x05
    HOST_PROTOCOL_VERSION = 0x06
    POLL = 0x07
    REJECT = 0x08
    DISABLE = 0x09
    ENABLE = 0x0A
    GET_SERIAL_NUMBER = 0x0C
    UNIT_DATA = 0x0D
    CHANNEL_VALUE_REQUEST = 0x0E
    CHANNEL_SECURITY_DATA = 0x0F
    SYNC = 0x11
    LAST_REJECT_CODE = 0x17
    HOLD = 0x18
    ENABLE_HIGHER_PROTOCOL = 0x19
    SET_GENERATOR = 0x4A
    SET_MODULUS = 0x4B
    REQUEST_KEY_EXCHANGE = 0x4C
    GET_COUNTERS = 0x58
    RESET_COUNTERS = 0x59
    SET_FIXED_KEY = 0x60
    RESET_FIXED_KEY = 0x61


class Response(IntEnum):
    """Generic response codes (first data byte of every reply)."""

    OK = 0xF0
    UNKNOWN_COMMAND = 0xF2
    WRONG_PARAMETERS = 0xF3
    OUT_OF_RANGE = 0xF4
    CANNOT_PROCESS = 0xF5
    SOFTWARE_ERROR = 0xF6
    FAIL = 0xF8
    KEY_NOT_SET = 0xFA


class Event(IntEnum):
    """Poll events of a note validator, as they follow 0xF0 in a POLL reply."""

    SLAVE_RESET = 0xF1
    READ = 0xEF
    CREDIT = 0xEE
    REJECTING = 0xED
    REJECTED = 0xEC
    STACKING = 0xCC
    STACKED = 0xEB
    SAFE_JAM = 0xEA
    UNSAFE_JAM = 0xE9
    DISABLED = 0xE8
    STACKER_FULL = 0xE7
    FRAUD_ATTEMPT = 0xE6
    NOTE_CLEARED_FROM_FRONT = 0xE1
    NOTE_CLEARED_INTO_CASHBOX = 0xE2
    CASHBOX_REMOVED = 0xE3
    CASHBOX_REPLACED = 0xE4


EVENTS_WITH_CHANNEL = frozenset(
    {
        Event.READ,
        Event.CREDIT,
        Event.FRAUD_ATTEMPT,
        Event.NOTE_CLEARED_FROM_FRONT,
        Event.NOTE_CLEARED_INTO_CASHBOX,
    }
)
"""Events followed by one channel byte (0 = not known yet)."""


class RejectCode(IntEnum):
    """Reasons LAST REJECT CODE (0x17) gives for the last rejected note (a selection)."""

    NOTE_ACCEPTED = 0x00
    LENGTH_FAIL = 0x01
    AVERAGE_FAIL = 0x02
    COASTLINE_FAIL = 0x03
    GRAPH_FAIL = 0x04
    BURIED_FAIL = 0x05
    CHANNEL_INHIBIT = 0x06
    SECOND_NOTE = 0x07
    REJECT_BY_HOST = 0x08
    CROSS_CHANNEL = 0x09
    REAR_SENSOR_ERROR = 0x0A
    NOTE_TOO_LONG = 0x0B
    DISABLED_BY_HOST = 0x0C
    SLOW_MECH = 0x0D
    STRIM_ATTEMPT = 0x0E
    FRAUD_CHANNEL = 0x0F
    NO_NOTES = 0x10
    PEAK_DETECT_FAIL = 0x11
    TWISTED_NOTE = 0x12
    ESCROW_TIMEOUT = 0x13


# -- commands and generic replies ------------------------------------------------------------
def command(code: int, params: bytes = b"") -> bytes:
    """The data of a command packet."""
    if not 0 <= code <= 0xFF:
        raise ProtocolError(f"command code(={code}) must be one byte")
    return bytes([code]) + bytes(params)


def parse_command(data: bytes) -> tuple[int, bytes]:
    """Split command data into its code and parameters."""
    if not data:
        raise ProtocolError("empty SSP command")
    return data[0], bytes(data[1:])


def reply(code: int, payload: bytes = b"") -> bytes:
    """The data of a reply packet: a generic response code then the payload."""
    return bytes([code]) + bytes(payload)


def parse_reply(data: bytes) -> tuple[int, bytes]:
    """Split reply data into its generic response code and payload."""
    if not data:
        raise ProtocolError("empty SSP reply")
    return data[0], bytes(data[1:])


def inhibit_mask(channels: Iterable[int]) -> bytes:
    """SET INHIBITS parameters enabling the given 1-based channels (bit set = accepted), 2 bytes."""
    mask = 0
    for ch in channels:
        if not 1 <= ch <= 16:
            raise ProtocolError(f"channel(={ch}) must be 1..16")
        mask |= 1 << (ch - 1)
    return mask.to_bytes(2, "little")


def channels_of_mask(params: bytes) -> set[int]:
    """The 1-based channels a SET INHIBITS parameter block enables."""
    mask = int.from_bytes(params, "little")
    return {i + 1 for i in range(len(params) * 8) if mask >> i & 1}


# -- poll events -----------------------------------------------------------------------------
class PollEvent(NamedTuple):
    """One poll event; ``channel`` is set for the events that carry a channel byte. A named
    tuple, so that hashing and comparing one (a POLL reply's events, at every poll) is done in
    C, not in a dataclass's generated Python methods."""

    code: int
    channel: int | None = None

    def encode(self) -> bytes:
        """The event's bytes in a POLL reply."""
        if (self.code in EVENTS_WITH_CHANNEL) != (self.channel is not None):
            raise ProtocolError(f"event 0x{self.code:02X}: channel {self.channel} does not fit")
        return bytes([self.code]) if self.channel is None else bytes([self.code, self.channel])

    def __str__(self) -> str:
        try:
            name = Event(self.code).name.lower()
        except ValueError:
            name = f"0x{self.code:02X}"
        return name if self.channel is None else f"{name}({self.channel})"


def encode_poll(events: Iterable[PollEvent]) -> bytes:
    """A POLL reply's data: 0xF0 then the events in order of occurrence."""
    return POLL_REPLIES[tuple(events)]


class _PollReplies(Memo[tuple[PollEvent, ...], bytes]):
    """POLL reply data by its events, made on first use (a unit repeats a few combinations all
    day). A subscript, not ``get``: a hit is one lookup in C, with no call."""

    limit = 256

    def make(self, key: tuple[PollEvent, ...]) -> bytes:
        return bytes([Response.OK]) + b"".join(e.encode() for e in key)


POLL_REPLIES = _PollReplies()
""":func:`encode_poll` by a tuple of events: ``POLL_REPLIES[events]`` is that reply's data."""


def decode_poll_events(payload: bytes) -> list[PollEvent]:
    """The events after the 0xF0 of a POLL reply (unknown codes are taken as carrying no data)."""
    events: list[PollEvent] = []
    i = 0
    while i < len(payload):
        code = payload[i]
        if code in EVENTS_WITH_CHANNEL:
            if i + 1 >= len(payload):
                raise ProtocolError(f"poll event 0x{code:02X} at {i} lacks its channel byte")
            events.append(PollEvent(code, payload[i + 1]))
            i += 2
        else:
            events.append(PollEvent(code))
            i += 1
    return events


# -- setup, unit data, channel values, serial, counters ---------------------------------------
def _ascii(data: bytes, what: str) -> str:
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError(f"{what} is not ASCII: {data.hex(' ')}") from None


def _need(payload: bytes, n: int, what: str) -> None:
    if len(payload) < n:
        raise ProtocolError(f"{what}: {len(payload)} bytes, need at least {n}")


@dataclass(frozen=True, slots=True)
class SetupData:
    """The SETUP REQUEST reply of a note validator (after the 0xF0)."""

    firmware: str
    country: str
    value_multiplier: int
    values: tuple[int, ...]
    """Face value of each channel, in whole currency units."""
    security: tuple[int, ...]
    real_value_multiplier: int
    protocol_version: int
    countries: tuple[str, ...] = ()
    """Country code of each channel (protocol >= 6); the unit's country when empty."""
    unit_type: int = 0

    def encode(self) -> bytes:
        """The payload, in the layout of ``protocol_version``."""
        n = len(self.values)
        if len(self.security) != n or (self.countries and len(self.countries) != n):
            raise ProtocolError("setup data: one value, security and country per channel")
        if len(self.firmware) != 4 or len(self.country) != 3:
            raise ProtocolError("setup data: firmware is 4 characters, country 3")
        out = bytearray([self.unit_type]) + self.firmware.encode("ascii")
        out += self.country.encode("ascii") + self.value_multiplier.to_bytes(3, "big")
        out.append(n)
        out += bytes(short_value(v, self.value_multiplier) for v in self.values)
        out += bytes(self.security) + self.real_value_multiplier.to_bytes(3, "big")
        out.append(self.protocol_version)
        if self.protocol_version >= EXPANDED_PROTOCOL:
            countries = self.countries or (self.country,) * n
            out += b"".join(c.encode("ascii") for c in countries)
            out += b"".join(v.to_bytes(4, "little") for v in self.values)
        return bytes(out)

    @classmethod
    def decode(cls, payload: bytes) -> SetupData:
        """Parse a SETUP REQUEST payload (either layout, chosen by its protocol version byte)."""
        _need(payload, 12, "setup data")
        n = payload[11]
        base = 12 + 2 * n + 4
        _need(payload, base, "setup data")
        vm = int.from_bytes(payload[8:11], "big")
        protocol = payload[base - 1]
        countries: tuple[str, ...] = ()
        if protocol >= EXPANDED_PROTOCOL:
            _need(payload, base + 7 * n, "expanded setup data")
            cc = payload[base : base + 3 * n]
            countries = tuple(_ascii(cc[i : i + 3], "channel country") for i in range(0, 3 * n, 3))
            long = payload[base + 3 * n : base + 7 * n]
            values = tuple(int.from_bytes(long[i : i + 4], "little") for i in range(0, 4 * n, 4))
        else:
            values = tuple(b * vm for b in payload[12 : 12 + n])
        return cls(
            unit_type=payload[0],
            firmware=_ascii(payload[1:5], "firmware"),
            country=_ascii(payload[5:8], "country"),
            value_multiplier=vm,
            values=values,
            security=tuple(payload[12 + n : 12 + 2 * n]),
            real_value_multiplier=int.from_bytes(payload[12 + 2 * n : base - 1], "big"),
            protocol_version=protocol,
            countries=countries,
        )


def short_value(value: int, multiplier: int) -> int:
    """A channel's one-byte value (value / multiplier), or 0 when it does not fit a byte."""
    if multiplier <= 0 or value % multiplier:
        return 0
    short = value // multiplier
    return short if short <= 0xFF else 0


@dataclass(frozen=True, slots=True)
class UnitData:
    """The UNIT DATA reply: unit type, firmware, country, value multiplier, protocol version."""

    firmware: str
    country: str
    value_multiplier: int
    protocol_version: int
    unit_type: int = 0

    def encode(self) -> bytes:
        """The 12-byte payload."""
        return (
            bytes([self.unit_type])
            + self.firmware.encode("ascii")
            + self.country.encode("ascii")
            + self.value_multiplier.to_bytes(3, "big")
            + bytes([self.protocol_version])
        )

    @classmethod
    def decode(cls, payload: bytes) -> UnitData:
        """Parse a UNIT DATA payload."""
        _need(payload, 12, "unit data")
        return cls(
            unit_type=payload[0],
            firmware=_ascii(payload[1:5], "firmware"),
            country=_ascii(payload[5:8], "country"),
            value_multiplier=int.from_bytes(payload[8:11], "big"),
            protocol_version=payload[11],
        )


def encode_channel_values(
    values: Iterable[int], multiplier: int, protocol: int, countries: Iterable[str]
) -> bytes:
    """CHANNEL VALUE REQUEST payload: count, one byte per channel, expanded fields for protocol >= 6."""
    vals = list(values)
    out = bytearray([len(vals)]) + bytes(short_value(v, multiplier) for v in vals)
    if protocol >= EXPANDED_PROTOCOL:
        out += b"".join(c.encode("ascii") for c in countries)
        out += b"".join(v.to_bytes(4, "little") for v in vals)
    return bytes(out)


def decode_channel_values(payload: bytes, multiplier: int, protocol: int) -> list[int]:
    """Face values from a CHANNEL VALUE REQUEST payload."""
    _need(payload, 1, "channel values")
    n = payload[0]
    if protocol >= EXPANDED_PROTOCOL:
        start = 1 + n + 3 * n
        _need(payload, start + 4 * n, "expanded channel values")
        return [
            int.from_bytes(payload[start + 4 * i : start + 4 * i + 4], "little") for i in range(n)
        ]
    _need(payload, 1 + n, "channel values")
    return [b * multiplier for b in payload[1 : 1 + n]]


def encode_serial(number: int) -> bytes:
    """GET SERIAL NUMBER payload: 4 bytes, big-endian."""
    if not 0 <= number <= 0xFFFFFFFF:
        raise ProtocolError(f"serial number(={number}) must fit 4 bytes")
    return number.to_bytes(4, "big")


def decode_serial(payload: bytes) -> int:
    """The serial number in a GET SERIAL NUMBER payload."""
    _need(payload, 4, "serial number")
    return int.from_bytes(payload[:4], "big")


@dataclass(frozen=True, slots=True)
class Counters:
    """GET COUNTERS (0x58): five 32-bit little-endian note counters after a count byte of 5."""

    stacked: int = 0
    stored: int = 0
    dispensed: int = 0
    transferred: int = 0
    rejected: int = 0

    def encode(self) -> bytes:
        """The 21-byte payload."""
        fields = (self.stacked, self.stored, self.dispensed, self.transferred, self.rejected)
        return bytes([5]) + b"".join((f & 0xFFFFFFFF).to_bytes(4, "little") for f in fields)

    @classmethod
    def decode(cls, payload: bytes) -> Counters:
        """Parse a GET COUNTERS payload."""
        _need(payload, 21, "counters")
        if payload[0] != 5:
            raise ProtocolError(f"counters: count byte is {payload[0]}, expected 5")
        f = [int.from_bytes(payload[1 + 4 * i : 5 + 4 * i], "little") for i in range(5)]
        return cls(*f)
