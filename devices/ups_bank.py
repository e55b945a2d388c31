"""The UPS's management card as a Modbus register map: discrete inputs, input and holding
registers read from the live model, and the writable holding registers (battery test command,
low-battery threshold) with the exception codes a refused write gets; see ``docs/registers.md``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from devices.protocols import ups_registers as regs
from devices.transports.modbus import ILLEGAL_ADDRESS, ILLEGAL_VALUE, Table
from workbench.fault_ids.ups import COMMS_LOST

if TYPE_CHECKING:
    from devices.ups import Ups


class UpsBank:
    """The UPS register map (:mod:`devices.protocols.ups_registers`) over the live model."""

    sizes = {
        Table.COILS: 0,
        Table.DISCRETE: regs.DISCRETE_COUNT,
        Table.HOLDING: regs.HOLDING_COUNT,
        Table.INPUT: regs.INPUT_COUNT,
    }

    def __init__(self, ups: Ups) -> None:
        self.ups = ups

    def snapshot(self, table: Table) -> Sequence[int] | Sequence[bool]:
        if table is Table.INPUT:
            return regs.encode_inputs(self.ups.readings())
        if table is Table.DISCRETE:
            return regs.encode_flags(self.ups.flags())
        if table is Table.HOLDING:
            return self.ups.holding()
        return []

    def write(self, address: int, values: Sequence[int]) -> int | None:
        lo, hi = regs.LOW_BATTERY_RANGE
        for offset, value in enumerate(values):
            reg = address + offset
            if reg == regs.HoldingRegister.BATTERY_TEST_COMMAND:
                if value == regs.TEST_COMMAND_START:
                    if (code := self.ups.start_battery_test()) is not None:
                        return code
                elif value != 0:
                    return ILLEGAL_VALUE
            elif reg == regs.HoldingRegister.LOW_BATTERY_THRESHOLD:
                if not lo <= value <= hi:
                    return ILLEGAL_VALUE
                self.ups.sync()
                self.ups.state.low_threshold_pct = value
                self.ups.record("low_battery_threshold", pct=value)
                self.ups.replan()
            else:
                return ILLEGAL_ADDRESS
        return None

    def answering(self) -> bool:
        return not self.ups.has(COMMS_LOST)
