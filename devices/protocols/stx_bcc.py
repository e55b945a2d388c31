"""The framed serial protocol of motorised card readers (Sankyo ICT3K5 / Creator CRT-310 family):
``STX LEN(2, big-endian) TEXT ETX BCC`` frames, ``C``/``P``/``N`` texts and the ACK/NAK handshake.

Wire format (as simulated here; the vendors' manuals differ in small ways, noted below):

- Frame: ``STX(0x02) LENH LENL TEXT ETX(0x03) BCC``. ``LEN`` counts the bytes of ``TEXT``;
  ``BCC`` is the XOR of every byte from ``STX`` to ``ETX`` inclusive. (The ICT3K5 manual uses
  0xF2 as its STX; this house protocol uses the ASCII STX 0x02 like CRT-style readers.)
- Command text: ``'C' CM PM DATA``; positive reply ``'P' CM PM st0 st1 DATA``; negative reply
  ``'N' CM PM e1 e0 DATA``. ``CM``/``PM``/status/error bytes are ASCII characters.
- Handshake (Sankyo style): the host sends a command frame; the reader answers ``ACK`` (0x06)
  when the BCC is right, or ``NAK`` (0x15) when it is wrong (the host then resends), and then
  sends its reply frame. The host acknowledges the reply with ``ACK``; a ``NAK`` from the host
  makes the reader send the same reply again. A reader that does not answer sends nothing at all.

Commands (``CM`` ``PM``): ``0`` initialise (PM ``0`` eject a card to the gate, ``1`` capture it,
``2`` leave it where it is; reply DATA = model and firmware), ``1 0`` status (DATA = shutter
``0`` closed / ``1`` open / ``2`` stuck, then the retain-bin count as 3 digits), ``3 0`` eject to
the gate, ``3 1`` capture into the retain bin, ``6 1``..``6 3`` read ISO track 1..3 (DATA = the
track characters without sentinels and LRC), ``: 0``/``: 1`` enable/disable card entry (shutter
open/closed), ``I 0`` chip power-on (DATA = the ATR), ``I 1`` chip power-off.

Every reply carries ``st0`` = card position (``0`` none, ``1`` at the gate, ``2`` inside,
``3`` jammed) and ``st1`` = retain bin (``0`` not full, ``1`` full). Error codes ``e1 e0``:
``00`` undefined command, ``01`` parameter error, ``02`` command sequence error (for example
no card inside), ``10`` card jam, ``11`` shutter error, ``20`` magnetic read error (parity/LRC),
``21`` no data on the track, ``40`` retain bin full, ``60`` chip does not answer (no ATR).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from workbench.errors import ProtocolError

log = logging.getLogger(__name__)

STX = 0x02
ETX = 0x03
ENQ = 0x05
ACK = 0x06
NAK = 0x15
EOT = 0x04
CMT = ord("C")
POSITIVE = ord("P")
NEGATIVE = ord("N")
MAX_TEXT = 1024
"""The longest TEXT accepted; longer length fields are treated as line noise."""

# Command codes (ASCII).
CM_INIT = "0"
CM_STATUS = "1"
CM_CARRY = "3"
CM_READ = "6"
CM_ENTRY = ":"
CM_ICC = "I"

# Card positions (st0) and retain-bin states (st1).
POSITION_CODES = {"none": "0", "gate": "1", "inside": "2", "jammed": "3"}
SHUTTER_CODES = {"closed": "0", "open": "1", "stuck": "2"}

# Error codes (e1 e0).
E_UNDEFINED = "00"
E_PARAMETER = "01"
E_SEQUENCE = "02"
E_JAM = "10"
E_SHUTTER = "11"
E_READ = "20"
E_NO_DATA = "21"
E_BIN_FULL = "40"
E_NO_ATR = "60"


def bcc(data: bytes) -> int:
    """XOR of ``data`` (pass the frame from STX to ETX inclusive)."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def encode_frame(text: bytes) -> bytes:
    """Frame ``text`` for the wire: STX, length, text, ETX, BCC."""
    if len(text) > MAX_TEXT:
        raise ProtocolError(f"text length(={len(text)}) must be <= {MAX_TEXT}")
    body = bytes([STX]) + len(text).to_bytes(2, "big") + text + bytes([ETX])
    return body + bytes([bcc(body)])


