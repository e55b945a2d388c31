"""ESC/POS (Epson-compatible receipt printers): an incremental parser from the host's byte stream
to command messages, and the encoder back, so bytes may arrive split anywhere.

What is recognised (everything python-escpos 3.1 emits, plus the Epson commands kiosk software
uses to query a printer):

- Text: runs of printable bytes (0x20-0xFF) together with the in-line layout controls LF, CR
  and HT, as one :class:`Text` message (the printer splits lines itself; bulk text stays fast).
- Single-byte controls FF, CAN and BEL as :class:`Control`; NUL and other undefined control
  bytes are ignored, as a printer ignores them.
- Fixed-length ``ESC``/``GS``/``FS`` commands (``ESC @``, ``ESC a n``, ``ESC E n``, ``ESC ! n``,
  ``ESC d n``, ``ESC t n``, ``ESC 2``, ``ESC 3 n``, ``ESC p m t1 t2``, ``GS ! n``, ``GS H/w/h/f n``,
  ``GS r n``, ``GS I n``, ``GS a n``, ``GS g 0/2 m nL nH``, ...) as :class:`Command`.
- ``GS V`` cuts in all four forms (``m`` = 0/1/48/49 without ``n``; 65/66/97/98/103/104 with).
- ``GS k`` barcodes, function A (``m`` 0-6, data, NUL) and B (``m`` 65-79, length, data).
- Length-prefixed blocks ``GS ( X pL pH ...`` (QR store/print/size/EC under ``GS ( k``, graphics
  under ``GS ( L``), ``ESC ( X`` and ``FS ( X``, and ``GS 8 L`` with its 4-byte length.
- ``GS v 0`` raster images and ``ESC *`` column bit images; ``ESC D`` tab stops.
- Real-time commands ``DLE EOT n`` (n 1-4; 7 and 8 take one more byte), ``DLE ENQ n`` and
  ``DLE DC4 fn ...`` as :class:`Command` where they stand between commands. A printer also acts
  on them *wherever* they appear in the received bytes, inside an image's data, a block or a
  command's argument too (Epson: "the status is transmitted whenever the data sequence
  <10>H<04>H<n> is received"): :class:`RealtimeScanner` finds them in the raw stream, apart
  from the parser, which goes on reading the same bytes as data.

Anything else after ``ESC``/``GS``/``FS`` becomes :class:`Unknown` with the bytes skipped, and
parsing resumes right after them: garbage never stops the stream. Headers whose counts are out
of the manual's range (an image 0 dots wide, a block longer than :data:`MAX_BLOCK`) are
reported as :class:`Unknown` too, so line noise cannot swallow megabytes of later data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from workbench.errors import ProtocolError

log = logging.getLogger(__name__)

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
EOT, ENQ, DC4, NUL = 0x04, 0x05, 0x14, 0x00
LF, CR, HT, FF, CAN, BEL = 0x0A, 0x0D, 0x09, 0x0C, 0x18, 0x07

MAX_BLOCK = 1 << 20
"""Longest ``GS 8 L`` payload accepted (1 MiB, about the largest ``GS v 0`` image); longer
headers are treated as line noise."""
MAX_RASTER_WIDTH = 255
"""Widest ``GS v 0`` image in bytes (2040 dots); 80 mm heads are 512-576 dots."""
MAX_RASTER_HEIGHT = 4095
MAX_TABS = 32

_TEXT = re.compile(rb"[\x20-\xff\n\r\t]+")
_IGNORED = re.compile(rb"[\x00-\x06\x08\x0b\x0e\x0f\x11-\x17\x19\x1a\x1e\x1f]+")

# Fixed-length commands: prefix -> number of argument bytes ("c:n" = ESC/GS/FS c takes n bytes);
# ESC SP and ESC FF are listed apart because a space and FF cannot sit in these strings.
_ESC_ARGS = "!:1 $:2 %:1 +:1 -:1 2:0 3:1 <:0 =:1 ?:1 @:0 A:1 B:2 E:1 G:1 J:1 K:1 L:0 M:1 R:1 S:0 T:1 U:1 V:1 W:8 \\:2 a:1 c:2 d:1 e:1 i:0 m:0 p:3 r:1 t:1 u:1 v:0 {:1"
_GS_ARGS = (
    "!:1 $:2 /:1 :::0 B:1 H:1 I:1 L:2 P:2 T:1 W:2 \\:2 ^:3 a:1 b:1 c:0 f:1 h:1 j:1 r:1 w:1 |:1"
)
_FS_ARGS = "!:1 &:0 -:1 .:0 C:1 S:2 W:1 p:2"


def _table(lead: int, spec: str) -> dict[bytes, int]:
    return {bytes((lead, ord(item[0]))): int(item[-1]) for item in spec.split()}


FIXED: dict[bytes, int] = {
    b"\x1b ": 1,
    b"\x1b\x0c": 0,
    **_table(ESC, _ESC_ARGS),
    **_table(GS, _GS_ARGS),
    **_table(FS, _FS_ARGS),
    b"\x1dg0": 3,
    b"\x1dg2": 3,
    b"\x10\x05": 1,
}

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

_DC4_ARGS = {1: 2, 2: 2, 3: 5, 7: 1, 8: 7}
"""``DLE DC4 fn``: argument bytes after ``fn`` (pulse, power off, buzzer, status, clear buffer)."""


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


# -- parser --------------------------------------------------------------------------------------
_MEMO: dict[bytes, tuple[tuple[Message, ...], int]] = {}
"""Parses of whole chunks fed to an idle parser (messages are immutable, so they are shared)."""
MEMO_MIN, _MEMO_MAX = 256, 16384
"""Chunk sizes worth remembering (a receipt, not a status query nor a big raster image)."""
_MEMO_SIZE = 64


class Parser:
    """Incremental ESC/POS parser: :meth:`feed` any chunk, get the complete messages in it.

    An incomplete command at the end of a chunk waits for the next chunk. The parser never
    raises: bytes it cannot read come out as :class:`Unknown`.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._need = 0
        """Bytes the held-back command needs in all (0 when unknown): no re-parsing before."""

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a command."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message]:
        """Parse ``data`` (after whatever was held back) into complete messages."""
        if self._buf:
            self._buf += data
            if len(self._buf) < self._need:
                return []
            buf = bytes(self._buf)
        else:
            buf = bytes(data)
            memo = _MEMO.get(buf) if MEMO_MIN <= len(buf) <= _MEMO_MAX else None
            if memo is not None:  # the same whole chunk again (a kiosk's receipt template)
                self._buf = bytearray(buf[memo[1] :])
                self._need = _needed(buf, memo[1]) if memo[1] < len(buf) else 0
                return list(memo[0])
        out: list[Message] = []
        pos = _parse(buf, 0, out)
        if MEMO_MIN <= len(buf) <= _MEMO_MAX:
            if len(_MEMO) >= _MEMO_SIZE:
                _MEMO.clear()
            _MEMO[buf] = (tuple(out), pos)
        if pos < len(buf):
            self._buf = bytearray(buf[pos:])
            self._need = _needed(buf, pos)
        else:
            self._buf = bytearray()
        return out


