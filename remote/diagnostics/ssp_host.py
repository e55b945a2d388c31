"""An SSP master for the validator and cash-box diagnostics over a link: the shared host driver
(:class:`devices.protocols.hosts.ssp.SspMaster`: sequence flag, SYNC, eSSP) with one retry of
the same packet on a timeout (as ITL host libraries do), and POLL decoded into events.

Encrypted SSP as ITL's host library does it: a command answered 0xFA (KEY NOT SET) makes the
host negotiate a key (SET GENERATOR, SET MODULUS, REQUEST KEY EXCHANGE) and send it again; from
then on every command but SYNC travels encrypted (:mod:`devices.protocols.essp`).
"""

from __future__ import annotations

import logging

from devices.protocols.essp import DEFAULT_FIXED_KEY, HostCrypto
from devices.protocols.hosts.ssp import NEGOTIATION, SspAnswer, SspMaster, check_ok
from devices.protocols.ssp_messages import (
    Command,
    Counters,
    PollEvent,
    Response,
    decode_poll_events,
)
from remote.diagnostics.base import LinkTimeout
from remote.diagnostics.links import ByteLink, ask

log = logging.getLogger(__name__)


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
        self.driver = SspMaster(address, fixed_key)

    @property
    def crypto(self) -> HostCrypto | None:
        """The encrypted channel, once a key is negotiated."""
        return self.driver.crypto

    async def _send(self, code: int, params: bytes, retries: int) -> SspAnswer:
        exchange = self.driver.command(code, params)
        for attempt in range(retries + 1):
            try:
                return await ask(self.link, exchange, self.timeout)
            except LinkTimeout:
                if attempt == retries:
                    raise LinkTimeout(
                        f"validator silent to command 0x{code:02X} "
                        f"({retries + 1} tries of {self.timeout:g} s)"
                    ) from None
                exchange = self.driver.resend()
        raise AssertionError("unreachable")

    async def sync(self) -> None:
        """SYNC: resets the sequence; the next command carries the flag clear."""
        check_ok(Command.SYNC, await self._send(Command.SYNC, b"", retries=1))

    async def send(self, code: int, params: bytes = b"", *, retries: int = 1) -> tuple[int, bytes]:
        """A new command; returns the generic response code and the payload. A unit that answers
        KEY NOT SET gets a key negotiated and the command again, encrypted."""
        status, payload = await self._send(code, params, retries)
        if status == Response.KEY_NOT_SET and code not in NEGOTIATION:
            log.info("validator wants encryption (0xFA to 0x%02X): negotiating a key", code)
            await self.negotiate()
            status, payload = await self._send(code, params, retries)
        return status, payload

    async def negotiate(self) -> None:
        """eSSP key negotiation (Diffie-Hellman, as ITL's host library draws its numbers)."""
        payload = b""
        for code, exchange in self.driver.negotiation():
            payload = check_ok(code, await ask(self.link, exchange, self.timeout))
        self.driver.finish_negotiation(payload)

    async def ok(self, code: int, params: bytes = b"") -> bytes:
        """A command that must answer OK; returns its payload."""
        return check_ok(code, await self.send(code, params))

    async def poll(self) -> list[PollEvent]:
        """POLL: the events since the last poll and the ongoing states."""
        return decode_poll_events(await self.ok(Command.POLL))

    async def counters(self) -> Counters:
        """GET COUNTERS (0x58)."""
        return Counters.decode(await self.ok(Command.GET_COUNTERS))
