"""DDC/CI packets carrying MCCS VCP commands (monitor brightness, power mode, usage hours), as they
cross the display's I2C bus, bridged onto a serial line byte for byte.

On the bus the host writes to address 0x6E: ``6E 51 (0x80|n) payload checksum``, where the
checksum is the XOR of every byte from the destination address 0x6E on. It reads the reply from
0x6F: ``6F 6E (0x80|n) payload checksum``, the checksum computed with the virtual host address
0x50 in place of the first byte (``0x50 ^ 0x6E ^ len ^ payload...``; ddcutil's
``ddc_checksum(..., altmode=True)`` does exactly this). The bridge sends both directions with the
address byte first. A display that is not ready answers with the null message ``6F 6E 80 BE``.

Payloads: Get VCP Feature ``01 code`` -> reply ``02 result code type maxH maxL curH curL``
(result 0x00 no error, 0x01 unsupported code; type 0x00 set parameter, 0x01 momentary);
Set VCP Feature ``03 code valH valL`` (no reply); Capabilities Request ``F3 offH offL`` ->
reply ``E3 offH offL text...`` (at most 32 bytes of text per fragment, empty at the end).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from workbench.errors import ProtocolError

log = logging.getLogger(__name__)

DISPLAY_WRITE = 0x6E
DISPLAY_READ = 0x6F
HOST_SOURCE = 0x51
DISPLAY_SOURCE = 0x6E
VIRTUAL_HOST = 0x50
LENGTH_FLAG = 0x80
MAX_PAYLOAD = 35
"""Longest payload: a capabilities fragment of 32 text bytes, its opcode and offset."""

GET_VCP = 0x01
GET_VCP_REPLY = 0x02
SET_VCP = 0x03
CAPABILITIES = 0xF3
CAPABILITIES_REPLY = 0xE3

RESULT_OK = 0x00
RESULT_UNSUPPORTED = 0x01
TYPE_SET_PARAMETER = 0x00
TYPE_MOMENTARY = 0x01

# VCP codes used by the kiosk display.
VCP_LUMINANCE = 0x10
VCP_INPUT_SOURCE = 0x60
VCP_USAGE_HOURS = 0xC0
VCP_VERSION = 0xDF
VCP_POWER_MODE = 0xD6
VCP_MEASURED_LUMINANCE = 0xE1
"""Manufacturer-specific (0xE0-0xFF): backlight luminance measured by the panel's sensor, cd/m²."""

POWER_ON = 0x01
POWER_STANDBY = 0x02
POWER_SUSPEND = 0x03
POWER_OFF = 0x04
POWER_HARD_OFF = 0x05


def checksum(data: bytes, first: int | None = None) -> int:
    """XOR of ``data``, with its first byte replaced by ``first`` when given (reply checksums)."""
    value = 0
    for i, byte in enumerate(data):
        value ^= first if i == 0 and first is not None else byte
    return value


def encode_request(payload: bytes) -> bytes:
    """A host-to-display packet: ``6E 51 len payload chk``."""
    if not 1 <= len(payload) <= MAX_PAYLOAD:
        raise ProtocolError(f"DDC/CI payload length(={len(payload)}) must be 1..{MAX_PAYLOAD}")
    body = bytes([DISPLAY_WRITE, HOST_SOURCE, LENGTH_FLAG | len(payload)]) + payload
    return body + bytes([checksum(body)])


def encode_reply(payload: bytes) -> bytes:
    """A display-to-host packet: ``6F 6E len payload chk`` (checksum over 0x50, 0x6E...)."""
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError(f"DDC/CI payload length(={len(payload)}) must be <= {MAX_PAYLOAD}")
    body = bytes([DISPLAY_READ, DISPLAY_SOURCE, LENGTH_FLAG | len(payload)]) + payload
    return body + bytes([checksum(body, VIRTUAL_HOST)])


NULL_REPLY = encode_reply(b"")
"""``6F 6E 80 BE``: the display has nothing to say (not ready, or the request was not understood)."""


@dataclass(frozen=True, slots=True)
class GetVcp:
    """Get VCP Feature request."""

    code: int

    def payload(self) -> bytes:
        """``01 code``."""
        return bytes([GET_VCP, self.code])


@dataclass(frozen=True, slots=True)
class SetVcp:
    """Set VCP Feature request (the display does not reply)."""

    code: int
    value: int

    def payload(self) -> bytes:
        """``03 code valH valL``."""
        if not 0 <= self.value <= 0xFFFF:
            raise ProtocolError(f"VCP value(={self.value}) must be 0..65535")
        return bytes([SET_VCP, self.code]) + self.value.to_bytes(2, "big")


@dataclass(frozen=True, slots=True)
class CapabilitiesRequest:
    """Capabilities Request for the fragment at ``offset``."""

    offset: int

    def payload(self) -> bytes:
        """``F3 offH offL``."""
        return bytes([CAPABILITIES]) + self.offset.to_bytes(2, "big")


@dataclass(frozen=True, slots=True)
class VcpReply:
    """Get VCP Feature reply."""

    result: int
    code: int
    type: int
    maximum: int
    current: int

    def payload(self) -> bytes:
        """``02 result code type maxH maxL curH curL``."""
        if not (0 <= self.maximum <= 0xFFFF and 0 <= self.current <= 0xFFFF):
            raise ProtocolError(
                f"VCP maximum/current ({self.maximum}, {self.current}) must be 0..65535"
            )
        head = bytes([GET_VCP_REPLY, self.result, self.code, self.type])
        return head + self.maximum.to_bytes(2, "big") + self.current.to_bytes(2, "big")


