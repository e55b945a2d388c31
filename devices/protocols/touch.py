"""The serial protocol of EETI eGalax (TouchKit) touch controllers: 5-byte coordinate packets in
the controller's raw space, and ``0x0A LEN payload`` command packets.

Coordinate packet (as read by Linux ``egalax_ts_serial.c``): byte 0 = ``1 0 0 0 0 R R T`` with
bit 7 the sync (start) bit, bits 1-2 the resolution (``0`` = 11 bits, ``1`` = 12, ``2`` = 13,
``3`` = 14 bits per axis) and bit 0 the touch (pen down) bit; bytes 1-4 are X high, X low,
Y high, Y low, seven bits each with bit 7 clear (value = ``high << 7 | low``).

Command packets (host to controller and back): ``0x0A LEN payload``; the replies echo the
command letter. From the TouchKit guide (and Linux ``touchkit_ps2.c``): ``A`` check active
(reply ``0A 01 41``), ``D`` firmware version (reply ``'D'`` + ASCII), ``E`` controller type
(reply ``'E'`` + ASCII). Workbench extensions in the same framing: ``K`` get calibration (reply
``'K'`` + four big-endian uint16: raw X at the left and right screen edges, raw Y at the top and
bottom edges), ``k`` + the same eight bytes to store a calibration (reply ``'k'``), ``C`` run
the controller's recalibration (reply ``'C'``), ``R`` reset (reply ``'R'``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from workbench.errors import ProtocolError

log = logging.getLogger(__name__)

SYNC = 0x80
TOUCH_BIT = 0x01
RESOLUTION_MASK = 0x06
CMD = 0x0A
MAX_PAYLOAD = 64

CHECK_ACTIVE = ord("A")
FIRMWARE = ord("D")
CONTROLLER_TYPE = ord("E")
GET_CALIBRATION = ord("K")
SET_CALIBRATION = ord("k")
RECALIBRATE = ord("C")
RESET = ord("R")


@dataclass(frozen=True, slots=True)
class TouchPacket:
    """One coordinate report: raw X, Y, whether the pen is down, and bits per axis (11-14)."""

    x: int
    y: int
    down: bool
    bits: int = 11

    def encode(self) -> bytes:
        """The 5 bytes on the wire."""
        if not 11 <= self.bits <= 14:
            raise ProtocolError(f"resolution(={self.bits} bits) must be 11..14")
        top = (1 << self.bits) - 1
        for name, v in (("x", self.x), ("y", self.y)):
            if not 0 <= v <= top:
                raise ProtocolError(f"{name}(={v}) must be 0..{top} at {self.bits} bits")
        head = SYNC | ((self.bits - 11) << 1) | (TOUCH_BIT if self.down else 0)
        return bytes([head, self.x >> 7, self.x & 0x7F, self.y >> 7, self.y & 0x7F])


def decode_touch(packet: bytes) -> TouchPacket:
    """A coordinate packet from its 5 bytes; raises :class:`ProtocolError` if malformed."""
    if len(packet) != 5:
        raise ProtocolError(f"coordinate packet has {len(packet)} bytes, not 5")
    head = packet[0]
    if not head & SYNC or head & 0x78:
        raise ProtocolError(f"coordinate packet header 0x{head:02X} is not 1000_0RRT")
    if any(b & 0x80 for b in packet[1:]):
        raise ProtocolError("coordinate packet data bytes must have bit 7 clear")
    bits = 11 + ((head & RESOLUTION_MASK) >> 1)
    high_mask = (1 << (bits - 7)) - 1
    if packet[1] & ~high_mask or packet[3] & ~high_mask:
        raise ProtocolError(f"coordinate high byte exceeds {bits} bits")
    x = packet[1] << 7 | packet[2]
    y = packet[3] << 7 | packet[4]
    return TouchPacket(x, y, bool(head & TOUCH_BIT), bits)


@dataclass(frozen=True, slots=True)
class CommandPacket:
    """A command or its reply: ``payload[0]`` is the command letter."""

    payload: bytes

    @property
    def code(self) -> int:
        """The command letter (0 for an empty payload)."""
        return self.payload[0] if self.payload else 0

    def encode(self) -> bytes:
        """``0x0A LEN payload``."""
        if not 1 <= len(self.payload) <= MAX_PAYLOAD:
            raise ProtocolError(
                f"command payload length(={len(self.payload)}) must be 1..{MAX_PAYLOAD}"
            )
        return bytes([CMD, len(self.payload)]) + self.payload


@dataclass(frozen=True, slots=True)
class Calibration:
    """Raw values at the screen edges: X at pixel 0 and at ``width``, Y at 0 and ``height``."""

    x_left: int
    x_right: int
    y_top: int
    y_bottom: int

    def encode(self) -> bytes:
        """Eight bytes, four big-endian uint16."""
        values = (self.x_left, self.x_right, self.y_top, self.y_bottom)
        if not all(0 <= v <= 0xFFFF for v in values):
            raise ProtocolError(f"calibration values {values} must be 0..65535")
        return b"".join(v.to_bytes(2, "big") for v in values)

    @classmethod
    def decode(cls, data: bytes) -> Calibration:
        """From the eight bytes of a ``K`` reply or ``k`` command."""
        if len(data) != 8:
            raise ProtocolError(f"calibration data has {len(data)} bytes, not 8")
        if data[0:2] == data[2:4] or data[4:6] == data[6:8]:
            raise ProtocolError("calibration edges must differ on each axis")
        v = [int.from_bytes(data[i : i + 2], "big") for i in range(0, 8, 2)]
        return cls(*v)

    def to_screen(self, x: int, y: int, width: int, height: int) -> tuple[float, float]:
        """Map raw controller coordinates to screen pixels (what the host's driver does)."""
        sx = (x - self.x_left) * width / (self.x_right - self.x_left)
        sy = (y - self.y_top) * height / (self.y_bottom - self.y_top)
        return sx, sy


@dataclass(frozen=True, slots=True)
class Garbage:
    """Bytes the reader skipped while looking for a packet start."""

    raw: bytes


Item = TouchPacket | CommandPacket | Garbage


class PacketReader:
    """Splits a controller's byte stream (cut anywhere) into coordinate and command packets.

    With ``commands_only`` (the controller's side) coordinate packets are not expected and every
    byte outside a command packet is skipped.
    """

    def __init__(self, *, commands_only: bool = False) -> None:
        self._buf = bytearray()
        self._commands_only = commands_only

    @property
    def pending(self) -> int:
        """Bytes of a packet begun but not complete (0 between packets)."""
        return len(self._buf)

    def reset(self) -> int:
        """Abandon a packet begun (its sender went quiet); returns how many bytes were dropped."""
        dropped = len(self._buf)
        self._buf.clear()
        return dropped

    def feed(self, data: bytes) -> list[Item]:
        """Take more bytes; return every packet completed by them, in order."""
        self._buf += data
        out: list[Item] = []
        junk = bytearray()
        while self._buf:
            head = self._buf[0]
            if head == CMD:
                if len(self._buf) < 2:
                    break
                n = self._buf[1]
                if not 1 <= n <= MAX_PAYLOAD:
                    junk.append(self._buf.pop(0))
                    continue
                if len(self._buf) < 2 + n:
                    break
                out.extend(self._flush(junk))
                out.append(CommandPacket(bytes(self._buf[2 : 2 + n])))
                del self._buf[: 2 + n]
                continue
            if head & SYNC and not self._commands_only:
                if len(self._buf) < 5:
                    break
                try:
                    packet = decode_touch(bytes(self._buf[:5]))
                except ProtocolError:
                    junk.append(self._buf.pop(0))
                    continue
                out.extend(self._flush(junk))
                out.append(packet)
                del self._buf[:5]
                continue
            junk.append(self._buf.pop(0))
        out.extend(self._flush(junk))
        return out

    @staticmethod
    def _flush(junk: bytearray) -> list[Item]:
        if not junk:
            return []
        item = Garbage(bytes(junk))
        junk.clear()
        return [item]