def parse(data: bytes) -> list[Message]:
    """Parse a complete stream (a trailing incomplete command is returned as :class:`Unknown`)."""
    out: list[Message] = []
    pos = _parse(data, 0, out)
    if pos < len(data):
        out.append(Unknown(bytes(data[pos:])))
    return out


def _parse(buf: bytes, pos: int, out: list[Message]) -> int:
    """Append the complete messages of ``buf[pos:]`` to ``out``; return where parsing stopped."""
    end = len(buf)
    text_match = _TEXT.match
    fixed = FIXED
    while pos < end:
        b = buf[pos]
        if b >= 0x20 or b in (LF, CR, HT):
            m = text_match(buf, pos)
            assert m is not None
            stop = m.end()
            out.append(Text(buf[pos:stop]))
            pos = stop
            continue
        if b in (ESC, GS, FS, DLE):
            nargs = fixed.get(buf[pos : pos + 2])  # the common case, inline
            if nargs is not None and b != DLE:
                stop = pos + 2 + nargs
                if stop > end:
                    return pos
                out.append(Command(buf[pos : pos + 2], buf[pos + 2 : stop]))
                pos = stop
                continue
            got = _command(buf, pos, end)
            if got is None:
                return pos
            msg, nxt = got
            if msg is not None:
                out.append(msg)
            pos = nxt
            continue
        if b in (FF, CAN, BEL):
            out.append(Control(b))
            pos += 1
            continue
        m = _IGNORED.match(buf, pos)  # NUL and undefined control bytes are ignored
        pos = m.end() if m is not None else pos + 1
    return pos


