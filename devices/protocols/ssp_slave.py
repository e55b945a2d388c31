"""The slave side of an SSP link: framing, address filtering and the sequence flag, in front of a
handler that turns command data into reply data. Pure: no I/O and no clock.

The host toggles the sequence flag for each new command; a packet carrying the same flag as the
previous one is a retry and gets the previous reply again, without running the command twice.
SYNC (0x11) is run whatever its flag (a SYNC inside an eSSP packet too, when the handler can tell). Some host libraries send the command after a SYNC with the
flag still set; like a tolerant ITL unit, that command is taken as new. Frames with a bad CRC,
or for another address, get no answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from devices.protocols.ssp import BadFrame, Deframer, encode_frame, frame_of
from devices.protocols.ssp_messages import Command

log = logging.getLogger(__name__)

Handler = Callable[[bytes], bytes | None]
"""Command data in, reply data out (None: the slave stays silent)."""


def plain_sync(data: bytes) -> bool:
    """Whether command data is a SYNC in the clear."""
    return data[0] == Command.SYNC


class SlaveLink:
    """One host connection to an SSP slave: feed it bytes from the wire, send what it returns."""

    def __init__(
        self, address: int, handler: Handler, is_sync: Callable[[bytes], bool] = plain_sync
    ) -> None:
        self.address = address
        self.handler = handler
        self.is_sync = is_sync
        """Tells a SYNC from other command data (eSSP: opens an encrypted packet to look)."""
        self.deframer = Deframer()
        self.bad_frames = 0
        """Frames dropped for a bad CRC or cut short by a new STX."""
        self.retries = 0
        """Packets answered from the retry cache."""
        self._last_seq: bool | None = None
        self._last_reply: bytes | None = None
        self._after_sync = False

    def restart(self) -> None:
        """Forget the sequence state and any partial frame (the slave rebooted)."""
        self.deframer.reset()
        self.forget_reply()

    def forget_reply(self) -> None:
        """Forget the last reply, so that no retry is answered from it (a silent slave)."""
        self._last_seq = None
        self._last_reply = None
        self._after_sync = False

    def feed(self, data: bytes) -> bytes:
        """Take bytes from the host; return the framed replies to send back (maybe none)."""
        packet = self.deframer.whole(data)
        if packet is not None:  # one whole frame, as hosts write them: no byte loop
            if packet.address != self.address or not packet.data:
                return b""
            answer = self._answer(packet.seq, packet.data)
            return b"" if answer is None else frame_of(packet.seq, self.address, answer)
        out = bytearray()
        for item in self.deframer.feed(data):
            if isinstance(item, BadFrame):
                self.bad_frames += 1
                log.info("SSP slave %d: dropped a frame (%s)", self.address, item.reason)
                continue
            if item.address != self.address or not item.data:
                continue
            answer = self._answer(item.seq, item.data)
            if answer is not None:
                out += encode_frame(item.seq, self.address, answer)
        return bytes(out)

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
