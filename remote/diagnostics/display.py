"""Checklist item "display brightness": over DDC/CI (MCCS), the power mode (VCP 0xD6), the
brightness setting (0x10), the backlight's measured luminance (0xE1, cd/m², its maximum the
nominal) scaled to full brightness, and the backlight hours (0xC0).

A display found in standby is asked once to switch on (Set 0xD6 = 1): one that stays in standby
has no video signal. The luminance is scaled by the brightness rather than measured at 100 %,
so the test never changes what the customer sees.
"""

from __future__ import annotations

import logging

from devices.protocols import mccs as m
from devices.protocols.hosts import ddc
from remote.diagnostics.base import CHECKLIST_TEXT, Context, Diagnostic, LinkTimeout, Report
from remote.diagnostics.links import ByteLink, ask, read_owed

log = logging.getLogger(__name__)

DEGRADED = "display.backlight_degraded"
NO_SIGNAL = "display.no_signal"
PANEL_OFF = "display.panel_off"
BRIGHTNESS_LOW = "display.brightness_low"
LOW_BRIGHTNESS_RATIO = 0.30
DEGRADED_RATIO = 0.60


class DdcHost:
    """The shared DDC/CI driver (:mod:`devices.protocols.hosts.ddc`) over a bridged line."""

    def __init__(self, link: ByteLink, timeout: float, retries: int = ddc.RETRIES) -> None:
        self.link = link
        self.timeout = timeout
        self.retries = retries
        """Times a Get VCP Feature is sent again before the display is called silent."""

    async def get(self, code: int) -> m.VcpReply:
        """Get VCP Feature, sent again on each timeout (a late reply to an earlier try is taken);
        raises :class:`ProtocolError` for an unsupported code."""
        for attempt in range(self.retries + 1):
            try:
                reply = await ask(self.link, ddc.DdcHost.get(code), self.timeout)
            except LinkTimeout:
                if attempt == self.retries:
                    raise LinkTimeout(
                        f"no reply to Get VCP 0x{code:02X} "
                        f"({self.retries + 1} tries of {self.timeout:g} s)"
                    ) from None
                continue
            if attempt:  # the earlier tries' replies are still coming: read them first
                owed = ddc.DdcHost.owed(code, attempt)
                await read_owed(self.link, owed, attempt, self.timeout, "display", f"0x{code:02X}")
            return reply
        raise AssertionError("unreachable")

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
