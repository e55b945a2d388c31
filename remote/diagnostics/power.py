"""Checklist item "power": the UPS's Modbus TCP register map (:mod:`devices.protocols.ups_registers`):
mains input, output, battery charge and health, load, the status bits and the alarm word, and
the result of the last battery self-test. The self-test itself is the ``ups.battery_test``
remedy (it takes the battery off charge for a while), not part of this read-only test.
"""

from __future__ import annotations

import logging

from devices.protocols import ups_registers as regs
from remote.diagnostics.base import CHECKLIST_TEXT, Context, Diagnostic, Report
from workbench.fault_ids.ups import (
    BATTERY_DEGRADED,
    BATTERY_LOW,
    BROWNOUT,
    COMMS_LOST,
    MAINS_LOSS,
    OVERLOAD,
)

log = logging.getLogger(__name__)

BROWNOUT_BELOW_V = 187.0
"""EN 50160: 230 V - 10 % is the lowest a supply may give for long."""
HEALTH_MIN_PCT = 60.0


class PowerCheck(Diagnostic):
    """UPS and mains supply."""

    name = "power"
    checklist = CHECKLIST_TEXT["power"]
    device = "ups"
    silent_fault = COMMS_LOST

    async def check(self, ctx: Context, report: Report) -> None:
        address = ctx.port(self.device, "modbus")
        if address is None:
            report.fail(None, "the UPS has no Modbus TCP address in the manifest")
            return
        async with ctx.links.modbus(address, ctx.timeout_s) as ups:
            r = regs.decode_inputs(await ups.inputs(0, regs.INPUT_COUNT))
            flags = regs.decode_flags(await ups.discrete(0, regs.DISCRETE_COUNT))
            holding = await ups.holding(0, regs.HOLDING_COUNT)
        alarms = regs.decode_alarms(holding[regs.HoldingRegister.ALARMS])
        test = regs.decode_test_result(holding[regs.HoldingRegister.BATTERY_TEST_RESULT])
        threshold = holding[regs.HoldingRegister.LOW_BATTERY_THRESHOLD]
        for spec in regs.INPUT_MAP:
            report.measure(spec.name, float(getattr(r, spec.name)), spec.unit)
        report.measure("alarms", int(alarms))
        report.measure("battery_test", test.name.lower())
        if flags.on_battery or r.input_voltage <= 0:
            report.fail(
                MAINS_LOSS,
                f"on battery: input {r.input_voltage:g} V, charge {r.battery_charge:g} %",
            )
        if flags.low_battery or r.battery_charge < threshold:
            report.fail(
                BATTERY_LOW, f"battery charge {r.battery_charge:g} % (alarm below {threshold} %)"
            )
        if flags.overload or r.load > 100:
            report.fail(OVERLOAD, f"load {r.load:g} % of the UPS rating")
        if 0 < r.input_voltage < BROWNOUT_BELOW_V or (flags.avr_boost and not flags.on_battery):
            report.warn(BROWNOUT, f"mains {r.input_voltage:g} V: brownout, the AVR is boosting")
        if (
            flags.replace_battery
            or r.battery_health < HEALTH_MIN_PCT
            or test is regs.BatteryTestResult.FAILED
        ):
            report.warn(
                BATTERY_DEGRADED,
                f"battery health {r.battery_health:g} %, last self-test {test.name.lower()}",
            )
