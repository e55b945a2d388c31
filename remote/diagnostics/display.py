"""Checklist item "display brightness": over DDC/CI (MCCS), the power mode (VCP 0xD6), the
brightness setting (0x10), the backlight's measured luminance (0xE1, cd/m², its maximum the
nominal) scaled to full brightness, and the backlight hours (0xC0).

A display found in standby is asked once to switch on (Set 0xD6 = 1): one that stays in standby
has no video signal. The luminance is scaled by the brightness rather than measured at 100 %,
so the test never changes what the customer sees.

DDC/CI has no input flush and no sequence number, so replies a host gave up on may still arrive
on a later session's line. The host keeps what it is owed per port (:data:`LEFT_ON_LINE`), and
on a line it knows nothing about (the first session after the agent starts, or one cut short
mid-Get) it first finds the end of whatever is there with one Get of VCP 0xDF (:data:`UNKNOWN`).
"""

from __future__ import annotations

import logging

from devices.protocols import mccs as m
from devices.protocols.hosts import Exchange, ddc
from remote.diagnostics.asking import Heard, ask, read_owed
from remote.diagnostics.base import CHECKLIST_TEXT, Context, Diagnostic, LinkTimeout, Report
from remote.diagnostics.links import ByteLink

log = logging.getLogger(__name__)

DEGRADED = "display.backlight_degraded"
NO_SIGNAL = "display.no_signal"
PANEL_OFF = "display.panel_off"
BRIGHTNESS_LOW = "display.brightness_low"
LOW_BRIGHTNESS_RATIO = 0.30
DEGRADED_RATIO = 0.60


UNKNOWN = -1
"""In a port's :data:`LEFT_ON_LINE`: what may be on its line is not known, so the next Get finds
the end of it first (a Get of another code, :meth:`DdcHost.get`). A port this process has not
used yet starts so: an agent that restarts has lost what its predecessor was owed (or died before
it could note it), and a technician's tool, another build of the agent or a replaced display may
have left replies too. One exchange, once per port per agent start, reads the line itself rather
than trusting a record of it (a record kept on disk would be all of those things' blind spot)."""

LEFT_ON_LINE: dict[str, set[int]] = {}
"""By port, the VCP codes whose Get replies may still be on its line (or :data:`UNKNOWN`): a host
that gave up on a Get (no reply to any try), or did not get every late reply owed to its earlier
tries, is still owed replies naming that code, which a later Get of the same code, in this
session or the next on the port, would take for its own (DDC/CI has no input flush and no
sequence number). Kept for as long as this process runs; a port not in it is :data:`UNKNOWN`."""


