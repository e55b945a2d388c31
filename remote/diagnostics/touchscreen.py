"""Checklist item "touchscreen positioning": the controller answers (``A`` check active, ``D``
firmware, ``E`` type), its stored calibration (``K``) is read, and, where a touch can be made,
five calibration targets are touched and each reported point, mapped through that calibration
the way the host's driver maps it, is compared with the target.

How a touch is measured: the stimulus touches the target (a person on site, or the simulated
kiosk's control plane), then the test sends ``A`` as a fence. The controller pushes touch packets
as they happen, so every packet of that touch is on the line before the fence's reply: no
timeouts, and a target with no packet before the fence fell in a dead zone.
"""

from __future__ import annotations

import logging
import math

from devices.protocols import touch as t
from devices.protocols.hosts import Exchange, touch
from remote.diagnostics.asking import ask, ask_with_retries
from remote.diagnostics.base import CHECKLIST_TEXT, Context, Diagnostic, LinkTimeout, Report
from remote.diagnostics.links import ByteLink
from workbench.errors import ProtocolError

log = logging.getLogger(__name__)

DRIFT = "touchscreen.calibration_drift"
DEAD_ZONE = "touchscreen.dead_zone"
UNRESPONSIVE = "touchscreen.unresponsive"
TARGETS = ((0.1, 0.1), (0.9, 0.1), (0.5, 0.5), (0.1, 0.9), (0.9, 0.9))
"""Calibration targets as fractions of the screen (four corners inset 10 %, and the centre)."""


class TouchHost:
    """The shared touch-controller driver (:mod:`devices.protocols.hosts.touch`) over a link;
    touch packets seen on the way are kept (:attr:`touches`). A query is sent again on each
    ``timeout`` without a reply, up to ``retries`` times, and the replies owed to its earlier
    tries are read before the next command; any other command is sent once and waited for as
    long as all a query's tries."""

    def __init__(
        self,
        link: ByteLink,
        timeout: float = touch.REPLY_TIMEOUT_S,
        *,
        retries: int = touch.RETRIES,
    ) -> None:
        self.link = link
        self.timeout = timeout
        """Seconds to wait for the reply to one try."""
        self.retries = retries
        """Times a query is sent again before the controller is called silent."""
        self.driver = touch.TouchHost()

    @property
    def touches(self) -> list[t.TouchPacket]:
        return self.driver.touches

    async def command(self, payload: bytes) -> bytes:
        """Send a command packet; returns the reply payload (its letter first)."""
        code = payload[0]
        tries = self.retries + 1
        if not touch.retry_safe(code):
            try:
                return await ask(self.link, self.driver.command(payload), tries * self.timeout)
            except LinkTimeout:
                raise LinkTimeout(
                    f"no reply to {chr(code)!r} in {tries * self.timeout:g} s (sent once)"
                ) from None
        got = await ask_with_retries(
            self.link,
            self.driver.command(payload),
            lambda: self.driver.command(payload),
            self.timeout,
            self.retries,
            lambda _, count: self._owed(code, count),
            device="touchscreen",
            what=repr(chr(code)),
            silent=f"no reply to {chr(code)!r}",
        )
        return got.answer

    def _owed(self, code: int, count: int) -> Exchange[bool]:
        """``count`` replies with letter ``code``, the first chunk fed being the bytes already
        read up to the answer (:func:`~remote.diagnostics.asking.ask_with_retries`): counted
        with a reader of their own, as the driver's reader (which keeps the touches) has read
        them already; the rest read by the driver (:meth:`touch.TouchHost.owed`)."""
        rest: Exchange[bool] | None = None

        def feed(chunk: bytes) -> bool | None:
            nonlocal rest
            if rest is not None:
                return rest.feed(chunk)
            found = sum(
                isinstance(item, t.CommandPacket) and item.code == code
                for item in t.PacketReader().feed(chunk)
            )
            if found >= count:
                return True
            rest = self.driver.owed(code, count - found)
            return None

        return Exchange(b"", feed, fresh=False)


class TouchscreenCheck(Diagnostic):
    """Touch controller and positioning accuracy."""

    name = "touchscreen"
    checklist = CHECKLIST_TEXT["touchscreen"]
    device = "touchscreen"
    silent_fault = UNRESPONSIVE

    def __init__(self, width: int = 1920, height: int = 1080, tolerance_px: float = 10.0) -> None:
        self.width = width
        self.height = height
        self.tolerance_px = tolerance_px

    async def check(self, ctx: Context, report: Report) -> None:
        path = ctx.port(self.device, "serial")
        if path is None:
            report.fail(None, "the touchscreen has no serial port in the manifest")
            return
        width, height = ctx.endpoints.get("screen", (self.width, self.height))
        async with ctx.links.serial(path) as link:
            host = TouchHost(link, ctx.timeout_s)
            await host.command(bytes([t.CHECK_ACTIVE]))
            report.measure(
                "firmware", (await host.command(bytes([t.FIRMWARE])))[1:].decode("ascii", "replace")
            )
            report.measure(
                "controller",
                (await host.command(bytes([t.CONTROLLER_TYPE])))[1:].decode("ascii", "replace"),
            )
            cal = t.Calibration.decode((await host.command(bytes([t.GET_CALIBRATION])))[1:])
            report.measure("calibration", [cal.x_left, cal.x_right, cal.y_top, cal.y_bottom], "raw")
            if not ctx.can_stimulate:
                report.note("no touch stimulus: positioning not measured (status only)")
                return
            assert ctx.stimulus is not None
            errors: list[float] = []
            lost: list[tuple[int, int]] = []
            for fx, fy in TARGETS:
                x, y = round(fx * width), round(fy * height)
                host.touches.clear()
                await ctx.stimulus.act("touchscreen", "touch", str(x), str(y))
                await host.command(bytes([t.CHECK_ACTIVE]))  # the fence
                down = [p for p in host.touches if p.down]
                if not down:
                    lost.append((x, y))
                    continue
                sx, sy = cal.to_screen(down[0].x, down[0].y, width, height)
                errors.append(math.hypot(sx - x, sy - y))
        report.measure("targets_touched", len(TARGETS), "targets")
        report.measure("targets_lost", len(lost), "targets")
        if errors:
            worst = max(errors)
            report.measure("max_position_error", worst, "px")
            report.measure("mean_position_error", sum(errors) / len(errors), "px")
            if worst > self.tolerance_px:
                report.fail(
                    DRIFT,
                    f"touches land up to {worst:.1f} px off target (tolerance {self.tolerance_px:g} px)",
                )
            elif worst > 0.7 * self.tolerance_px:
                report.warn(
                    DRIFT, f"touches land up to {worst:.1f} px off target: recalibrate soon"
                )
        if lost:
            where = ", ".join(f"({x}, {y})" for x, y in lost)
            if len(lost) == len(TARGETS):
                raise ProtocolError(f"no touch reported at any target ({where})")
            report.fail(DEAD_ZONE, f"no touch reported at {where}: dead zone on the panel")
