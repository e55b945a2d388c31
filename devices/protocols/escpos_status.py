"""ESC/POS replies: real-time status (``DLE EOT n``), ``GS r`` sensor status, automatic status
back (``GS a``), printer ID (``GS I``) and maintenance counters (``GS g 2``), encoded from one
snapshot of the printer's condition and decoded again for hosts and diagnostics.

Bit layouts follow the Epson ESC/POS reference (TM-T88/TM-T20 family):

- ``DLE EOT 1`` printer: bit 2 drawer kick connector pin 3 high, bit 3 offline.
- ``DLE EOT 2`` offline cause: bit 2 cover open, bit 3 paper fed by the FEED button, bit 5
  printing stopped by paper end, bit 6 an error occurred.
- ``DLE EOT 3`` error cause: bit 3 autocutter error, bit 5 unrecoverable error, bit 6
  automatically recoverable error (head overheat). Bit 2 is undefined on Epson models.
- ``DLE EOT 4`` roll paper sensor: bits 2-3 near end, bits 5-6 paper end.
- In all four, bits 1 and 4 are fixed at 1 and bits 0 and 7 at 0 (a healthy printer says 0x12).
- ``GS r 1`` paper sensor: bits 0-1 near end, bits 2-3 paper end; ``GS r 2`` drawer: bit 0 pin 3.
  Bit 4 is 0, which is how a host tells these bytes from real-time status.
- ``GS g 2 m nL nH`` answers ``_`` (0x5F), the counter in decimal ASCII, ``NUL``; counters 20/148
  line feeds, 21/149 head energising, 50/178 autocuts, 70/198 operating hours (resettable /
  cumulative); ``GS g 0 m nL nH`` resets a resettable one.
- ``GS I n``: n = 1/49 model ID, 2/50 type ID, 3/51 ROM version ID, one byte each; n = 65..69
  firmware, maker, model, serial, font as ``_`` + text + ``NUL``.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import ProtocolError

FIXED_BITS = 0x12
"""Bits 1 and 4 set: what every ``DLE EOT`` reply carries."""

RESETTABLE_COUNTERS = (20, 21, 50, 70)
CUMULATIVE_COUNTERS = (148, 149, 178, 198)
COUNTER_NAMES = {
    20: "line_feeds",
    21: "head_energising",
    50: "autocuts",
    70: "operating_hours",
}
"""Counter numbers as Epson defines them; cumulative ones are the same + 128."""

CODEPAGES: dict[int, str] = {
    0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 13: "cp857", 14: "cp737",
    15: "iso8859_7", 16: "cp1252", 17: "cp866", 18: "cp852", 19: "cp858", 21: "cp874",
    32: "cp720", 33: "cp775", 34: "cp855", 35: "cp861", 36: "cp862", 37: "cp864", 38: "cp869",
    39: "iso8859_2", 40: "iso8859_15", 45: "cp1250", 46: "cp1251", 47: "cp1253", 48: "cp1254",
    49: "cp1255", 50: "cp1256", 51: "cp1257", 52: "cp1258",
}  # fmt: skip
"""``ESC t n`` character code tables (Epson numbering, as python-escpos's default profile)
mapped to Python codecs; tables Python lacks print as code page 437."""


@dataclass(frozen=True, slots=True)
class Condition:
    """What the printer's sensors and error logic say right now."""

    offline: bool = False
    drawer_pin3: bool = False
    cover_open: bool = False
    feeding: bool = False
    """Paper is being fed by the FEED button."""
    paper_end_stop: bool = False
    error: bool = False
    cutter_error: bool = False
    unrecoverable_error: bool = False
    auto_recoverable_error: bool = False
    near_end: bool = False
    paper_end: bool = False


def realtime_status(c: Condition, n: int) -> bytes:
    """The one-byte answer to ``DLE EOT n`` (empty for an n the printer does not answer)."""
    if n == 1:
        value = FIXED_BITS | c.drawer_pin3 << 2 | c.offline << 3
    elif n == 2:
        value = FIXED_BITS | c.cover_open << 2 | c.feeding << 3
        value |= c.paper_end_stop << 5 | c.error << 6
    elif n == 3:
        value = FIXED_BITS | c.cutter_error << 3 | c.unrecoverable_error << 5
        value |= c.auto_recoverable_error << 6
    elif n == 4:
        value = FIXED_BITS | (0x0C if c.near_end else 0) | (0x60 if c.paper_end else 0)
    else:
        return b""
    return bytes((value,))


def transmit_status(c: Condition, n: int) -> bytes:
    """The answer to ``GS r n``: paper sensor (1 or 49) or drawer connector (2 or 50)."""
    if n in (1, 49):
        return bytes(((0x03 if c.near_end else 0) | (0x0C if c.paper_end else 0),))
    if n in (2, 50):
        return bytes((int(c.drawer_pin3),))
    return b""


def auto_status(c: Condition) -> bytes:
    """The 4-byte automatic status back (``GS a``) block."""
    first = 0x10 | c.drawer_pin3 << 2 | c.offline << 3 | c.cover_open << 5 | c.feeding << 6
    second = c.cutter_error << 3 | c.unrecoverable_error << 5 | c.auto_recoverable_error << 6
    third = (0x03 if c.near_end else 0) | (0x0C if c.paper_end else 0)
    return bytes((first, second, third, 0x00))


@dataclass(frozen=True, slots=True)
class Identity:
    """What ``GS I`` reports."""

    model_id: int = 0x20
    type_id: int = 0x02
    rom_version_id: int = 0x0F
    firmware: str = "30.07 ESC/POS"
    maker: str = "EPSON"
    model: str = "TM-T88V"
    serial_number: str = ""
    font: str = "ANK"


def printer_id(identity: Identity, n: int) -> bytes:
    """The answer to ``GS I n`` (empty for an n the printer does not answer)."""
    one = {1: identity.model_id, 2: identity.type_id, 3: identity.rom_version_id}
    if n in one or n - 48 in one:
        return bytes((one.get(n, one.get(n - 48, 0)),))
    text = {
        65: identity.firmware,
        66: identity.maker,
        67: identity.model,
        68: identity.serial_number,
        69: identity.font,
    }.get(n)
    return block_reply(text) if text is not None else b""


def block_reply(text: str) -> bytes:
    """``_`` + ASCII text + ``NUL``: the block form of ``GS I`` (n >= 65) and ``GS g 2`` replies."""
    data = text.encode("ascii", "replace")
    if b"\x00" in data:
        raise ProtocolError(f"reply text(={text!r}) cannot hold NUL")
    return b"_" + data + b"\x00"


def counter_reply(value: int) -> bytes:
    """The ``GS g 2`` answer for a counter value."""
    if value < 0:
        raise ProtocolError(f"counter value(={value}) must be >= 0")
    return block_reply(str(value))


def parse_block_reply(data: bytes) -> str:
    """The text of a ``_ ... NUL`` reply (what a host reads back)."""
    if len(data) < 2 or data[0] != 0x5F or data[-1] != 0:
        raise ProtocolError(f"not a '_' ... NUL block reply: {data.hex(' ')}")
    return data[1:-1].decode("ascii", "replace")


def parse_counter_reply(data: bytes) -> int:
    """The counter value of a ``GS g 2`` answer."""
    text = parse_block_reply(data)
    if not text.isdigit() or len(text) > 10:
        raise ProtocolError(f"counter reply(={text!r}) must be 1-10 decimal digits")
    return int(text)


def maintenance_counter_request(counter: int) -> bytes:
    """``GS g 2 0 nL nH``: ask for one maintenance counter."""
    return b"\x1dg2\x00" + counter.to_bytes(2, "little")


def decode_status(n: int, value: int) -> set[str]:
    """Names of the conditions a ``DLE EOT n`` byte reports (for hosts and diagnostics)."""
    if value & 0x93 != FIXED_BITS:
        raise ProtocolError(f"DLE EOT {n} reply 0x{value:02X} lacks the fixed bits (0x12 in 0x93)")
    bits = {
        1: {2: "drawer_pin3", 3: "offline"},
        2: {2: "cover_open", 3: "feeding", 5: "paper_end_stop", 6: "error"},
        3: {3: "cutter_error", 5: "unrecoverable_error", 6: "auto_recoverable_error"},
        4: {2: "near_end", 3: "near_end", 5: "paper_end", 6: "paper_end"},
    }.get(n, {})
    return {name for bit, name in bits.items() if value >> bit & 1}
