"""The slave side of an SSP link: framing, address filtering and the sequence flag, in front of a
handler that turns command data into reply data. Pure: no I/O and no clock.

The host toggles the sequence flag for each new command; a packet carrying the same flag as the
previous one is a retry and gets the previous reply again, without running the command twice.
SYNC (0x11) is run whatever its flag (a SYNC inside an eSSP packet too, when the handler can
tell). Some host libraries send the command after a SYNC with the flag still set; like a
tolerant ITL unit, that command is taken as new. Frames with a bad CRC, or for another address,
get no answer.

A host writes one whole frame at a time and repeats a handful of them all day (POLL with either
flag, ENABLE, DISABLE), so the link remembers what each whole plain frame is by its bytes
(:attr:`SlaveLink.known`): for this address or not, its flag, its command data, whether it is a
SYNC, the function that answers it when the handler resolves plain commands
(:attr:`SlaveLink.direct`), and the reply frames made for it. A unit's session that is such a
link and knows its unit answers (:class:`devices.bill_validator_session.BillValidatorSession`) runs a
new command in such a frame straight through that function, one call for the exchange; anything
else (a retry, a frame in pieces, a bad CRC, an eSSP packet, a unit that does not answer) goes
through :meth:`SlaveLink.feed`, with the same outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from devices.protocols.ssp import BadFrame, Deframer, Packet, encode_frame, frame_of
from devices.protocols.ssp_messages import Command
from workbench.memo import Memo

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


Known = tuple[bool, bytes, bool, Callable[[bytes], bytes] | None, bytes, dict[bytes, bytes]]
"""What a whole plain frame for this slave is, remembered by its bytes: its flag, its command
data, whether that is a SYNC, the function that answers it when the unit answers
(:data:`Direct`; None: ask the handler) and that function's parameters, and the framed replies
to the frame by their data, made on first use (``replies[data]``; a unit gives a handful).

A plain tuple, unpacked whole at every frame: CPython unpacks an exact tuple in one step, a
``NamedTuple`` (a subclass) through an iterator (with ``type(data) is bytes`` for
``data.__class__``, 430 of a POLL's 5,500 instructions in the unit's session)."""


_REPLIES_LIMIT = 64
"""Framed replies a remembered frame keeps (a POLL's events come in a few combinations)."""


class _Replies(Memo[bytes, bytes]):
    """A known frame's reply frames by their data: a subscript, so a reply sent before is one
    lookup and no call."""

    def __init__(self, seq: bool, address: int) -> None:
        super().__init__()
        self.seq = seq
        self.address = address

    limit = _REPLIES_LIMIT

    def make(self, key: bytes) -> bytes:
        return frame_of(self.seq, self.address, key)


class _KnownFrames(dict[bytes, "Known | None"]):
    """:attr:`SlaveLink.known`: whole frames by their bytes, learnt on first use (None, not
    kept: not one whole frame with a good CRC, to be read byte by byte)."""

    def __init__(self, link: SlaveLink) -> None:
        super().__init__()
        self.link = link

    def __missing__(self, data: bytes) -> Known | None:
        return self.link._learn(data)


_IGNORED: Known = (False, b"", False, None, b"", {})
"""A whole frame for another address, or with no data: no answer."""
_KNOWN_LIMIT = 256
"""Frames a link remembers (a host sends a handful; a stream of strange ones is forgotten)."""
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
        self.last_seq: bool | None = None
        """The flag of the last command answered (None: none since a restart or silence)."""
        self.last_reply: bytes | None = None
        """Its reply data, sent again to a retry."""
        self.after_sync = False
        """Whether that command was a SYNC (the next command is new whatever its flag)."""
        self.known = _KnownFrames(self)
        """What each whole frame written at once is (:class:`Known`), by its bytes:
        ``known[data]`` (``data`` must be ``bytes``), None for one to read byte by byte."""

    def restart(self) -> None:
        """Forget the sequence state and any partial frame (the slave rebooted)."""
        self.deframer.reset()
        self.forget_reply()

    def forget_reply(self) -> None:
        """Forget the last reply, so that no retry is answered from it (a silent slave)."""
        self.last_seq = None
        self.last_reply = None
        self.after_sync = False

    def feed(self, data: bytes) -> bytes:
        """Take bytes from the host; return the framed replies to send back (maybe none)."""
        if type(data) is bytes and not self.deframer.in_frame:  # (a bytearray: byte loop)
            known = self.known[data]
            if known is not None:  # one whole frame, as hosts write them: no byte loop
                if known is _IGNORED:
                    return b""
                seq, command, _, _, _, replies = known
                answer = self._answer(seq, command)
                return b"" if answer is None else replies[answer]
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
            replies = _Replies(packet.seq, self.address)
            if command[0] == _STEX:  # its SYNC-ness and answer depend on the key: never kept
                return (packet.seq, command, False, None, b"", replies)
            resolved = None if self.direct is None else self.direct(command)
            function, params = (None, b"") if resolved is None else resolved
            known = (packet.seq, command, self.is_sync(command), function, params, replies)
        if len(self.known) >= _KNOWN_LIMIT:
            self.known.clear()
        self.known[data] = known
        return known

    def _for_me(self, packet: Packet) -> bool:
        """Whether a packet is a command for this slave (its address, some data)."""
        return packet.address == self.address and bool(packet.data)

    def _answer(self, seq: bool, data: bytes) -> bytes | None:
        is_sync = self.is_sync(data)
        retry = (
            not is_sync
            and not self.after_sync
            and self.last_seq is not None
            and seq == self.last_seq
        )
        if retry:
            self.retries += 1
            log.debug("SSP slave %d: retry of seq %d answered again", self.address, seq)
            return self.last_reply
        answer = self.handler(data)
        if answer is None:
            return None
        self.last_seq = seq
        self.last_reply = answer
        self.after_sync = is_sync
        return answer
