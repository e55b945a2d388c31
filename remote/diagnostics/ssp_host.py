"""An SSP master for the validator and cash-box diagnostics: SYNC, the sequence flag toggled for
each new command, one retry of the same packet on a timeout (as ITL host libraries do), and POLL
decoded into events. Built on the shared codec, :mod:`devices.protocols.ssp`.
"""

from __future__ import annotations

import logging

from devices.protocols.ssp import Deframer, Packet, encode_frame
from devices.protocols.ssp_messages import (
    Command,
    Counters,
    PollEvent,
    Response,
    command,
    decode_poll_events,
    parse_reply,
)
from remote.diagnostics.base import LinkTimeout
from remote.diagnostics.links import SerialLink
from workbench.errors import ProtocolError

log = logging.getLogger(__name__)


class SspHost:
    """A master at address 0 over an open :class:`SerialLink`."""

    def __init__(self, link: SerialLink, timeout: float, address: int = 0) -> None:
        self.link = link
        self.timeout = timeout
        self.address = address
        self._seq = True
        self._deframer = Deframer()

    async def _exchange(self, seq: bool, data: bytes, retries: int) -> bytes:
        frame = encode_frame(seq, self.address, data)
        for attempt in range(retries + 1):
            self.link.drain_input()
            self._deframer.reset()
            self.link.write(frame)

            def feed(chunk: bytes) -> Packet | None:
                for item in self._deframer.feed(chunk):
                    if isinstance(item, Packet) and item.address == self.address:
                        return item
                return None

            try:
                packet = await self.link.until(feed, self.timeout)
            except LinkTimeout:
                if attempt == retries:
                    raise LinkTimeout(
                        f"validator silent to command 0x{data[0]:02X} "
                        f"({retries + 1} tries of {self.timeout:g} s)"
                    ) from None
                continue
            return packet.data
        raise AssertionError("unreachable")

    async def sync(self) -> None:
        """SYNC: resets the sequence; the next command carries the flag clear."""
        reply = await self._exchange(True, command(Command.SYNC), retries=1)
        self._check(Command.SYNC, reply)
        self._seq = True

    async def send(self, code: int, params: bytes = b"", *, retries: int = 1) -> tuple[int, bytes]:
        """A new command; returns the generic response code and the payload."""
        seq = not self._seq
        reply = await self._exchange(seq, command(code, params), retries)
        self._seq = seq
        return parse_reply(reply)

    async def ok(self, code: int, params: bytes = b"") -> bytes:
        """A command that must answer OK; returns its payload."""
        status, payload = await self.send(code, params)
        self._check(code, bytes([status]) + payload)
        return payload

    @staticmethod
    def _check(code: int, reply: bytes) -> None:
        if not reply or reply[0] != Response.OK:
            got = f"0x{reply[0]:02X}" if reply else "nothing"
            raise ProtocolError(f"command 0x{code:02X} answered {got}, not OK")

    async def poll(self) -> list[PollEvent]:
        """POLL: the events since the last poll and the ongoing states."""
        return decode_poll_events(await self.ok(Command.POLL))

    async def counters(self) -> Counters:
        """GET COUNTERS (0x58)."""
        return Counters.decode(await self.ok(Command.GET_COUNTERS))
