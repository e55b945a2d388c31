"""ESC/POS real-time commands in the raw byte stream: a printer acts on ``DLE EOT``, ``DLE ENQ``
and ``DLE DC4`` wherever they appear in what it receives (inside an image's data, a block or a
command's argument too), before its command parser sees them. Pure: bytes in, commands out."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from devices.protocols.escpos_messages import DC4, DLE, ENQ, EOT, Command

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


@lru_cache(maxsize=256)
def _scan(buf: bytes, held: int) -> tuple[tuple[tuple[int, Command], ...], bytes]:
    """The real-time commands that end in ``buf`` past its first ``held`` bytes (offsets counted
    from there), and its end when that may still become one. Pure, so remembered: a kiosk writes
    the same receipts all day."""
    found: list[tuple[int, Command]] = []
    pos = buf.find(DLE)
    while pos >= 0:
        cmd, size = _realtime_at(buf, pos)
        if cmd is not None:
            found.append((pos + size - held, cmd))
            pos = buf.find(DLE, pos + size)
            continue
        if size < 0:
            return tuple(found), buf[pos:]  # may still become one with the next chunk
        pos = buf.find(DLE, pos + 1)
    return tuple(found), b""


@lru_cache(maxsize=256)
def quiet(data: bytes) -> bool:
    """Whether ``data``, scanned from an idle scanner, holds no real-time command and ends in
    nothing that may still become one: scanning it would find nothing and hold nothing. Pure, so
    remembered (a receipt's mode bytes may hold a DLE, such as ``ESC ! 0x10``)."""
    return _scan(data, 0) == ((), b"")


class RealtimeScanner:
    """Finds ``DLE EOT n`` (n 1-4), ``DLE ENQ n`` (n 1-2), ``DLE DC4 1 m t`` and ``DLE DC4 8``
    (clear buffers) anywhere in the bytes a printer receives, split across chunks anywhere, the
    way a real printer's receive side does before its command parser sees them."""

    def __init__(self) -> None:
        self.held = b""
        """The end of the last bytes, which may still become a real-time command (empty when it
        cannot); read, never changed, by a session that asks without a call."""

    def scan(self, data: bytes) -> Sequence[tuple[int, Command]]:
        """Each real-time command that ends in ``data``, with the offset just past its end."""
        if not self.held and DLE not in data:
            return ()
        found, self.held = _scan(self.held + data, len(self.held))
        return found

    @property
    def pending(self) -> bool:
        """Whether the end of the last bytes may still become a real-time command."""
        return bool(self.held)

    def reset(self) -> None:
        """Forget a partly received command (a power cycle)."""
        self.held = b""
