"""Checklist item "exterior": the cabinet's digital-I/O module on Modbus TCP: door switch, tamper
switch, the (latched) vibration input and the impact counter."""

from __future__ import annotations

import logging

from devices.protocols import ups_registers as regs
from remote.diagnostics.base import CHECKLIST_TEXT, Context, Diagnostic, Report

log = logging.getLogger(__name__)

DOOR_OPEN = "exterior.door_open"
TAMPER = "exterior.tamper"
VANDALISM = "exterior.vandalism"


class ExteriorCheck(Diagnostic):
    """Cabinet door, tamper and impact sensors."""

    name = "exterior"
    checklist = CHECKLIST_TEXT["exterior"]
    device = "exterior"

    async def check(self, ctx: Context, report: Report) -> None:
        address = ctx.port(self.device, "modbus")
        if address is None:
            report.fail(None, "the cabinet I/O module has no Modbus TCP address in the manifest")
            return
        async with ctx.links.modbus(address, ctx.timeout_s) as io:
            bits = await io.discrete(0, regs.CABINET_DISCRETE_COUNT)
            registers = await io.inputs(0, regs.CABINET_INPUT_COUNT)
        cabinet = regs.decode_cabinet(bits, registers)
        report.measure("door_closed", cabinet.door_closed)
        report.measure("tamper", cabinet.tamper)
        report.measure("vibration", cabinet.vibration)
        report.measure("impact_count", cabinet.impact_count, "impacts")
        if not cabinet.door_closed:
            report.fail(DOOR_OPEN, "the cabinet door is open")
        if cabinet.tamper:
            report.fail(TAMPER, "the tamper switch has tripped")
        if cabinet.vibration:
            report.fail(
                VANDALISM, f"impact sensor latched ({cabinet.impact_count} impacts counted)"
            )
