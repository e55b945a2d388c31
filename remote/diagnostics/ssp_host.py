"""An SSP master for the validator and cash-box diagnostics: SYNC, the sequence flag toggled for
each new command, one retry of the same packet on a timeout (as ITL host libraries do), and POLL
decoded into events. Built on the shared codec, :mod:`devices.protocols.ssp`.

Encrypted SSP as ITL's host library does it: a command answered 0xFA (KEY NOT SET) makes the
host negotiate a key (SET GENERATOR, SET MODULUS, REQUEST KEY EXCHANGE) and send it again; from
then on every command but SYNC travels encrypted (:mod:`devices.protocols.essp`).
"""

from __future__ import annotations

import logging

from devices.protocols.essp import DEFAULT_FIXED_KEY, HostCrypto, HostOffer
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
from remote.diagnostics.links import ByteLink
from workbench.errors import ProtocolError

log = logging.getLogger(__name__)

NEGOTIATION = frozenset({Command.SET_GENERATOR, Command.SET_MODULUS, Command.REQUEST_KEY_EXCHANGE})


class SspHost:
    """A master at address 0 over an open :class:`~remote.diagnostics.links.ByteLink`."""

    def __init__(
        self,
        link: ByteLink,
        timeout: float,
        address: int = 0,
        fixed_key: int = DEFAULT_FIXED_KEY,
    ) -> None:
        self.link = link
        self.timeout = timeout
        self.address = address
        self.fixed_key = fixed_key
        self.crypto: HostCrypto | None = None
        """The encrypted channel, once a key is negotiated."""
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
        """A new command; returns the generic response code and the payload. A unit that answers
        KEY NOT SET gets a key negotiated and the command again, encrypted."""
        status, payload = await self._command(command(code, params), retries)
        if status == Response.KEY_NOT_SET and code not in NEGOTIATION:
            log.info("validator wants encryption (0xFA to 0x%02X): negotiating a key", code)
            await self.negotiate()
            status, payload = await self._command(command(code, params), retries)
        return status, payload

    async def _command(self, data: bytes, retries: int) -> tuple[int, bytes]:
        seq = not self._seq
        crypto = self.crypto
        reply = await self._exchange(seq, crypto.command(data) if crypto else data, retries)
        self._seq = seq
        return parse_reply(crypto.reply(reply) if crypto else reply)

    async def negotiate(self) -> None:
        """eSSP key negotiation (Diffie-Hellman, as ITL's host library draws its numbers)."""
        self.crypto = None
        offer = HostOffer.new()
        payload = b""
        for code, params in offer.commands():
            payload = await self.ok(code, params)
        self.crypto = offer.finish(payload, self.fixed_key)

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
