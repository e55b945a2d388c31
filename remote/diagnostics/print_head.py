"""Checklist item "print head": the printer's real-time status (``DLE EOT 1..4``: offline and its
cause, error cause, paper sensor), its identity (``GS I``), the maintenance counters
(``GS g 2``: head running distance since the last cleaning, cumulative distance, cuts, hours),
and a test pattern printed and cut, proven on paper by the line-feed counter moving on.

Speaks ESC/POS on the printer's serial port (or its port-9100 TCP port) with the shared codec,
:mod:`devices.protocols.escpos_status`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from devices.protocols.hosts import Exchange
from devices.protocols.hosts.escpos import EscPosStatusHost
from remote.diagnostics.asking import ask
from remote.diagnostics.base import CHECKLIST_TEXT, Context, Diagnostic, LinkTimeout, Report
from remote.diagnostics.links import ByteLink
from workbench.fault_ids.printer import (
    COVER_OPEN,
    CUTTER_JAM,
    HEAD_DIRTY,
    NEAR_END,
    OFFLINE,
    OVERHEAT,
    PAPER_JAM,
    PAPER_OUT,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

LINE_MM = 25.4 / 6
"""One line feed of the line-feed counter (1/6 inch)."""

TEST_PATTERN = (
    b"\x1b@"  # initialise
    + b"\x1ba\x01"  # centre
    + b"\x1bE\x01PRINT HEAD TEST\x1bE\x00\n"
    + b"\x1ba\x00"
    + b"".join(bytes([c]) * 42 + b"\n" for c in b"#=-.")  # solid to sparse dot rows
    + b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef\n"
    + b"\x1bd\x03"  # feed 3 lines
    + b"\x1dV\x01"  # partial cut
)
DUE_RATIO = 0.999
"""Counters count whole lines: a head at its cleaning interval may read a line short of it."""
PATTERN_LINES = 8
"""Line feeds the pattern moves the paper at least (title, five rows, three fed)."""


class EscPosHost:
    """The shared ESC/POS status driver (:mod:`devices.protocols.hosts.escpos`) over a link.
    Status queries change nothing, so one that goes unanswered is asked once more before the
    printer is called silent (a loaded host, a byte lost on the line)."""

    def __init__(self, link: ByteLink, timeout: float) -> None:
        self.link = link
        self.timeout = timeout

    async def _ask(self, make: Callable[[], Exchange[T]]) -> T:
        try:
            return await ask(self.link, make(), self.timeout)
        except LinkTimeout:
            return await ask(self.link, make(), self.timeout)

    async def realtime(self, n: int) -> set[str]:
        """``DLE EOT n`` decoded to the conditions it reports."""
        return await self._ask(lambda: EscPosStatusHost.realtime(n))

    async def block(self, request: bytes) -> str:
        """A ``_ ... NUL`` reply (``GS I n`` with n >= 65, ``GS g 2``)."""
        return await self._ask(lambda: EscPosStatusHost.block(request))

    async def counter(self, number: int) -> int:
        """A ``GS g 2`` maintenance counter."""
        return await self._ask(lambda: EscPosStatusHost.counter(number))


class PrintHeadCheck(Diagnostic):
    """Receipt printer: status, head wear, a test print."""

    name = "print_head"
    checklist = CHECKLIST_TEXT["print_head"]
    device = "printer"

    def __init__(self, clean_interval_m: float = 5000.0) -> None:
        self.clean_interval_m = clean_interval_m

    async def check(self, ctx: Context, report: Report) -> None:
        path = ctx.port(self.device, "serial")
        link: ByteLink
        if path is not None:
            link = ctx.links.serial(path)
        elif (address := ctx.port(self.device, "tcp")) is not None:
            link = ctx.links.tcp(address)
        else:
            report.fail(None, "the printer has no serial or TCP port in the manifest")
            return
        async with link:
            host = EscPosHost(link, ctx.timeout_s)
            cond = set()
            for n in (1, 2, 3, 4):
                cond |= await host.realtime(n)
            report.measure("status", " ".join(sorted(cond)) or "ready")
            report.measure("model", await host.block(b"\x1dIC"))
            report.measure("firmware", await host.block(b"\x1dIA"))
            since_clean = await host.counter(20) * LINE_MM / 1000
            total = await host.counter(148) * LINE_MM / 1000
            report.measure("head_distance_since_cleaning", since_clean, "m")
            report.measure("head_distance_total", total, "m")
            report.measure("autocuts", await host.counter(178), "cuts")
            report.measure("operating_hours", await host.counter(198), "h")
            self._judge(cond, since_clean, report)
            if report.findings:
                return
            if "offline" in cond:
                report.note("printer busy (paper being fed): no test pattern printed")
                return
            if ctx.quick:
                report.note("no test pattern printed (status only)")
                return
            before = await host.counter(20)
            link.write(TEST_PATTERN)
            cond = set()
            for n in (1, 2, 3, 4):
                cond |= await host.realtime(n)
            moved = await host.counter(20) - before
            report.measure("test_pattern_lines", moved, "lines")
            if moved < PATTERN_LINES:
                report.fail(
                    None, f"test pattern moved the paper {moved} lines, expected {PATTERN_LINES}+"
                )
            self._judge(cond, since_clean, report)

    def _judge(self, cond: set[str], since_clean_m: float, report: Report) -> None:
        if "paper_end" in cond or "paper_end_stop" in cond:
            report.fail(PAPER_OUT, "paper end: printing stopped")
        elif "near_end" in cond:
            report.warn(NEAR_END, "paper roll near its end")
        if "cover_open" in cond:
            report.fail(COVER_OPEN, "the printer cover is open")
        if "cutter_error" in cond:
            report.fail(CUTTER_JAM, "autocutter error")
        if "unrecoverable_error" in cond:
            report.fail(PAPER_JAM, "unrecoverable error: paper jammed")
        if "auto_recoverable_error" in cond:
            report.fail(OVERHEAT, "auto-recoverable error: print head overheated")
        causes = {"paper_end_stop", "cover_open", "feeding"}
        errors = {"cutter_error", "unrecoverable_error", "auto_recoverable_error"}
        if "error" in cond and not cond & errors:
            report.fail(OFFLINE, "offline with an error and no error cause: printer offline")
        elif "offline" in cond and not cond & (causes | errors | {"error"}):
            report.fail(OFFLINE, "the printer is offline with no cause reported")
        if since_clean_m >= DUE_RATIO * self.clean_interval_m:
            report.warn(
                HEAD_DIRTY,
                f"head ran {since_clean_m:,.0f} m since its last cleaning "
                f"(interval {self.clean_interval_m:g} m)",
            )
