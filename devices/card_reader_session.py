"""One host connection to the motorised card reader: the reader's side of the STX/ETX/BCC
handshake (ACK or NAK each command frame, send the reply, send it again on the host's NAK) and
the abandoning of a frame its sender left unfinished."""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.base import Session
from devices.protocols import stx_bcc as p
from workbench.errors import ProtocolError

if TYPE_CHECKING:
    from collections.abc import Callable

    from devices.card_reader import CardReader
    from devices.card_reader_cards import Framed

    Known = tuple[p.Command, Callable[[p.Command], Framed]]
    """A whole command frame's command, and the reader's handler of it."""

_ACK = bytes([p.ACK])
INTER_BYTE_TIMEOUT_S = 0.2
"""The longest pause inside a frame (host clock) before the reader abandons it."""
KNOWN_KEPT = 64
"""Whole command frames a session remembers (:meth:`CardReaderSession.feed`) before that memory
starts afresh (a host sends a few; noise that happens to frame well does not grow it)."""


class CardReaderSession(Session):
    """The reader side of the ACK/NAK handshake over one host connection."""

    whole_writes = True
    """Take a host's write that is exactly one command frame, or its lone ACK, without the
    deframer (:meth:`feed`); False sends every write through it, as a test's twin does."""

    def __init__(self, reader: CardReader) -> None:
        self.reader = reader
        self._deframer = p.Deframer()
        self._known: dict[bytes, Known] = {}
        """Whole command frames taken before: the command each carries and its handler."""
        self._last = b""
        self._heard = float("-inf")
        """When the previous bytes arrived (simulated time), for a frame left unfinished."""

    def feed(self, data: bytes) -> bytes:
        """Take host bytes; return ACK/NAK and reply frames (nothing while the reader is dead).

        A frame whose next byte comes more than :data:`INTER_BYTE_TIMEOUT_S` (host clock) after
        the last is abandoned: line noise that looked like an STX and a long LEN field does not
        swallow the host's next commands."""
        reader, deframer = self.reader, self._deframer
        if not deframer.held and self.whole_writes:
            # Between frames, a host writes a whole command frame or its lone ACK: what the
            # deframer would make of the frame is remembered by its bytes (p.lone_command), with
            # the reader's handler of that command (CardReader.handler), so an exchange costs
            # the command's own work, and the ACK and reply go out as the one bytes object made
            # with the reply. Neither leaves a frame begun, and when to abandon one is only asked
            # with one begun: the time heard is the general path's.
            if data == _ACK:
                return b""  # the host took the reply: nothing to answer (a reply sent again on NAK)
            known = self._known.get(data) if type(data) is bytes else None
            if known is None and type(data) is bytes:
                cmd = p.lone_command(data)
                if cmd is not None:
                    if len(self._known) >= KNOWN_KEPT:
                        self._known.clear()
                    known = self._known[data] = (cmd, reader.handler(cmd.cm))
            if known is not None:
                if reader.hung:
                    return b""
                framed = known[1](known[0])
                self._last = framed[1]
                return framed[2]
        now = reader.env.now
        pending = deframer.pending
        if data == _ACK and not pending:
            self._heard = now
            return b""  # the host took the reply: nothing to answer (a reply sent again on NAK)
        if pending and now - self._heard > reader.host_span(INTER_BYTE_TIMEOUT_S):
            reader.record("frame_abandoned", bytes=deframer.reset())
        self._heard = now
        out = bytearray()
        for item in deframer.feed(data):
            if reader.hung:
                continue
            if isinstance(item, p.Control):
                if item.byte == p.NAK and self._last:
                    out += self._last
                continue
            if isinstance(item, p.BadFrame):
                if item.reason == "bcc":
                    out.append(p.NAK)
                continue
            try:
                cmd = p.parse_command(item)
            except ProtocolError:  # a well-framed text that is not a command: undefined
                out.append(p.ACK)
                self._last = p.Reply(False, "?", "?", p.E_UNDEFINED).encode()
                out += self._last
                continue
            out.append(p.ACK)
            self._last = reader.execute_framed(cmd)[1]
            out += self._last
        return bytes(out)
