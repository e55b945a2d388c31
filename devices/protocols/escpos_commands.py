"""What ESC/POS commands look like on the wire, for the parser (:mod:`escpos`): how many
argument bytes each fixed-length command takes, the limits past which a header is line noise,
and a reader for each variable-length command (images, length-prefixed blocks, tab stops, cuts,
barcodes) that returns the message and where the next one starts, or None while bytes are
missing."""

from __future__ import annotations

from collections.abc import Callable

from devices.protocols.escpos_messages import (
    ESC,
    FS,
    GS,
    Barcode,
    BitImage,
    Block,
    Command,
    Message,
    Raster,
    Tabs,
    Unknown,
)

MAX_BLOCK = 1 << 20
"""Longest ``GS 8 L`` payload accepted (1 MiB, about the largest ``GS v 0`` image); longer
headers are treated as line noise."""
MAX_RASTER_WIDTH = 255
"""Widest ``GS v 0`` image in bytes (2040 dots); 80 mm heads are 512-576 dots."""
MAX_RASTER_HEIGHT = 4095
MAX_TABS = 32


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


DC4_ARGS = {1: 2, 2: 2, 3: 5, 7: 1, 8: 7}
"""``DLE DC4 fn``: argument bytes after ``fn`` (pulse, power off, buzzer, status, clear buffer)."""


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
SPECIAL: dict[bytes, _Reader] = {
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