def _needed(buf: bytes, pos: int) -> int:
    """Total length of the incomplete command at ``pos`` when its header says so, else 0."""
    head = buf[pos : pos + 8]
    if len(head) >= 5 and head[1] == 0x28 and head[0] in (ESC, GS, FS):
        return 5 + int.from_bytes(head[3:5], "little")
    if len(head) >= 7 and head[:3] == b"\x1d8L":
        return 7 + int.from_bytes(head[3:7], "little")
    if len(head) >= 8 and head[:3] == b"\x1dv0":
        return 8 + (head[4] | head[5] << 8) * (head[6] | head[7] << 8)
    if len(head) >= 5 and head[:2] == b"\x1b*":
        return 5 + (head[3] | head[4] << 8) * (3 if head[2] >= 32 else 1)
    return 0


def _command(buf: bytes, pos: int, end: int) -> tuple[Message | None, int] | None:
    """Read one command at ``pos``; None when more bytes are needed."""
    if pos + 1 >= end:
        return None
    b0, b1 = buf[pos], buf[pos + 1]
    if b0 == DLE:
        if b1 == EOT:
            if pos + 2 >= end:
                return None
            n = buf[pos + 2]
            size = 4 if n in (7, 8) else 3
            if pos + size > end:
                return None
            return Command(b"\x10\x04", bytes(buf[pos + 2 : pos + size])), pos + size
        if b1 == DC4:
            if pos + 2 >= end:
                return None
            fn = buf[pos + 2]
            if fn not in _DC4_ARGS:
                return Unknown(bytes(buf[pos : pos + 3])), pos + 3
            size = 3 + _DC4_ARGS[fn]
            if pos + size > end:
                return None
            return Command(bytes(buf[pos : pos + 3]), bytes(buf[pos + 3 : pos + size])), pos + size
        if b1 != ENQ:
            return None, pos + 1  # a lone DLE is an ignored control byte
    key = bytes((b0, b1))
    nargs = FIXED.get(key)
    if nargs is not None:
        if pos + 2 + nargs > end:
            return None
        return Command(key, bytes(buf[pos + 2 : pos + 2 + nargs])), pos + 2 + nargs
    special = _SPECIAL.get(key)
    if special is not None:
        return special(buf, pos, end)
    return Unknown(key), pos + 2


def _gs_sub(buf: bytes, pos: int, end: int) -> tuple[Message | None, int] | None:
    """``GS g x`` / ``GS v x`` / ``GS 8 x``: the third byte selects the command."""
    if pos + 2 >= end:
        return None
    key = bytes(buf[pos : pos + 3])
    if key in FIXED:
        nargs = FIXED[key]
        if pos + 3 + nargs > end:
            return None
        return Command(key, bytes(buf[pos + 3 : pos + 3 + nargs])), pos + 3 + nargs
    if key == b"\x1dv0":
        return _raster(buf, pos, end)
    if key == b"\x1d8L":
        return _block(buf, pos, end, 4)
    return Unknown(key), pos + 3


