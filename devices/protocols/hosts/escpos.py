"""The host side of an ESC/POS printer's status: real-time ``DLE EOT n`` queries (one status
byte each, answered even while the printer is busy or offline) and the ``_ ... NUL`` block
replies of ``GS I n`` (n >= 65) and the ``GS g 2`` maintenance counters.

    host = EscPosStatusHost()
    conditions = answer_of(host.realtime(4))   # {"paper_near_end"}, ...
"""

from __future__ import annotations

from devices.protocols import escpos_status as st
from devices.protocols.hosts import Exchange
from workbench.errors import ProtocolError

PRINTER, OFFLINE, ERROR, PAPER = 1, 2, 3, 4
"""``DLE EOT n``: printer status, offline cause, error cause, roll paper sensor."""


class EscPosStatusHost:
    """Status queries a host makes of an ESC/POS printer."""

    @staticmethod
    def realtime(n: int) -> Exchange[set[str]]:
        """``DLE EOT n`` decoded to the conditions the printer reports."""

        def feed(chunk: bytes) -> set[str] | None:
            return st.decode_status(n, chunk[0]) if chunk else None

        return Exchange(bytes([0x10, 0x04, n]), feed)

    @staticmethod
    def block(request: bytes) -> Exchange[str]:
        """A request answered by a ``_ ... NUL`` block (``GS I n``, ``GS g 2``)."""
        buf = bytearray()

        def feed(chunk: bytes) -> str | None:
            buf.extend(chunk)
            start = buf.find(b"_")
            end = buf.find(b"\x00", start + 1) if start >= 0 else -1
            return st.parse_block_reply(bytes(buf[start : end + 1])) if end >= 0 else None

        return Exchange(request, feed)

    @classmethod
    def counter(cls, number: int) -> Exchange[int]:
        """A ``GS g 2`` maintenance counter."""
        text = cls.block(st.maintenance_counter_request(number))

        def feed(chunk: bytes) -> int | None:
            got = text.feed(chunk)
            if got is None:
                return None
            if not got.isdigit():
                raise ProtocolError(f"counter {number} reply {got!r} is not a number")
            return int(got)

        return Exchange(text.request, feed)