class DdcHost:
    """The shared DDC/CI driver (:mod:`devices.protocols.hosts.ddc`) over a bridged line."""

    def __init__(self, link: ByteLink, timeout: float, retries: int = ddc.RETRIES) -> None:
        self.link = link
        self.timeout = timeout
        self.retries = retries
        """Times a Get VCP Feature is sent again before the display is called silent."""
        self.left = LEFT_ON_LINE.setdefault(link.path, {UNKNOWN})
        """The codes whose replies may still be on this port's line (:data:`LEFT_ON_LINE`)."""

    async def get(self, code: int) -> m.VcpReply:
        """Get VCP Feature, sent again on each timeout (a late reply to an earlier try is taken);
        raises :class:`ProtocolError` for an unsupported code. A reply naming another code is
        not its answer and is read past; when replies naming this code may still be on the line,
        or what is on it is not known (:data:`LEFT_ON_LINE`), a Get of another code goes first
        (:meth:`ddc.DdcHost.mark`), so that they are read past too."""
        unknown = UNKNOWN in self.left
        if unknown or code in self.left:
            marker = next(c for c in (ddc.MARKER, *range(256)) if c not in self.left)
            if unknown:
                why = ", asked to read past whatever an earlier session left on the line"
            else:
                why = f", asked to read past late replies to Get VCP 0x{code:02X}"
            await self._ask(marker, ddc.DdcHost.mark(marker), why)
            if unknown:
                # The reply taken may have been one an earlier host left for the same code, and
                # this Get's own still to come: a later marker must be another code.
                self.left.add(marker)
                log.info("display: found the end of what was on the line (Get VCP 0x%02X)", marker)
            else:
                log.info("display: read past late replies to Get VCP 0x%02X", code)
        return await self._ask(code, ddc.DdcHost.get(code))

    async def _ask(self, code: int, exchange: Exchange[m.VcpReply], why: str = "") -> m.VcpReply:
        """:meth:`_tries`; one cut short (cancelled, or an error reply to a try when earlier
        tries' replies are still owed) leaves the line :data:`UNKNOWN`."""
        try:
            return await self._tries(code, exchange, why)
        except LinkTimeout:
            raise
        except BaseException:
            self.left.add(UNKNOWN)
            raise

    async def _tries(self, code: int, exchange: Exchange[m.VcpReply], why: str) -> m.VcpReply:
        """Send ``exchange`` (a Get of ``code``) until it is answered, up to :attr:`retries`
        times more. A try in whose time the display sent replies that are not the answer (late
        ones, read past) is not a try it was silent to: it is sent again without counting, as
        many times as the replies that may still be owed on the line. (Not the other hosts'
        :func:`~remote.diagnostics.asking.ask_with_retries`: this loop does not count a try
        during which other replies came as one the display was silent to, and remembers a Get
        given up on for the port, as a leftover DDC/CI reply names only its VCP code and looks
        exactly like the answer to the next Get of it.)"""
        heard = False
        read = Heard()

        def feed(chunk: bytes) -> m.VcpReply | None:
            nonlocal heard
            heard = True
            return exchange.feed(chunk)

        listening = read.tap(Exchange(exchange.request, feed, exchange.fresh))
        spare = (self.retries + 1) * len(self.left)
        sent = silent = 0
        while True:
            heard = False
            sent += 1
            try:
                reply = await ask(self.link, listening, self.timeout)
            except LinkTimeout:
                if heard and spare > 0:
                    spare -= 1
                    continue
                silent += 1
                if silent > self.retries:
                    self.left.add(code)  # every try's reply is still owed
                    raise LinkTimeout(
                        f"no reply to Get VCP 0x{code:02X}{why} "
                        f"({sent} tries of {self.timeout:g} s)"
                    ) from None
                continue
            # The display answers in order: every reply to what was sent before this Get has
            # come before its answer (and was read past), or never will.
            self.left.clear()
            if owed := sent - 1:  # the earlier tries' replies are still coming: read them first
                what = f"0x{code:02X}"
                exchange_owed = ddc.DdcHost.owed(code, owed + 1)  # the answer's reply is read
                if not await read_owed(
                    self.link, exchange_owed, owed, self.timeout, "display", what, bytes(read.data)
                ):
                    self.left.add(code)
            return reply

    def set(self, code: int, value: int) -> None:
        """Set VCP Feature (the display does not reply)."""
        self.link.write(ddc.DdcHost.set(code, value))


class DisplayCheck(Diagnostic):
    """Kiosk display over DDC/CI."""

    name = "display"
    checklist = CHECKLIST_TEXT["display"]
    device = "display"

    async def check(self, ctx: Context, report: Report) -> None:
        path = ctx.port(self.device, "serial")
        if path is None:
            report.fail(None, "the display has no serial (DDC/CI bridge) port in the manifest")
            return
        async with ctx.links.serial(path) as link:
            ddc = DdcHost(link, ctx.timeout_s)
            power = (await ddc.get(m.VCP_POWER_MODE)).current
            if power == m.POWER_STANDBY:
                ddc.set(m.VCP_POWER_MODE, m.POWER_ON)
                power = (await ddc.get(m.VCP_POWER_MODE)).current
            report.measure("power_mode", power)
            bright = await ddc.get(m.VCP_LUMINANCE)
            report.measure("brightness", bright.current, f"of {bright.maximum}")
            lum = await ddc.get(m.VCP_MEASURED_LUMINANCE)
            report.measure("luminance", lum.current, "cd/m2")
            hours = await ddc.get(m.VCP_USAGE_HOURS)
            report.measure("backlight_hours", hours.maximum << 16 | hours.current, "h")
        if power in (m.POWER_OFF, m.POWER_HARD_OFF):
            report.fail(PANEL_OFF, f"power mode {power}: the panel is switched off")
            return
        if power != m.POWER_ON:
            report.fail(NO_SIGNAL, f"power mode {power} even after Set 0xD6=1: no video signal")
            return
        if bright.maximum and bright.current < LOW_BRIGHTNESS_RATIO * bright.maximum:
            report.warn(
                BRIGHTNESS_LOW, f"brightness {bright.current} of {bright.maximum} is too low"
            )
        if bright.current > 0 and lum.maximum > 0:
            full = lum.current * (bright.maximum or 100) / bright.current
            ratio = full / lum.maximum
            report.measure("luminance_at_full_brightness", full, "cd/m2")
            report.measure("luminance_of_nominal", 100 * ratio, "%")
            if ratio < DEGRADED_RATIO:
                report.warn(
                    DEGRADED, f"backlight gives {100 * ratio:.0f} % of its nominal luminance"
                )