def _raster(buf: bytes, pos: int, end: int) -> tuple[Message | None, int] | None:
    if pos + 8 > end:
        return None
    mode, xl, xh, yl, yh = buf[pos + 3 : pos + 8]
    width, height = xl | xh << 8, yl | yh << 8
    if (
        mode not in (0, 1, 2, 3, 48, 49, 50, 51)
        or not 1 <= width <= MAX_RASTER_WIDTH
        or not 1 <= height <= MAX_RASTER_HEIGHT
    ):
        return Unknown(bytes(buf[pos : pos + 8])), pos + 8
    stop = pos + 8 + width * height
    if stop > end:
        return None
    return Raster(mode, width, height, bytes(buf[pos + 8 : stop])), stop


def _block(
    buf: bytes, pos: int, end: int, size_bytes: int = 2
) -> tuple[Message | None, int] | None:
    head = 3 + size_bytes
    if pos + head > end:
        return None
    length = int.from_bytes(buf[pos + 3 : pos + head], "little")
    if length > MAX_BLOCK:
        return Unknown(bytes(buf[pos : pos + head])), pos + head
    stop = pos + head + length
    if stop > end:
        return None
    return Block(bytes(buf[pos : pos + 3]), bytes(buf[pos + head : stop])), stop


def _paren(buf: bytes, pos: int, end: int) -> tuple[Message | None, int] | None:
    if pos + 2 >= end:
        return None
    return _block(buf, pos, end)


def _bit_image(buf: bytes, pos: int, end: int) -> tuple[Message | None, int] | None:
    if pos + 5 > end:
        return None
    mode, nl, nh = buf[pos + 2 : pos + 5]
    width = nl | nh << 8
    if mode not in (0, 1, 32, 33) or not 1 <= width <= 2047:
        return Unknown(bytes(buf[pos : pos + 5])), pos + 5
    stop = pos + 5 + width * (3 if mode >= 32 else 1)
    if stop > end:
        return None
    return BitImage(mode, width, bytes(buf[pos + 5 : stop])), stop


def _tabs(buf: bytes, pos: int, end: int) -> tuple[Message | None, int] | None:
    nul = buf.find(b"\x00", pos + 2, min(end, pos + 3 + MAX_TABS))
    if nul >= 0:
        return Tabs(bytes(buf[pos + 2 : nul])), nul + 1
    if end - pos >= 3 + MAX_TABS:  # no NUL within 32 positions: the rest is ordinary data
        return Tabs(bytes(buf[pos + 2 : pos + 2 + MAX_TABS])), pos + 2 + MAX_TABS
    return None


def _cut(buf: bytes, pos: int, end: int) -> tuple[Message | None, int] | None:
    if pos + 2 >= end:
        return None
    m = buf[pos + 2]
    if m in (0, 1, 48, 49):
        return Command(b"\x1dV", bytes((m,))), pos + 3
    if m in (65, 66, 97, 98, 103, 104):
        if pos + 3 >= end:
            return None
        return Command(b"\x1dV", bytes(buf[pos + 2 : pos + 4])), pos + 4
    return Unknown(bytes(buf[pos : pos + 3])), pos + 3


def _barcode(buf: bytes, pos: int, end: int) -> tuple[Message | None, int] | None:
    if pos + 2 >= end:
        return None
    m = buf[pos + 2]
    if m <= 6:
        nul = buf.find(b"\x00", pos + 3, min(end, pos + 3 + 256))
        if nul >= 0:
            return Barcode(m, bytes(buf[pos + 3 : nul])), nul + 1
        if end - pos >= 3 + 256:  # no terminator in range: drop the header, read on as data
            return Unknown(bytes(buf[pos : pos + 3])), pos + 3
        return None
    if 65 <= m <= 79:
        if pos + 3 >= end:
            return None
        stop = pos + 4 + buf[pos + 3]
        if stop > end:
            return None
        return Barcode(m, bytes(buf[pos + 4 : stop])), stop
    return Unknown(bytes(buf[pos : pos + 3])), pos + 3


