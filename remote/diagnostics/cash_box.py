"""Checklist item "cash box": present and not full (SSP poll events 0xE3 / 0xE7), and its fill from
the validator's stacked-note counter (GET COUNTERS, reset at each emptying) against its capacity.
"""

from __future__ import annotations

import logging

from devices.protocols.ssp_messages import Event
from remote.diagnostics.base import CHECKLIST_TEXT, Context, Diagnostic, Report
from remote.diagnostics.ssp_host import SspHost

log = logging.getLogger(__name__)

FULL = "cash_box.full"
REMOVED = "cash_box.removed"
NEAR_FULL = "cash_box.near_full"


class CashBoxCheck(Diagnostic):
    """The validator's cash box (stacker)."""

    name = "cash_box"
    checklist = CHECKLIST_TEXT["cash_box"]
    device = "bill_validator"
    silent_skips = True

    def __init__(self, capacity: int = 600, near_full_ratio: float = 0.9) -> None:
        self.capacity = capacity
        self.near_full_ratio = near_full_ratio

    async def check(self, ctx: Context, report: Report) -> None:
        path = ctx.port(self.device, "serial")
        if path is None:
            report.fail(None, "the validator has no serial port in the manifest")
            return
        capacity = int(ctx.endpoints.get("cash_box_capacity", self.capacity))
        async with ctx.links.serial(path) as link:
            host = SspHost(link, ctx.timeout_s)
            await host.sync()
            seen = {e.code for e in await host.poll()}
            counters = await host.counters()
        fill = 100.0 * counters.stacked / capacity
        report.measure("notes_in_cash_box", counters.stacked, "notes")
        report.measure("capacity", capacity, "notes")
        report.measure("fill", fill, "%")
        if Event.CASHBOX_REMOVED in seen:
            report.fail(REMOVED, "poll reports the cash box removed (0xE3)")
        if Event.STACKER_FULL in seen:
            report.fail(FULL, "poll reports the stacker full (0xE7): notes refused")
        if fill > 100 * self.near_full_ratio:
            report.warn(NEAR_FULL, f"cash box {fill:.0f} % full: plan a collection")