def decode_frame(frame: bytes) -> bytes:
    """The TEXT of one complete frame; raises :class:`ProtocolError` if it is malformed."""
    if len(frame) < 5:
        raise ProtocolError(f"frame of {len(frame)} bytes is shorter than the 5-byte minimum")
    if frame[0] != STX:
        raise ProtocolError(f"frame starts with 0x{frame[0]:02X}, not STX")
    length = int.from_bytes(frame[1:3], "big")
    if len(frame) != length + 5:
        raise ProtocolError(f"frame has {len(frame)} bytes but LEN(={length}) says {length + 5}")
    if frame[-2] != ETX:
        raise ProtocolError(f"byte before BCC is 0x{frame[-2]:02X}, not ETX")
    if bcc(frame[:-1]) != frame[-1]:
        raise ProtocolError(f"BCC 0x{frame[-1]:02X} does not match 0x{bcc(frame[:-1]):02X}")
    return frame[3:-2]


def _char(value: str, what: str) -> int:
    if len(value) != 1 or ord(value) > 0xFF:
        raise ProtocolError(f"{what}(={value!r}) must be one character of one byte")
    return ord(value)


@dataclass(frozen=True, slots=True)
class Command:
    """A host command: command code ``cm``, parameter ``pm`` (ASCII characters) and data."""

    cm: str
    pm: str
    data: bytes = b""

    def text(self) -> bytes:
        """The TEXT of the frame: ``'C' CM PM DATA``."""
        return bytes([CMT, _char(self.cm, "CM"), _char(self.pm, "PM")]) + self.data

    def encode(self) -> bytes:
        """The framed command."""
        return encode_frame(self.text())


@dataclass(frozen=True, slots=True)
class Reply:
    """A reader reply: positive (``code`` = st0 st1) or negative (``code`` = e1 e0)."""

    positive: bool
    cm: str
    pm: str
    code: str
    data: bytes = b""

    def text(self) -> bytes:
        """The TEXT of the frame: ``'P'|'N' CM PM c1 c0 DATA``."""
        if len(self.code) != 2:
            raise ProtocolError(f"status/error code(={self.code!r}) must be two characters")
        head = [POSITIVE if self.positive else NEGATIVE, _char(self.cm, "CM"), _char(self.pm, "PM")]
        head += [_char(c, "code") for c in self.code]
        return bytes(head) + self.data

    def encode(self) -> bytes:
        """The framed reply."""
        return _reply_frame(self)


@lru_cache(maxsize=1024)
def _reply_frame(reply: Reply) -> bytes:
    """A reply's frame (pure, so remembered: a reader gives the same few replies all day)."""
    return encode_frame(reply.text())


def parse_command(text: bytes) -> Command:
    """A command from a frame's TEXT; raises :class:`ProtocolError` when it is not one."""
    return _command_of(bytes(text))


@lru_cache(maxsize=1024)
def _command_of(text: bytes) -> Command:
    """:func:`parse_command` (pure, so remembered: a host sends the same few commands all day)."""
    if len(text) < 3:
        raise ProtocolError(f"command text of {len(text)} bytes is shorter than 'C' CM PM")
    if text[0] != CMT:
        raise ProtocolError(f"command text starts with 0x{text[0]:02X}, not 'C'")
    return Command(chr(text[1]), chr(text[2]), bytes(text[3:]))


def parse_reply(text: bytes) -> Reply:
    """A reply from a frame's TEXT; raises :class:`ProtocolError` when it is not one."""
    if len(text) < 5:
        raise ProtocolError(f"reply text of {len(text)} bytes is shorter than 'P' CM PM st0 st1")
    if text[0] not in (POSITIVE, NEGATIVE):
        raise ProtocolError(f"reply text starts with 0x{text[0]:02X}, not 'P' or 'N'")
    return Reply(
        text[0] == POSITIVE,
        chr(text[1]),
        chr(text[2]),
        text[3:5].decode("latin-1"),
        bytes(text[5:]),
    )


