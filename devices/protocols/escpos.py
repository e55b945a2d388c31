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

This module is the parser; the messages and the encoder are :mod:`escpos_messages`, the command
tables and the variable-length commands' readers :mod:`escpos_commands`, the real-time scanner
:mod:`escpos_realtime` (all importable from here, as before).
"""

from __future__ import annotations

import logging
import re

from devices.protocols.escpos_commands import (
    DC4_ARGS,
    FIXED,
    MAX_BLOCK,
    MAX_RASTER_HEIGHT,
    MAX_RASTER_WIDTH,
    MAX_TABS,
    SPECIAL,
)
from devices.protocols.escpos_messages import (
    BEL,
    CAN,
    CR,
    DC4,
    DLE,
    ENQ,
    EOT,
    ESC,
    FF,
    FS,
    GS,
    HT,
    LF,
    NAMES,
    TEXT_RUN,
    Barcode,
    BitImage,
    Block,
    Command,
    Control,
    Message,
    Raster,
    Tabs,
    Text,
    Unknown,
    encode,
)
from devices.protocols.escpos_realtime import CLEAR_BUFFERS, CLEAR_RESPONSE, RealtimeScanner

__all__ = [
    "CLEAR_BUFFERS",
    "CLEAR_RESPONSE",
    "FIXED",
    "MAX_BLOCK",
    "MAX_RASTER_HEIGHT",
    "MAX_RASTER_WIDTH",
    "MAX_TABS",
    "MEMO_MIN",
    "NAMES",
    "Barcode",
    "BitImage",
    "Block",
    "Command",
    "Control",
    "Message",
    "Parser",
    "Raster",
    "RealtimeScanner",
    "Tabs",
    "Text",
    "Unknown",
    "encode",
    "parse",
]

log = logging.getLogger(__name__)


_IGNORED = re.compile(rb"[\x00-\x06\x08\x0b\x0e\x0f\x11-\x17\x19\x1a\x1e\x1f]+")


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
        self.held = bytearray()
        """The bytes held back waiting for the rest of a command (empty between commands); read,
        never changed, by a session that asks whether the parser is idle without a call."""
        self._need = 0
        """Bytes the held-back command needs in all (0 when unknown): no re-parsing before."""

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a command."""
        return len(self.held)

    def feed(self, data: bytes) -> list[Message]:
        """Parse ``data`` (after whatever was held back) into complete messages."""
        if self.held:
            self.held += data
            if len(self.held) < self._need:
                return []
            buf = bytes(self.held)
        else:
            buf = bytes(data)
            memo = _MEMO.get(buf) if MEMO_MIN <= len(buf) <= _MEMO_MAX else None
            if memo is not None:  # the same whole chunk again (a kiosk's receipt template)
                self.held = bytearray(buf[memo[1] :])
                self._need = _needed(buf, memo[1]) if memo[1] < len(buf) else 0
                return list(memo[0])
        out: list[Message] = []
        pos = _parse(buf, 0, out)
        if MEMO_MIN <= len(buf) <= _MEMO_MAX:
            if len(_MEMO) >= _MEMO_SIZE:
                _MEMO.clear()
            _MEMO[buf] = (tuple(out), pos)
        if pos < len(buf):
            self.held = bytearray(buf[pos:])
            self._need = _needed(buf, pos)
        else:
            self.held = bytearray()
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
    text_match = TEXT_RUN.match
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
            if fn not in DC4_ARGS:
                return Unknown(bytes(buf[pos : pos + 3])), pos + 3
            size = 3 + DC4_ARGS[fn]
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
    special = SPECIAL.get(key)
    if special is not None:
        return special(buf, pos, end)
    return Unknown(key), pos + 2
