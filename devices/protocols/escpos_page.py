"""What an ESC/POS print stream puts on paper: text lines laid out in the print modes, barcodes,
QR codes and images as placeholders, and how far each step moves the paper, up to the cut that
finishes a receipt. Pure interpretation of parsed messages; no clock, no I/O.

Geometry follows an Epson TM-T88-class 80 mm head at 180 dpi: font A 12x24 dots, font B 9x17,
default line spacing 1/6 inch (30 dots), 42 columns of font A. A line advances by the larger of
the line spacing and the tallest thing on it. Receipts are rendered as text: alignment with
spaces within the column count, graphics as ``[BARCODE EAN13 4006381333931]``, ``[QR hello]``,
``[IMAGE 384x120]``.

The memo of whole chunks' layouts (:meth:`Page.layout`, :meth:`Page.known_layout`, the
:class:`Layout` a page settles in) is :mod:`devices.protocols.escpos_layouts`, mixed into
:class:`Page` (its names importable from here).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from devices.protocols.escpos import (
    Barcode,
    BitImage,
    Block,
    Command,
    Message,
    Raster,
    Text,
)
from devices.protocols.escpos_layouts import Layout, PageLayouts
from devices.protocols.escpos_status import CODEPAGES

log = logging.getLogger(__name__)

BARCODE_NAMES = {
    0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "CODABAR",
    65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39", 70: "ITF", 71: "CODABAR",
    72: "CODE93", 73: "CODE128", 74: "GS1-128", 75: "GS1 DATABAR OMNIDIRECTIONAL",
    76: "GS1 DATABAR TRUNCATED", 77: "GS1 DATABAR LIMITED", 78: "GS1 DATABAR EXPANDED",
}  # fmt: skip
_QR_BYTES_L = (17, 32, 53, 78, 106, 134, 154, 192, 230, 271, 321, 367, 425, 458, 520, 586)
"""Byte-mode capacity of QR versions 1-16 at level L (M/Q/H hold about 0.8/0.6/0.45 of it)."""
_QR_EC_FACTOR = {48: 1.0, 49: 0.79, 50: 0.6, 51: 0.45}
MAX_PAGE_LINES = 2000
"""Lines kept for a receipt not cut yet (a host that never cuts must not grow memory)."""

Step = tuple[float, int, str | None]
"""What one message did: paper advanced (mm), head dot rows energised, the finished receipt
text when it cut (``""`` for a cut with nothing printed), else None."""
NOTHING: Step = (0.0, 0, None)


@dataclass(slots=True)
class Modes:
    """Print modes set by commands and reset by ``ESC @``."""

    align: int = 0
    bold: bool = False
    font_b: bool = False
    width: int = 1
    height: int = 1
    codepage: int = 0
    spacing_dots: float = 30.0
    barcode_height: int = 162
    hri: int = 0
    qr_size: int = 3
    qr_ec: int = 48
    qr_data: bytes = b""
    graphics: tuple[int, int] | None = None
    """Width and height (dots) of the image stored by ``GS ( L`` function 112."""


@dataclass(slots=True)
class Page(PageLayouts):
    """The receipt being printed: modes, the current line and the lines printed since the cut."""

    columns: int = 42
    dpi: int = 180
    modes: Modes = field(default_factory=Modes)
    lines: list[str] = field(default_factory=list)
    line: list[str] = field(default_factory=list)
    line_align: int = 0
    line_width: int = 0
    """Columns the current line takes (double-width characters count twice)."""
    line_dots: float = 0.0
    """Height of the tallest thing on the current line, in dots."""
    _codec: str = "cp437"
    _stripe: tuple[int, int] | None = None
    """Width and height of the ``ESC *`` stripe that alone fills the current line."""
    _last_stripe: tuple[int, int, int] | None = None
    """Line index, width and height of the bit image the last stripes were merged into."""
    settled: Layout | None = field(default=None, compare=False, repr=False)
    """The layout whose end state the page is in, nothing printed or reset since: set by the
    caller that adopted that end (or knows the page already is in it), cleared by every change
    (:meth:`apply`, :meth:`reset`, :meth:`cut`, :meth:`feed_line`, :meth:`adopt`)."""

    # -- entry point ------------------------------------------------------------------------
    def apply(self, msg: Message) -> Step:
        """Print one message; returns how far it moved the paper and whether it cut."""
        self.settled = None
        if isinstance(msg, Text):
            return self._text(msg.data)
        if isinstance(msg, Command):
            return self._command(msg)
        if isinstance(msg, Raster):
            sy = 1 + (msg.mode >> 1 & 1)  # modes 2/3 (50/51) print double height
            return self._graphic(f"[IMAGE {msg.width_bytes * 8}x{msg.height}]", msg.height * sy)
        if isinstance(msg, Barcode):
            name = BARCODE_NAMES.get(msg.system, f"TYPE{msg.system}")
            text = msg.data.decode("ascii", "replace")
            hri = 24 if self.modes.hri else 0
            return self._graphic(f"[BARCODE {name} {text}]", self.modes.barcode_height + hri)
        if isinstance(msg, Block):
            return self._block(msg)
        if isinstance(msg, BitImage):
            dots = 24 if msg.mode >= 32 else 8
            stripe = (msg.width, dots) if not self.line else None
            self._put(f"[IMAGE {msg.width}x{dots}]", 0, dots)
            self._stripe = stripe
        return NOTHING

    def adopt(self, other: PageLayouts) -> None:
        """Take ``other``'s modes, line and lines (copies): the state after a known layout (the
        caller says which in :attr:`settled`)."""
        self.settled = None
        m = other.modes
        self.modes = Modes(
            m.align, m.bold, m.font_b, m.width, m.height, m.codepage, m.spacing_dots,
            m.barcode_height, m.hri, m.qr_size, m.qr_ec, m.qr_data, m.graphics,
        )  # fmt: skip
        self.lines = list(other.lines)
        self.line = list(other.line)
        self.line_align = other.line_align
        self.line_width = other.line_width
        self.line_dots = other.line_dots
        self._codec = other._codec
        self._stripe = other._stripe
        self._last_stripe = other._last_stripe

    # -- text ---------------------------------------------------------------------------------
    def _text(self, data: bytes) -> Step:
        if b"\t" in data:
            data = data.expandtabs(8)
        if b"\r" in data:
            data = data.replace(b"\r", b"")
        parts = data.decode(self._codec, "replace").split("\n")  # code pages are single-byte
        m = self.modes
        char_dots = (17 if m.font_b else 24) * m.height
        if parts[0]:
            self._put(parts[0], m.width, char_dots)
        if len(parts) == 1:
            return NOTHING
        mm, rows = self.feed_line()
        # Whole lines in between: laid out here in one loop (the bulk of any receipt).
        width, cols, align, lines = m.width, self.columns, m.align, self.lines
        full, blank = max(m.spacing_dots, char_dots), m.spacing_dots
        dots = 0.0
        for line in parts[1:-1]:
            if not line:
                lines.append("")
                dots += blank
                continue
            pad = cols - len(line) * width
            if pad > 0 and align in (1, 49):
                line = " " * (pad // 2) + line
            elif pad > 0 and align in (2, 50):
                line = " " * pad + line
            lines.append(line.rstrip())
            dots += full
            rows += char_dots
        if len(lines) > MAX_PAGE_LINES:
            del lines[: len(lines) - MAX_PAGE_LINES]
        if parts[-1]:
            self._put(parts[-1], m.width, char_dots)
        return mm + dots * 25.4 / self.dpi, rows, None

    def _put(self, text: str, width: int, dots: float) -> None:
        if not self.line:
            self.line_align = self.modes.align
        self._stripe = None
        self.line.append(text)
        self.line_width += len(text) * width
        if dots > self.line_dots:
            self.line_dots = dots

    def feed_line(self) -> tuple[float, int]:
        """LF: print the current line and advance by the line spacing (or the line's height)."""
        self.settled = None
        dots = max(self.modes.spacing_dots, self.line_dots)
        rows = int(self.line_dots)
        self._emit()
        return dots * 25.4 / self.dpi, rows

    def _emit(self) -> None:
        if self._stripe is not None and len(self.line) == 1 and self._merge_stripe(self._stripe):
            return
        text = "".join(self.line)
        pad = self.columns - self.line_width
        if pad > 0 and self.line_align in (1, 49):
            text = " " * (pad // 2) + text
        elif pad > 0 and self.line_align in (2, 50):
            text = " " * pad + text
        self.lines.append(text.rstrip())
        if len(self.lines) > MAX_PAGE_LINES:
            del self.lines[: len(self.lines) - MAX_PAGE_LINES]
        self.line.clear()
        self.line_width = 0
        self.line_dots = 0.0

    def _merge_stripe(self, stripe: tuple[int, int]) -> bool:
        """Consecutive ``ESC *`` stripes of one width print as one ``[IMAGE WxH]``."""
        width, dots = stripe
        last = self._last_stripe
        self._stripe = None
        self.line.clear()
        self.line_width, self.line_dots = 0, 0.0
        if last is not None and last[0] == len(self.lines) - 1 and last[1] == width:
            height = last[2] + dots
            self.lines[-1] = f"[IMAGE {width}x{height}]"
            self._last_stripe = (last[0], width, height)
            return True
        self.lines.append(f"[IMAGE {width}x{dots}]")
        self._last_stripe = (len(self.lines) - 1, width, dots)
        return True

    def _flush(self) -> Step:
        """Print a partly filled line (before a graphic, a dot feed or a cut)."""
        if not self.line:
            return NOTHING
        mm, rows = self.feed_line()
        return mm, rows, None

    def _graphic(self, placeholder: str, dots: int) -> Step:
        mm, rows, _ = self._flush()
        self._put(placeholder, 1, 0)
        self._emit()
        return mm + dots * 25.4 / self.dpi, rows + dots, None

    # -- commands -----------------------------------------------------------------------------
    def _command(self, cmd: Command) -> Step:
        p, n, m = cmd.prefix, cmd.n, self.modes
        if p == b"\x1ba":
            m.align = n
            if not self.line:
                self.line_align = n
        elif p == b"\x1bE":
            m.bold = bool(n & 1)
        elif p == b"\x1b!":
            m.font_b, m.bold = bool(n & 1), bool(n & 8)
            m.height, m.width = 1 + (n >> 4 & 1), 1 + (n >> 5 & 1)
        elif p == b"\x1d!":
            m.width, m.height = 1 + (n >> 4 & 7), 1 + (n & 7)
        elif p == b"\x1bM":
            m.font_b = n in (1, 49)
        elif p == b"\x1bt":
            m.codepage = n
            self._codec = CODEPAGES.get(n, "cp437")
        elif p == b"\x1b2":
            m.spacing_dots = 30.0
        elif p == b"\x1b3":
            m.spacing_dots = float(n)
        elif p == b"\x1bA":
            m.spacing_dots = n * self.dpi / 60
        elif p == b"\x1b+":
            m.spacing_dots = n * self.dpi / 360
        elif p == b"\x1bd":  # print and feed n lines (the printed line is the first of them)
            mm, rows, _ = self._flush()
            blank = max(0, n - 1) if rows or mm else n
            self.lines.extend([""] * blank)
            return mm + blank * m.spacing_dots * 25.4 / self.dpi, rows, None
        elif p == b"\x1bJ":  # print and feed n motion units
            rows = int(self.line_dots)
            if self.line:
                self._emit()
            return n * 25.4 / self.dpi, rows, None
        elif p == b"\x1dh":
            m.barcode_height = n
        elif p == b"\x1dH":
            m.hri = n & 3
        elif p == b"\x1b@":
            self.reset()
        elif p in (b"\x1dV", b"\x1bi", b"\x1bm"):
            return self.cut(cmd.args)
        return NOTHING

    def reset(self) -> None:
        """``ESC @``: modes back to power-on defaults; an unprinted partial line is dropped."""
        self.settled = None
        self.modes = Modes()
        self._codec = "cp437"
        self.line.clear()
        self.line_width = 0
        self.line_dots = 0.0

    def cut(self, args: bytes = b"") -> Step:
        """Print what is pending, feed if the cut form asks for it, cut; returns the receipt."""
        self.settled = None
        mm, rows, _ = self._flush()
        if len(args) == 2:  # GS V 65/66/97/98/103/104 n: feed n motion units first
            mm += args[1] * 25.4 / self.dpi
        lines = self.lines
        while lines and not lines[-1]:
            lines.pop()
        start = 0
        while start < len(lines) and not lines[start]:
            start += 1
        text = "\n".join(lines[start:])
        self.lines = []
        return mm, rows, text

    # -- 2D codes and graphics -----------------------------------------------------------------
    def _block(self, msg: Block) -> Step:
        payload = msg.payload
        if msg.prefix == b"\x1d(k" and len(payload) >= 2 and payload[0] == 49:
            fn, rest, m = payload[1], payload[2:], self.modes
            if fn == 67 and rest:
                m.qr_size = rest[0]
            elif fn == 69 and rest:
                m.qr_ec = rest[0]
            elif fn == 80 and rest:
                m.qr_data = rest[1:]
            elif fn == 81:
                modules = _qr_modules(len(m.qr_data), m.qr_ec)
                label = m.qr_data.decode("utf-8", "replace")
                return self._graphic(f"[QR {label}]", modules * m.qr_size)
        elif msg.prefix in (b"\x1d(L", b"\x1d8L") and len(payload) >= 2:
            fn = payload[1]
            if fn in (112, 113) and len(payload) >= 10:
                scale_y = payload[4] or 1
                w = int.from_bytes(payload[6:8], "little")
                h = int.from_bytes(payload[8:10], "little")
                self.modes.graphics = (w, h * scale_y)
            elif fn in (2, 50) and self.modes.graphics is not None:
                w, h = self.modes.graphics
                self.modes.graphics = None
                return self._graphic(f"[IMAGE {w}x{h}]", h)
        return NOTHING


def _qr_modules(length: int, ec: int) -> int:
    """Modules per side of the smallest QR symbol holding ``length`` bytes, quiet zone included."""
    factor = _QR_EC_FACTOR.get(ec, 1.0)
    version = next(
        (v for v, cap in enumerate(_QR_BYTES_L, 1) if cap * factor >= length), len(_QR_BYTES_L)
    )
    return 17 + 4 * version + 8