@dataclass(frozen=True, slots=True)
class Control:
    """A single control byte outside a frame (ACK, NAK, ENQ, EOT)."""

    byte: int


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A frame the deframer dropped: ``etx`` (no ETX where LEN said), ``bcc`` (checksum
    mismatch) or ``length`` (LEN beyond :data:`MAX_TEXT`); ``raw`` is what was received."""

    reason: str
    raw: bytes


Item = bytes | Control | BadFrame
"""What the deframer yields: a good frame's TEXT, a control byte, or a dropped frame."""


@lru_cache(maxsize=1024)
def lone_command(data: bytes) -> Command | None:
    """The command ``data`` carries when it is exactly one whole, good command frame with nothing
    around it (how a host writes one), else None: what an idle :class:`Deframer` and
    :func:`parse_command` make of it, remembered by its bytes (pure: a host sends the same few
    commands all day, and a reader's session takes them without the deframer)."""
    items = _whole(data)
    if items is None or not isinstance(items[0], bytes):
        return None
    try:
        return _command_of(items[0])
    except ProtocolError:
        return None


@lru_cache(maxsize=1024)
def _whole(data: bytes) -> tuple[Item, ...] | None:
    """What a lone control byte, or one whole good frame with nothing around it, yields."""
    if len(data) == 1 and data[0] in (ACK, NAK, ENQ, EOT):
        return (Control(data[0]),)
    framed = len(data) >= 5 and data[0] == STX and data[-2] == ETX
    whole = framed and int.from_bytes(data[1:3], "big") + 5 == len(data) <= MAX_TEXT + 5
    if whole and bcc(data[:-1]) == data[-1]:
        return (data[3:-2],)
    return None


class Deframer:
    """Splits a byte stream (cut anywhere) into frame texts, control bytes and bad frames.

    Bytes outside frames other than the control characters are line noise and are skipped.
    After a bad frame the search for the next STX restarts right after the bad frame's STX,
    so a good frame hidden in garbage is still found.
    """

    def __init__(self) -> None:
        self.held = bytearray()
        """The bytes of a frame begun but not complete (empty between frames); read, never
        changed, by a session that asks whether it is between frames without a call."""

    @property
    def pending(self) -> int:
        """Bytes of a frame begun but not complete (0 between frames)."""
        return len(self.held)

    def reset(self) -> int:
        """Abandon a frame begun (its sender went quiet); returns how many bytes were dropped."""
        dropped = len(self.held)
        self.held.clear()
        return dropped

    def feed(self, data: bytes) -> list[Item]:
        """Take more bytes; return every item completed by them, in order."""
        if not self.held:  # the common cases of a host's write, whole: remembered (pure)
            whole = _whole(bytes(data))
            if whole is not None:
                return list(whole)
        self.held += data
        out: list[Item] = []
        while self.held:
            first = self.held[0]
            if first in (ACK, NAK, ENQ, EOT):
                out.append(Control(first))
                del self.held[0]
                continue
            if first != STX:
                del self.held[0]
                continue
            if len(self.held) < 3:
                break
            length = int.from_bytes(self.held[1:3], "big")
            if length > MAX_TEXT:
                out.append(BadFrame("length", bytes(self.held[:3])))
                del self.held[0]
                continue
            total = length + 5
            if len(self.held) < total:
                break
            frame = bytes(self.held[:total])
            if frame[-2] != ETX:
                out.append(BadFrame("etx", frame))
                del self.held[0]
                continue
            if bcc(frame[:-1]) != frame[-1]:
                out.append(BadFrame("bcc", frame))
                del self.held[:total]
                continue
            out.append(frame[3:-2])
            del self.held[:total]
        return out
