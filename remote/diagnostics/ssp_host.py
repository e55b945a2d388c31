"""An SSP master for the validator and cash-box diagnostics over a link: the shared host driver
(:class:`devices.protocols.hosts.ssp.SspMaster`: sequence flag, SYNC, eSSP) with retries of the
same packet on a timeout (as ITL host libraries do: a reply timeout and a retry level, by default
:data:`~devices.protocols.hosts.ssp.REPLY_TIMEOUT_S` and
:data:`~devices.protocols.hosts.ssp.RETRIES`), and POLL decoded into events. A validator that
answers late, within the retries, is not called silent; one that stays silent through them is.

Encrypted SSP as ITL's host library does it: a command answered 0xFA (KEY NOT SET) makes the
host negotiate a key (SET GENERATOR, SET MODULUS, REQUEST KEY EXCHANGE) and send it again; from
then on every command but SYNC travels encrypted (:mod:`devices.protocols.essp`).
"""

from __future__ import annotations

import logging

from devices.protocols.essp import DEFAULT_FIXED_KEY, HostCrypto
from devices.protocols.hosts import Exchange
from devices.protocols.hosts.ssp import (
    NEGOTIATION,
    REPLY_TIMEOUT_S,
    RETRIES,
    SspAnswer,
    SspMaster,
    check_ok,
)
from devices.protocols.ssp_messages import (
    Command,
    Counters,
    PollEvent,
    Response,
    decode_poll_events,
)
from remote.diagnostics.asking import ask_with_retries
from remote.diagnostics.base import LinkTimeout
from remote.diagnostics.links import ByteLink

log = logging.getLogger(__name__)


class SspHost:
    """A master at address 0 over an open :class:`~remote.diagnostics.links.ByteLink`."""

    def __init__(
        self,
        link: ByteLink,
        timeout: float = REPLY_TIMEOUT_S,
        address: int = 0,
        fixed_key: int = DEFAULT_FIXED_KEY,
        *,
        retries: int = RETRIES,
    ) -> None:
        self.link = link
        self.timeout = timeout
        """Seconds to wait for the reply to one packet."""
        self.retries = retries
        """Times the same packet is sent again before the validator is called silent."""
        self.driver = SspMaster(address, fixed_key)
        self.round_trip_s = 0.0
        """Seconds from the last command's first try to its answer (the replies still owed to
        its earlier tries, read after, are not counted)."""
        self.every_try_answered = True
        """Whether the unit answered every try of the last command, late or not: False when it
        was given up on, or answered on a later try while the replies owed to the earlier ones
        did not all come (a try the unit never answered: lost on the line, or the unit silent)."""
        self.owing = False
        """Whether a reply to some try this host sent may still come (a command given up on, or
        late replies that did not all come): one carrying a later command's sequence flag would
        be taken for that command's answer."""

    @property
    def crypto(self) -> HostCrypto | None:
        """The encrypted channel, once a key is negotiated."""
        return self.driver.crypto

    async def _ask(self, code: int, exchange: Exchange[SspAnswer], retries: int) -> SspAnswer:
        """The answer to the packet just made, sent again (same sequence flag) on each timeout;
        :class:`LinkTimeout` once every try went unanswered. Answered late, the replies owed to
        the earlier tries are read: a later SYNC, whose flag is set whatever came before, must
        not take one."""
        what = f"0x{code:02X}"
        try:
            got = await ask_with_retries(
                self.link,
                exchange,
                self.driver.resend,
                self.timeout,
                retries,
                lambda _, count: self.driver.owed(count),
                device="validator",
                what=what,
                silent=f"validator silent to command {what}",
            )
        except LinkTimeout:
            self.every_try_answered, self.owing = False, True
            raise
        self.round_trip_s = got.round_trip_s
        self.every_try_answered = got.every_try_answered
        self.owing = self.owing or not got.every_try_answered
        return got.answer

    async def sync(self) -> None:
        """SYNC: resets the sequence; the next command carries the flag clear."""
        check_ok(
            Command.SYNC,
            await self._ask(Command.SYNC, self.driver.command(Command.SYNC), self.retries),
        )

    async def send(
        self, code: int, params: bytes = b"", *, retries: int | None = None
    ) -> tuple[int, bytes]:
        """A new command; returns the generic response code and the payload. A unit that answers
        KEY NOT SET gets a key negotiated and the command again, encrypted. ``retries``: this
        command's own retry level (0 for one that must not be repeated blindly)."""
        tries = self.retries if retries is None else retries
        status, payload = await self._ask(code, self.driver.command(code, params), tries)
        if status == Response.KEY_NOT_SET and code not in NEGOTIATION:
            log.info("validator wants encryption (0xFA to 0x%02X): negotiating a key", code)
            await self.negotiate()
            status, payload = await self._ask(code, self.driver.command(code, params), tries)
        return status, payload

    def forget_key(self) -> None:
        """Drop the eSSP key (the unit restarted and has none); commands go plain until the unit
        answers KEY NOT SET and a new key is negotiated."""
        self.driver.crypto = None

    async def negotiate(self) -> None:
        """eSSP key negotiation (Diffie-Hellman, as ITL's host library draws its numbers)."""
        payload = b""
        for code, exchange in self.driver.negotiation():
            payload = check_ok(code, await self._ask(code, exchange, self.retries))
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
