"""One host connection to the receipt printer: its own ESC/POS parser and real-time scanner over
the shared printer, and the commands answered at once whatever the printer's state (real-time
commands ``DLE EOT``/``DLE ENQ``/``DLE DC4``, status queries ``GS r``/``GS I``/``GS g``, automatic
status back ``GS a``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.base import Session
from devices.protocols import escpos as p
from devices.protocols import escpos_status as st
from devices.protocols.escpos_messages import DLE
from devices.protocols.escpos_realtime import quiet

if TYPE_CHECKING:
    from devices.printer import Printer

QUERIES = frozenset(
    {b"\x10\x04", b"\x10\x05", b"\x10\x14\x01", b"\x10\x14\x02", b"\x10\x14\x08"}
    | {b"\x1dr", b"\x1dI", b"\x1dg2", b"\x1dg0", b"\x1da"}
)
"""Real-time commands and status queries: answered at once, whatever the printer's state."""
_STATUS_QUERIES = {bytes((0x10, 0x04, n)): n for n in (1, 2, 3, 4)}
"""``DLE EOT 1-4``, the status query a host sends most: its ``n`` by its bytes."""
SCANNED = frozenset({b"\x10\x05", b"\x10\x14\x01", b"\x10\x14\x08"})
"""Real-time commands :class:`escpos.RealtimeScanner` finds in the raw bytes (with ``DLE EOT
1-4``): the parser's copy of them is not acted on twice."""


def acted_on_arrival(cmd: p.Command) -> bool:
    """Whether the scanner found ``cmd`` in the raw bytes and it was acted on then already."""
    return cmd.prefix in SCANNED or (cmd.prefix == b"\x10\x04" and 1 <= cmd.n <= 4)


class PrinterSession(Session):
    """One host connection: its own parser over the shared printer; automatic status back goes
    out through the writer the pty attaches."""

    whole_writes = True
    """Between commands, answer a lone ``DLE EOT n`` from the printer's condition and send a
    write without real-time commands straight to the parser (or the remembered layout) without
    the scanner (:meth:`feed`); False sends every write through the scanner, as a test's twin
    does."""

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self.parser = p.Parser()
        self.scanner = p.RealtimeScanner()
        self.asb = 0
        """``GS a`` mask: automatic status back is on when non-zero."""
        self.last_asb = b""

    def push_status(self) -> None:
        """Send the 4-byte automatic status when it changed and ASB is on."""
        if not self.asb or self._write is None:
            return
        block = st.auto_status(self.printer.condition())
        if block != self.last_asb:
            self.last_asb = block
            self._write(block)

    def restart(self) -> None:
        """Drop a partly received command (buffers cleared, or the printer power-cycled)."""
        self.parser = p.Parser()
        self.scanner.reset()

    def feed(self, data: bytes) -> bytes:
        """Bytes from the host in; the immediate answers out.

        Real-time commands are acted on where they end in ``data`` (the parser reads the same
        bytes as it always does), so a host polling ``DLE EOT`` gets its answer even while the
        parser sits inside a long image or block."""
        if self.whole_writes and not self.parser.held and not self.scanner.held:
            # Between commands, as a kiosk writes: its status queries and its receipts.
            n = _STATUS_QUERIES.get(data)
            if n is not None:
                # A lone DLE EOT n: the parser would read it as a command acted on as it arrived
                # and do nothing more with it, so only its answer is left to give (what
                # realtime() and answer() give a DLE EOT n), kept by the printer.
                return self.printer.answers[n]
            if DLE not in data or quiet(data):  # the scanner would find and hold nothing
                return b"" if self.printer.print_whole(data) else self._messages(data)
        out = b""
        start = 0
        for end, cmd in self.scanner.scan(data):
            out += self._parse(data[start:end])
            out += self.realtime(cmd)
            start = end
        return out + self._parse(data[start:] if start else data)

    def _parse(self, data: bytes) -> bytes:
        if not self.parser.held and self.printer.print_whole(data):
            return b""  # a whole chunk of print data, parsed and laid out before
        return self._messages(data)

    def _messages(self, data: bytes) -> bytes:
        """``data`` through the parser, each message acted on; the answers to give."""
        out = b""
        handle = self.printer.handle
        for msg in self.parser.feed(data):
            reply = handle(msg, self)
            if reply:
                out += reply
        return out

    def realtime(self, cmd: p.Command) -> bytes:
        """A real-time command found in the received bytes, acted on as it arrives, whatever the
        parser is in the middle of; ``DLE DC4 8`` and a ``DLE ENQ 2`` that recovers from an error
        also drop what the parser holds (the receive buffer)."""
        printer = self.printer
        if cmd.prefix == b"\x10\x14\x08" or (
            cmd.prefix == b"\x10\x05" and cmd.n == 2 and not printer.online
        ):
            printer.drop_held()
            self.restart()
            printer.record("buffers_cleared", by=cmd.name)
            return p.CLEAR_RESPONSE if cmd.prefix == b"\x10\x14\x08" else b""
        return self.answer(cmd)

    def answer(self, msg: p.Command) -> bytes:
        """A real-time command or status query (see :data:`QUERIES`)."""
        printer = self.printer
        prefix, n, args = msg.prefix, msg.n, msg.args
        if prefix in (b"\x10\x04", b"\x1dr"):
            cond = printer.condition()
            return st.realtime_status(cond, n) if prefix[0] == 0x10 else st.transmit_status(cond, n)
        if prefix == b"\x1dI":
            return st.printer_id(printer.identity, n)
        if prefix == b"\x1dg2":
            value = printer.counter(int.from_bytes(args[1:3], "little")) if args[0] == 0 else None
            return b"" if value is None else st.counter_reply(value)
        if prefix == b"\x1da":
            self.asb = n & 0x0F
            self.last_asb = st.auto_status(printer.condition()) if self.asb else b""
            return self.last_asb
        if prefix == b"\x1dg0":
            if args[0] == 0:
                printer.reset_counter(int.from_bytes(args[1:3], "little"))
        elif prefix == b"\x10\x14\x01":
            printer.record("drawer_kick", pin=5 if n else 2)
        return b""
