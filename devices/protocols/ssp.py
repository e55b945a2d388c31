"""SSP (Smiley Secure Protocol, ITL NV-series bill validators) framing: the CRC-16, byte stuffing,
packets, and an incremental deframer that takes bytes split anywhere and resynchronises on garbage.

A packet on the wire is ``STX(0x7F) SEQ/ID LEN DATA... CRCL CRCH``: bit 7 of SEQ/ID is the
sequence flag, bits 0-6 the slave address; the CRC-16 (polynomial 0x8005, seed 0xFFFF, not
reflected) covers SEQ/ID, LEN and DATA and is sent low byte first; after the STX every 0x7F is
sent twice. Message payloads (commands, replies, poll events) are in :mod:`devices.protocols.ssp_messages`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from workbench.errors import ProtocolError

log = logging.getLogger(__name__)

STX = 0x7F
SEQ_FLAG = 0x80
MAX_ADDRESS = 0x7F
MAX_DATA = 255
CRC_POLY = 0x8005
CRC_SEED = 0xFFFF


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ CRC_POLY) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
        table.append(crc)
    return tuple(table)


_TABLE = _crc_table()


def crc16(data: bytes, seed: int = CRC_SEED) -> int:
    """SSP's CRC-16: polynomial 0x8005, seed 0xFFFF, MSB first, no reflection, no final XOR."""
    crc = seed
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[(crc >> 8) ^ byte]
    return crc


