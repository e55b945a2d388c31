"""The messages of ESC/POS, the command language of Epson-compatible receipt printers, and their
bytes: what :class:`escpos.Parser` reads from a host's byte stream, and :func:`encode` back (the
parser's inverse). Pure data: no I/O, no clock."""

from __future__ import annotations

import re
from dataclasses import dataclass

from workbench.errors import ProtocolError

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
EOT, ENQ, DC4, NUL = 0x04, 0x05, 0x14, 0x00
LF, CR, HT, FF, CAN, BEL = 0x0A, 0x0D, 0x09, 0x0C, 0x18, 0x07

TEXT_RUN = re.compile(rb"[\x20-\xff\n\r\t]+")
"""A run of printable bytes with the in-line layout controls LF, CR and HT."""

# fmt: off
NAMES: dict[bytes, str] = {
    b"\x1b@": "init", b"\x1ba": "align", b"\x1bE": "bold", b"\x1bG": "double_strike",
    b"\x1b!": "print_mode", b"\x1bd": "feed_lines", b"\x1bJ": "feed_dots", b"\x1bt": "codepage",
    b"\x1b2": "default_line_spacing", b"\x1b3": "line_spacing", b"\x1bA": "line_spacing_60",
    b"\x1b+": "line_spacing_360", b"\x1b-": "underline", b"\x1bM": "font", b"\x1bp": "drawer_kick",
    b"\x1b{": "upside_down", b"\x1br": "color", b"\x1bB": "buzzer", b"\x1bc": "panel_or_sensor",
    b"\x1bR": "international_charset", b"\x1b=": "select_peripheral", b"\x1b?": "cancel_user_char",
    b"\x1dV": "cut", b"\x1bi": "partial_cut", b"\x1bm": "partial_cut",
    b"\x1d!": "char_size", b"\x1dB": "reverse", b"\x1db": "smoothing", b"\x1d|": "density",
    b"\x1dH": "hri_position", b"\x1df": "hri_font", b"\x1dh": "barcode_height",
    b"\x1dw": "barcode_width", b"\x1dr": "transmit_status", b"\x1dI": "printer_id",
    b"\x1da": "auto_status_back", b"\x1dg2": "maintenance_counter", b"\x1dg0": "reset_counter",
    b"\x1dL": "left_margin", b"\x1dW": "print_area_width", b"\x10\x04": "realtime_status",
    b"\x10\x05": "realtime_request", b"\x10\x14": "realtime_function",
}
"""Names of the commands the printer model acts on (for logs and :attr:`Command.name`)."""
# fmt: on


# -- messages ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Text:
    """Printable bytes in the current code page, with the layout controls LF, CR and HT."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Control:
    """A single-byte control other than the in-line ones: FF, CAN or BEL."""

    code: int


@dataclass(frozen=True, slots=True)
class Command:
    """A fixed-length command: its prefix (``ESC a``, ``GS g 2``, ``DLE EOT``...) and arguments."""

    prefix: bytes
    args: bytes = b""

    @property
    def name(self) -> str:
        """A readable name (``align``, ``cut``...), or the prefix in hex when not one we act on."""
        return NAMES.get(self.prefix, NAMES.get(self.prefix[:2], self.prefix.hex(" ")))

    @property
    def n(self) -> int:
        """The first argument byte (0 when there is none)."""
        return self.args[0] if self.args else 0


@dataclass(frozen=True, slots=True)
class Barcode:
    """``GS k``: ``system`` 0-6 is function A (NUL-terminated), 65-79 function B (length)."""

    system: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Block:
    """A length-prefixed block (``GS ( k`` QR, ``GS ( L`` graphics, ``GS 8 L``...).

    ``payload`` is what follows the length field: for ``GS ( k`` that is ``cn fn [m] data``.
    """

    prefix: bytes
    payload: bytes

    @property
    def size_bytes(self) -> int:
        """Width of the length field: 4 for ``GS 8 L``, else 2."""
        return 4 if self.prefix == b"\x1d8L" else 2


@dataclass(frozen=True, slots=True)
class Raster:
    """``GS v 0 m xL xH yL yH d...``: a raster bit image ``width_bytes`` x ``height`` dots."""

    mode: int
    width_bytes: int
    height: int
    data: bytes


@dataclass(frozen=True, slots=True)
class BitImage:
    """``ESC * m nL nH d...``: one row of a column-format bit image (8 or 24 dots high)."""

    mode: int
    width: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Tabs:
    """``ESC D n1 ... nk NUL``: horizontal tab positions in characters."""

    positions: bytes


@dataclass(frozen=True, slots=True)
class Unknown:
    """Bytes that form no command this printer knows; they were skipped."""

    data: bytes


Message = Text | Control | Command | Barcode | Block | Raster | BitImage | Tabs | Unknown


# -- encoder -------------------------------------------------------------------------------------
def encode(msg: Message) -> bytes:
    """The bytes of one message, as a host sends them (the parser's inverse)."""
    if isinstance(msg, Text):
        if TEXT_RUN.fullmatch(msg.data) is None:
            raise ProtocolError(f"text(={msg.data!r}) holds control bytes other than LF, CR, HT")
        return msg.data
    if isinstance(msg, Control):
        return bytes((msg.code,))
    if isinstance(msg, Command):
        return msg.prefix + msg.args
    if isinstance(msg, Barcode):
        if msg.system <= 6:
            if b"\x00" in msg.data:
                raise ProtocolError(f"function A barcode data(={msg.data!r}) cannot hold NUL")
            return b"\x1dk" + bytes((msg.system,)) + msg.data + b"\x00"
        if len(msg.data) > 255:
            raise ProtocolError(f"barcode data length(={len(msg.data)}) must be <= 255")
        return b"\x1dk" + bytes((msg.system, len(msg.data))) + msg.data
    if isinstance(msg, Block):
        return msg.prefix + len(msg.payload).to_bytes(msg.size_bytes, "little") + msg.payload
    if isinstance(msg, Raster):
        if len(msg.data) != msg.width_bytes * msg.height:
            raise ProtocolError(
                f"raster data length(={len(msg.data)}) must be {msg.width_bytes}x{msg.height}"
            )
        head = bytes((msg.mode,)) + msg.width_bytes.to_bytes(2, "little")
        return b"\x1dv0" + head + msg.height.to_bytes(2, "little") + msg.data
    if isinstance(msg, BitImage):
        return b"\x1b*" + bytes((msg.mode,)) + msg.width.to_bytes(2, "little") + msg.data
    if isinstance(msg, Tabs):
        return b"\x1bD" + msg.positions + b"\x00"
    return msg.data
