"""The slave side of an SSP link: framing, address filtering and the sequence flag, in front of a
handler that turns command data into reply data. Pure: no I/O and no clock.

The host toggles the sequence flag for each new command; a packet carrying the same flag as the
previous one is a retry and gets the previous reply again, without running the command twice.
SYNC (0x11) is run whatever its flag (a SYNC inside an eSSP packet too, when the handler can
tell). Some host libraries send the command after a SYNC with the flag still set; like a
tolerant ITL unit, that command is taken as new. Frames with a bad CRC, or for another address,
get no answer.

A host writes one whole frame at a time and repeats a handful of them all day (POLL with either
flag, ENABLE, DISABLE), so the link remembers what each whole plain frame is by its bytes: for
this address or not, its flag, its command data, whether it is a SYNC, and the function that
answers it when the handler resolves plain commands (:attr:`SlaveLink.direct`). A new command
in such a frame then costs one dictionary lookup and the command's own function; anything else
(a retry, a frame in pieces, a bad CRC, an eSSP packet, a unit that does not answer) takes the
general path, with the same outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from devices.protocols.ssp import BadFrame, Deframer, Packet, encode_frame, frame_of
from devices.protocols.ssp_messages import Command

log = logging.getLogger(__name__)

Handler = Callable[[bytes], bytes | None]
"""Command data in, reply data out (None: the slave stays silent)."""
Direct = Callable[[bytes], tuple[Callable[[bytes], bytes], bytes] | None]
"""Plain command data in; the function and parameters that answer it whenever the unit answers
(the handler would call ``function(parameters)`` and nothing else), or None when the handler
decides more than that (an eSSP packet, a command that must come encrypted)."""


def plain_sync(data: bytes) -> bool:
    """Whether command data is a SYNC in the clear."""
    return data[0] == Command.SYNC


class Known(NamedTuple):
    """What a whole plain frame for this slave is, remembered by its bytes."""

    seq: bool
    data: bytes
    sync: bool
    function: Callable[[bytes], bytes] | None
    """What answers ``data`` when the unit answers (:data:`Direct`), or None: ask the handler."""
    params: bytes
    replies: dict[bytes, bytes]
    """The framed replies sent to this frame, by their data (a unit gives a handful)."""


_IGNORED = Known(False, b"", False, None, b"", {})
"""A whole frame for another address, or with no data: no answer."""
_KNOWN_LIMIT = 256
"""Frames a link remembers (a host sends a handful; a stream of strange ones is forgotten)."""
_REPLIES_LIMIT = 64
"""Framed replies a remembered frame keeps (a POLL's events come in a few combinations)."""
_STEX = 0x7E
"""The first data byte of an eSSP packet: it differs every time (its count); never remembered."""


class SlaveLink:
    """One host connection to an SSP slave: feed it bytes from the wire, send what it returns."""

    def __init__(
        self,
        address: int,
        handler: Handler,
        is_sync: Callable[[bytes], bool] = plain_sync,
        direct: Direct | None = None,
    ) -> None:
        self.address = address
        self.handler = handler
        self.is_sync = is_sync
        """Tells a SYNC from other command data (eSSP: opens an encrypted packet to look); pure
        for plain data, which the link remembers it for."""
        self.direct = direct
        """Resolves plain commands to their functions (:data:`Direct`), for :meth:`feed`'s
        ``answers``; None: every command goes through the handler."""
        self.deframer = Deframer()
        self.bad_frames = 0
        """Frames dropped for a bad CRC or cut short by a new STX."""
        self.retries = 0
        """Packets answered from the retry cache."""
        self._last_seq: bool | None = None
        self._last_reply: bytes | None = None
        self._after_sync = False
        self._known: dict[bytes, Known] = {}

    def restart(self) -> None:
        """Forget the sequence state and any partial frame (the slave rebooted)."""
        self.deframer.reset()
        self.forget_reply()

    def forget_reply(self) -> None:
        """Forget the last reply, so that no retry is answered from it (a silent slave)."""
        self._last_seq = None
        self._last_reply = None
        self._after_sync = False

    def feed(self, data: bytes, answers: bool = False) -> bytes:
        """Take bytes from the host; return the framed replies to send back (maybe none).

        ``answers``: the caller knows that the handler answers plain commands now (the unit is
        responsive and in service), so a new plain command in a whole frame runs its function
        straight away; the handler is asked otherwise."""
        if data.__class__ is bytes and not self.deframer.in_frame:  # (a bytearray: byte loop)
            known = self._known.get(data)
            if known is None:
                known = self._learn(data)
            if known is not None:  # one whole frame, as hosts write them: no byte loop
                if known is _IGNORED:
                    return b""
                seq, command, sync, function, params, replies = known
                if (
                    answers
                    and function is not None
                    and (sync or self._after_sync or seq != self._last_seq)
                ):  # a new command (not a retry: see _answer), run as the handler would
                    reply = function(params)
                    self._last_seq, self._last_reply, self._after_sync = seq, reply, sync
                    frame = replies.get(reply)
                    if frame is None:
                        if len(replies) >= _REPLIES_LIMIT:
                            replies.clear()
                        frame = replies[reply] = frame_of(seq, self.address, reply)
                    return frame
                answer = self._answer(seq, command)
                return b"" if answer is None else frame_of(seq, self.address, answer)
        out = bytearray()
        for item in self.deframer.feed(data):
            if isinstance(item, BadFrame):
                self.bad_frames += 1
                log.info("SSP slave %d: dropped a frame (%s)", self.address, item.reason)
                continue
            if not self._for_me(item):
                continue
            answer = self._answer(item.seq, item.data)
            if answer is not None:
                out += encode_frame(item.seq, self.address, answer)
        return bytes(out)

    def _learn(self, data: bytes) -> Known | None:
        """What ``data`` is when it is one whole frame with a good CRC (remembered unless it is
        an eSSP packet); None when it must be read byte by byte."""
        packet = self.deframer.whole(data)
        if packet is None:
            return None
        if not self._for_me(packet):
            known = _IGNORED
        else:
            command = packet.data
            if command[0] == _STEX:  # its SYNC-ness and answer depend on the key: never kept
                return Known(packet.seq, command, False, None, b"", {})
            resolved = None if self.direct is None else self.direct(command)
            function, params = (None, b"") if resolved is None else resolved
            known = Known(packet.seq, command, self.is_sync(command), function, params, {})
        if len(self._known) >= _KNOWN_LIMIT:
            self._known.clear()
        self._known[data] = known
        return known

    def _for_me(self, packet: Packet) -> bool:
        """Whether a packet is a command for this slave (its address, some data)."""
        return packet.address == self.address and bool(packet.data)

    def _answer(self, seq: bool, data: bytes) -> bytes | None:
        is_sync = self.is_sync(data)
        retry = (
            not is_sync
            and not self._after_sync
            and self._last_seq is not None
            and seq == self._last_seq
        )
        if retry:
            self.retries += 1
            log.debug("SSP slave %d: retry of seq %d answered again", self.address, seq)
            return self._last_reply
        answer = self.handler(data)
        if answer is None:
            return None
        self._last_seq = seq
        self._last_reply = answer
        self._after_sync = is_sync
        return answer