@dataclass(frozen=True, slots=True)
class CapabilitiesReply:
    """One capabilities fragment (empty ``text`` marks the end)."""

    offset: int
    text: bytes

    def payload(self) -> bytes:
        """``E3 offH offL text``."""
        if len(self.text) > 32:
            raise ProtocolError(f"capabilities fragment of {len(self.text)} bytes exceeds 32")
        return bytes([CAPABILITIES_REPLY]) + self.offset.to_bytes(2, "big") + self.text


@dataclass(frozen=True, slots=True)
class NullMessage:
    """The null message (empty payload)."""

    def payload(self) -> bytes:
        """Nothing."""
        return b""


Request = GetVcp | SetVcp | CapabilitiesRequest
Reply = VcpReply | CapabilitiesReply | NullMessage


def parse_request(payload: bytes) -> Request:
    """A host request from a packet payload; raises :class:`ProtocolError` for anything else."""
    if not payload:
        raise ProtocolError("empty DDC/CI request")
    op = payload[0]
    if op == GET_VCP and len(payload) == 2:
        return GetVcp(payload[1])
    if op == SET_VCP and len(payload) == 4:
        return SetVcp(payload[1], int.from_bytes(payload[2:4], "big"))
    if op == CAPABILITIES and len(payload) == 3:
        return CapabilitiesRequest(int.from_bytes(payload[1:3], "big"))
    raise ProtocolError(
        f"unknown DDC/CI request opcode 0x{op:02X} with {len(payload) - 1} argument bytes"
    )


def parse_reply(payload: bytes) -> Reply:
    """A display reply from a packet payload; raises :class:`ProtocolError` for anything else."""
    if not payload:
        return NullMessage()
    op = payload[0]
    if op == GET_VCP_REPLY and len(payload) == 8:
        return VcpReply(
            payload[1],
            payload[2],
            payload[3],
            int.from_bytes(payload[4:6], "big"),
            int.from_bytes(payload[6:8], "big"),
        )
    if op == CAPABILITIES_REPLY and 3 <= len(payload) <= 35:
        return CapabilitiesReply(int.from_bytes(payload[1:3], "big"), bytes(payload[3:]))
    raise ProtocolError(f"unknown DDC/CI reply opcode 0x{op:02X} with {len(payload) - 1} bytes")


def decode_packet(packet: bytes, *, reply: bool) -> bytes:
    """The payload of one complete packet; raises :class:`ProtocolError` if malformed."""
    addr, source, checksum_first = (
        (DISPLAY_READ, DISPLAY_SOURCE, VIRTUAL_HOST)
        if reply
        else (DISPLAY_WRITE, HOST_SOURCE, None)
    )
    if len(packet) < 4:
        raise ProtocolError(f"DDC/CI packet of {len(packet)} bytes is shorter than 4")
    if packet[0] != addr or packet[1] != source:
        raise ProtocolError(
            f"DDC/CI packet starts {packet[:2].hex(' ')}, not {addr:02x} {source:02x}"
        )
    if not packet[2] & LENGTH_FLAG:
        raise ProtocolError(f"DDC/CI length byte 0x{packet[2]:02X} lacks the 0x80 flag")
    n = packet[2] & 0x7F
    if len(packet) != n + 4:
        raise ProtocolError(f"DDC/CI packet has {len(packet)} bytes but its length says {n + 4}")
    if checksum(packet[:-1], checksum_first) != packet[-1]:
        raise ProtocolError(f"DDC/CI checksum 0x{packet[-1]:02X} is wrong")
    return bytes(packet[3:-1])


@dataclass(frozen=True, slots=True)
class BadPacket:
    """A packet dropped by the reader (wrong checksum or length); ``raw`` is what arrived."""

    raw: bytes


class PacketReader:
    """Splits a bridged DDC/CI byte stream (cut anywhere) into payloads, skipping noise.

    ``reply=False`` reads host requests (the display's side), ``reply=True`` display replies.
    """

    def __init__(self, *, reply: bool) -> None:
        self._reply = reply
        self._head = bytes(
            [DISPLAY_READ, DISPLAY_SOURCE] if reply else [DISPLAY_WRITE, HOST_SOURCE]
        )
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes | BadPacket]:
        """Take more bytes; return every payload (or bad packet) completed by them."""
        self._buf += data
        out: list[bytes | BadPacket] = []
        while self._buf:
            start = self._buf.find(self._head)
            if start < 0:
                # Keep a trailing first address byte: the rest of the header may follow.
                keep = 1 if self._buf[-1] == self._head[0] else 0
                del self._buf[: len(self._buf) - keep]
                break
            del self._buf[:start]
            if len(self._buf) < 3:
                break
            n = self._buf[2] & 0x7F
            if not self._buf[2] & LENGTH_FLAG or n > MAX_PAYLOAD:
                out.append(BadPacket(bytes(self._buf[:3])))
                del self._buf[0]
                continue
            if len(self._buf) < n + 4:
                break
            packet = bytes(self._buf[: n + 4])
            try:
                out.append(decode_packet(packet, reply=self._reply))
            except ProtocolError:
                out.append(BadPacket(packet))
                del self._buf[0]
                continue
            del self._buf[: n + 4]
        return out
