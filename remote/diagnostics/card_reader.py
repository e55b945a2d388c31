"""Checklist item "card reader": the status reply (card position, shutter, retain bin) and, where a
test card can be inserted, a pass through the reader: entry enabled, track 2 read three times,
the chip powered on and off, the card ejected to the gate and taken back.

Speaks :mod:`devices.protocols.stx_bcc` with the ACK/NAK handshake: the host sends a command,
the reader ACKs it and sends its reply, the host ACKs the reply (a NAK asks for it again).
"""

from __future__ import annotations

import logging

from devices.protocols import stx_bcc as p
from devices.protocols.hosts import Exchange
from devices.protocols.hosts import card_reader as cr
from devices.protocols.hosts.card_reader import NAKED, CardReaderHost, ReaderAnswer
from remote.diagnostics.asking import ask_with_retries
from remote.diagnostics.base import CHECKLIST_TEXT, Context, Diagnostic, Report
from remote.diagnostics.links import ByteLink
from workbench.errors import ProtocolError

log = logging.getLogger(__name__)

JAM = "card_reader.card_jam"
HEAD_DIRTY = "card_reader.head_dirty"
SHUTTER_STUCK = "card_reader.shutter_stuck"
BIN_FULL = "card_reader.retain_bin_full"
NO_RESPONSE = "card_reader.no_response"
CHIP_FAULT = "card_reader.chip_contact_fault"
READS = 3


class ReaderHost:
    """The shared card-reader host driver (:mod:`devices.protocols.hosts.card_reader`) over an
    open link: each try waits ``timeout`` for the reply; on silence a query is sent again and any
    other command's reply is asked for again with a NAK (:func:`~devices.protocols.hosts.
    card_reader.retry_safe`), up to ``retries`` times; a NAKed command frame is sent once more."""

    def __init__(
        self, link: ByteLink, timeout: float = cr.REPLY_TIMEOUT_S, *, retries: int = cr.RETRIES
    ) -> None:
        self.link = link
        self.timeout = timeout
        """Seconds to wait for the reply to one try."""
        self.retries = retries
        """Times a host tries again before it calls the reader silent."""
        self.driver = CardReaderHost()

    async def command(self, cm: str, pm: str, data: bytes = b"") -> p.Reply:
        """Send a command and return the reader's reply; :class:`LinkTimeout` once every try went
        unanswered."""
        for _ in range(2):
            got = await self._tries(cm, pm, self.driver.command(cm, pm, data))
            if got == NAKED:
                continue  # our frame was garbled on the line; send it again
            self.link.write(self.driver.ack())
            return got
        raise ProtocolError(f"command {cm}{pm} NAKed twice")

    async def _tries(self, cm: str, pm: str, exchange: Exchange[ReaderAnswer]) -> ReaderAnswer:
        retry = exchange if cr.retry_safe(cm) else self.driver.again(exchange)
        got = await ask_with_retries(
            self.link,
            exchange,
            lambda: retry,
            self.timeout,
            self.retries,
            lambda got, count: None if got == NAKED else self.driver.owed(cm, pm, count),
            device="card reader",
            what=cm + pm,
            silent=f"no ACK or reply to command {cm}{pm}",
            how="sending it again" if retry is exchange else "asking for the reply again (NAK)",
        )
        return got.answer


class CardReaderCheck(Diagnostic):
    """Motorised card reader: mechanism status, read head, chip contacts."""

    name = "card_reader"
    checklist = CHECKLIST_TEXT["card_reader"]
    device = "card_reader"
    silent_fault = NO_RESPONSE

    async def check(self, ctx: Context, report: Report) -> None:
        path = ctx.port(self.device, "serial")
        if path is None:
            report.fail(None, "the card reader has no serial port in the manifest")
            return
        async with ctx.links.serial(path) as link:
            host = ReaderHost(link, ctx.timeout_s)
            status = await host.command(p.CM_STATUS, "0")
            if not status.positive:
                raise ProtocolError(f"status command answered error {status.code}")
            position, bin_state = status.code[0], status.code[1]
            shutter = chr(status.data[0]) if status.data else "?"
            retained = int(status.data[1:4]) if status.data[1:4].isdigit() else -1
            report.measure("card_position", position)
            report.measure(
                "shutter", {"0": "closed", "1": "open", "2": "stuck"}.get(shutter, shutter)
            )
            report.measure("retained_cards", retained, "cards")
            if position == p.POSITION_CODES["jammed"]:
                report.fail(JAM, "status st0 '3': a card is jammed in the transport")
            if shutter == p.SHUTTER_CODES["stuck"]:
                report.fail(SHUTTER_STUCK, "status reports the entry shutter stuck")
            if bin_state == "1":
                report.warn(BIN_FULL, "status st1 '1': the retain bin is full")
            if report.findings:
                return
            if not ctx.can_stimulate:
                report.note("no test card inserted (status only)")
                return
            if position != p.POSITION_CODES["none"]:
                report.note("a card is in the reader: test card pass skipped")
                return
            await self._card_pass(ctx, host, report)

    async def _card_pass(self, ctx: Context, host: ReaderHost, report: Report) -> None:
        assert ctx.stimulus is not None
        entry = await host.command(p.CM_ENTRY, "0")
        if not entry.positive:
            report.fail(SHUTTER_STUCK, f"entry enable answered error {entry.code}")
            return
        await ctx.stimulus.act("card_reader", "insert-card")
        try:
            status = await host.command(p.CM_STATUS, "0")
            if status.code[:1] != p.POSITION_CODES["inside"]:
                report.fail(SHUTTER_STUCK, "the test card was not drawn in")
                return
            errors = 0
            for _ in range(READS):
                read = await host.command(p.CM_READ, "2")
                if not read.positive:
                    errors += 1
            report.measure("track2_read_errors", errors, f"of {READS}")
            if errors >= 2:
                report.warn(HEAD_DIRTY, f"{errors} of {READS} track-2 reads failed: clean the head")
            chip = await host.command(p.CM_ICC, "0")
            if chip.positive:
                report.measure("atr_bytes", len(chip.data), "bytes")
                await host.command(p.CM_ICC, "1")
            else:
                report.warn(CHIP_FAULT, f"chip power-on answered error {chip.code} (no ATR)")
        finally:
            eject = await host.command(p.CM_CARRY, "0")
            if eject.positive:
                await ctx.stimulus.act("card_reader", "take-card")
            await host.command(p.CM_ENTRY, "1")