@dataclass(frozen=True, slots=True)
class Packet:
    """One SSP packet: the sequence flag, the slave address and the data (command or reply)."""

    seq: bool
    address: int
    data: bytes

    def encode(self) -> bytes:
        """The packet as sent on the wire (STX, header, data, CRC, 0x7F stuffed)."""
        return encode_frame(self.seq, self.address, self.data)


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A frame the deframer dropped: ``crc`` (checksum mismatch) or ``restart`` (a new STX arrived
    before the frame was complete). ``raw`` is the unstuffed bytes after the STX."""

    reason: str
    raw: bytes


def encode_frame(seq: bool, address: int, data: bytes) -> bytes:
    """Frame ``data`` for the wire; raises :class:`ProtocolError` for a bad address or length."""
    return _frame(bool(seq), address, bytes(data))


@lru_cache(maxsize=1024)
def _frame(seq: bool, address: int, data: bytes) -> bytes:
    """:func:`encode_frame` for a bool ``seq`` and ``bytes`` data, remembered (pure): a link
    repeats a few polls and replies all day."""
    if not 0 <= address <= MAX_ADDRESS:
        raise ProtocolError(f"SSP address(={address}) must be 0..{MAX_ADDRESS}")
    if len(data) > MAX_DATA:
        raise ProtocolError(f"SSP data length(={len(data)}) must be <= {MAX_DATA}")
    body = bytes([(SEQ_FLAG if seq else 0) | address, len(data)]) + bytes(data)
    body += crc16(body).to_bytes(2, "little")
    return bytes([STX]) + body.replace(b"\x7f", b"\x7f\x7f")


frame_of = _frame
""":func:`encode_frame` when ``seq`` is already a bool and ``data`` bytes (no copies made)."""


def decode_frame(frame: bytes) -> Packet:
    """Decode exactly one complete wire frame (stuffed, starting with STX).

    Raises :class:`ProtocolError` when the bytes are not exactly one valid frame.
    """
    deframer = Deframer()
    items = deframer.feed(frame)
    if deframer.pending or len(items) != 1:
        raise ProtocolError(f"not exactly one SSP frame: {frame.hex(' ')}")
    item = items[0]
    if isinstance(item, BadFrame):
        raise ProtocolError(f"SSP frame dropped ({item.reason}): {frame.hex(' ')}")
    return item


@lru_cache(maxsize=1024)
def _whole_frame(data: bytes) -> Packet | None:
    """The packet of one whole unstuffed frame whose CRC holds (remembered: it is pure)."""
    body = data[1:-2]
    if crc16(body) != int.from_bytes(data[-2:], "little"):
        return None
    return Packet(bool(body[0] & SEQ_FLAG), body[0] & MAX_ADDRESS, body[2:])


_WHOLE: dict[bytes, Packet] = {}
"""Whole plain frames by their bytes, as :meth:`Deframer.whole` read them (a host sends a handful
of frames all day: each is checked once; its CRC and layout are pure functions of the bytes)."""
_WHOLE_LIMIT = 1024
_ENCRYPTED = b"\x7e"
"""STEX, the first data byte of an eSSP encrypted packet (:mod:`devices.protocols.essp`): its
frames differ every time (the count), so they are not remembered."""


class Deframer:
    """Incremental SSP receiver: feed it bytes as they arrive, get packets (and dropped frames).

    Bytes before an STX are skipped (``discarded`` counts them). Inside a frame ``7F 7F`` is one
    0x7F; a lone 0x7F followed by anything else is a new STX, so the frame in progress is dropped
    as ``restart`` and reception starts over. A frame with a wrong CRC is dropped as ``crc``:
    a real slave then stays silent and the host times out and retries. Never raises.
    """

    def __init__(self) -> None:
        self.in_frame = False
        """Whether an STX has been received and the rest of its frame is awaited."""
        self._escape = False
        self._buf = bytearray()
        self.discarded = 0
        """Bytes skipped while hunting for an STX."""

    @property
    def pending(self) -> bool:
        """Whether part of a frame has been received and the rest is awaited."""
        return self.in_frame

    def reset(self) -> None:
        """Forget any partial frame."""
        self.in_frame = False
        self._escape = False
        self._buf.clear()

    def whole(self, data: bytes) -> Packet | None:
        """The packet ``data`` is when no frame is in progress and ``data`` is exactly one whole
        frame with a good CRC and no stuffed byte (what a host writes at a time); None for
        anything else, which :meth:`feed` then reads byte by byte. Plain frames are remembered
        by their bytes, so a repeated POLL costs one dictionary lookup."""
        if self.in_frame or type(data) is not bytes:
            return None
        packet = _WHOLE.get(data)
        if packet is not None:
            return packet
        if (
            len(data) < 5
            or data[0] != STX
            or data[2] + 5 != len(data)
            or data.find(b"\x7f", 1) >= 0
        ):
            return None
        packet = _whole_frame(data)
        if packet is not None and packet.data[:1] != _ENCRYPTED:
            if len(_WHOLE) >= _WHOLE_LIMIT:
                _WHOLE.clear()
            _WHOLE[data] = packet
        return packet

    def feed(self, data: bytes) -> list[Packet | BadFrame]:
        """Take the next bytes; return every packet (or dropped frame) they complete, in order."""
        if (
            not self.in_frame
            and len(data) >= 5
            and data[0] == STX
            and data[2] + 5 == len(data)
            and data.find(b"\x7f", 1) < 0
        ):
            # Fast path: exactly one whole frame without stuffed bytes (most host writes).
            packet = _whole_frame(bytes(data))
            if packet is not None:
                return [packet]
        out: list[Packet | BadFrame] = []
        for byte in data:
            if not self.in_frame:
                if byte == STX:
                    self.in_frame = True
                    self._escape = False
                    self._buf.clear()
                else:
                    self.discarded += 1
                continue
            if self._escape:
                self._escape = False
                if byte != STX:
                    # The previous 0x7F was a new STX: drop what we had, start again.
                    out.append(BadFrame("restart", bytes(self._buf)))
                    self._buf.clear()
                    self._append(byte, out)
                    continue
                self._append(STX, out)
            elif byte == STX:
                self._escape = True
            else:
                self._append(byte, out)
        return out

    def _append(self, byte: int, out: list[Packet | BadFrame]) -> None:
        buf = self._buf
        buf.append(byte)
        if len(buf) < 2 or len(buf) < buf[1] + 4:
            return
        raw = bytes(buf)
        self.reset()
        body, crc = raw[:-2], int.from_bytes(raw[-2:], "little")
        if crc16(body) != crc:
            log.debug("SSP frame with bad CRC dropped: %s", raw.hex(" "))
            out.append(BadFrame("crc", raw))
            return
        out.append(Packet(bool(body[0] & SEQ_FLAG), body[0] & MAX_ADDRESS, body[2:]))