_Reader = Callable[[bytes, int, int], "tuple[Message | None, int] | None"]
_SPECIAL: dict[bytes, _Reader] = {
    b"\x1b*": _bit_image,
    b"\x1bD": _tabs,
    b"\x1b(": _paren,
    b"\x1c(": _paren,
    b"\x1d(": _paren,
    b"\x1dV": _cut,
    b"\x1dk": _barcode,
    b"\x1dg": _gs_sub,
    b"\x1dv": _gs_sub,
    b"\x1d8": _gs_sub,
}


# -- real-time commands in the raw stream ----------------------------------------------------------
CLEAR_BUFFERS = b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08"
"""``DLE DC4 8 1 3 20 1 6 2 8``: clear the receive and print buffers (answered ``37 25 00``)."""
CLEAR_RESPONSE = b"\x37\x25\x00"
_REALTIME_LONGEST = len(CLEAR_BUFFERS)


def _realtime_at(buf: bytes, pos: int) -> tuple[Command | None, int]:
    """The real-time command starting at ``buf[pos]`` (a DLE) and its length; ``(None, 0)`` when
    there is none, ``(None, -1)`` when ``buf`` ends inside what may still become one."""
    rest = len(buf) - pos
    if rest < 3:
        return None, -1 if rest == 1 or buf[pos + 1] in (EOT, ENQ, DC4) else 0
    code, n = buf[pos + 1], buf[pos + 2]
    if code == EOT and 1 <= n <= 4:
        return Command(b"\x10\x04", bytes((n,))), 3
    if code == ENQ and n in (1, 2):
        return Command(b"\x10\x05", bytes((n,))), 3
    if code == DC4 and n == 1:  # DLE DC4 1 m t: a drawer-kick pulse, m in 0-1, t in 1-8
        if (rest >= 4 and buf[pos + 3] > 1) or (rest >= 5 and not 1 <= buf[pos + 4] <= 8):
            return None, 0  # out of range: not this command; what follows is scanned afresh
        if rest < 5:
            return None, -1
        return Command(b"\x10\x14\x01", bytes(buf[pos + 3 : pos + 5])), 5
    if code == DC4 and n == 8:
        head = buf[pos : pos + _REALTIME_LONGEST]
        if head == CLEAR_BUFFERS:
            return Command(b"\x10\x14\x08", CLEAR_BUFFERS[3:]), _REALTIME_LONGEST
        return (None, -1) if CLEAR_BUFFERS.startswith(head) else (None, 0)
    return None, 0


class RealtimeScanner:
    """Finds ``DLE EOT n`` (n 1-4), ``DLE ENQ n`` (n 1-2), ``DLE DC4 1 m t`` and ``DLE DC4 8``
    (clear buffers) anywhere in the bytes a printer receives, split across chunks anywhere, the
    way a real printer's receive side does before its command parser sees them."""

    def __init__(self) -> None:
        self._held = b""

    def scan(self, data: bytes) -> list[tuple[int, Command]]:
        """Each real-time command that ends in ``data``, with the offset just past its end."""
        if not self._held and DLE not in data:
            return []
        held = len(self._held)
        buf = self._held + data
        self._held = b""
        found: list[tuple[int, Command]] = []
        pos = buf.find(DLE)
        while pos >= 0:
            cmd, size = _realtime_at(buf, pos)
            if cmd is not None:
                found.append((pos + size - held, cmd))
                pos = buf.find(DLE, pos + size)
                continue
            if size < 0:
                self._held = buf[pos:]  # may still become one with the next chunk
                break
            pos = buf.find(DLE, pos + 1)
        return found

    @property
    def pending(self) -> bool:
        """Whether the end of the last bytes may still become a real-time command."""
        return bool(self._held)

    def reset(self) -> None:
        """Forget a partly received command (a power cycle)."""
        self._held = b""


# -- encoder -------------------------------------------------------------------------------------
def encode(msg: Message) -> bytes:
    """The bytes of one message, as a host sends them (the parser's inverse)."""
    if isinstance(msg, Text):
        if _TEXT.fullmatch(msg.data) is None:
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
