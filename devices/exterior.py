"""The kiosk cabinet: door switch, tamper switch and a vibration (impact) sensor wired to a small
Modbus TCP digital-I/O module of its own, with an impact counter.

A kick is a short vibration pulse and one more impact counted; several kicks in a short
window are vandalism, which latches the vibration input until someone clears it on site.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import simpy

from devices.base import EventSink, ServedDevice, action
from devices.protocols import ups_registers as regs
from devices.protocols.ups_registers import CabinetState
from devices.transports.modbus import ILLEGAL_ADDRESS, ModbusPort, Table
from workbench.config import Strict
from workbench.errors import DeviceError
from workbench.faults import FaultMode

log = logging.getLogger(__name__)

DOOR_OPEN = "exterior.door_open"
TAMPER = "exterior.tamper"
VANDALISM = "exterior.vandalism"


class ExteriorSettings(Strict):
    """Sensor timing of the cabinet I/O module."""

    model: str = "DIO-8 cabinet module"
    vibration_pulse_s: float = 2.0
    """How long one impact holds the vibration input high."""
    vandalism_kicks: int = 3
    """Impacts within ``vandalism_window_s`` that count as vandalism."""
    vandalism_window_s: float = 60.0


@dataclass(slots=True)
class CabinetModel:
    """Switch and sensor state."""

    door_closed: bool = True
    tamper: bool = False
    pulse_until: float = -1.0
    impact_count: int = 0
    recent: list[float] = field(default_factory=list)


class Exterior(ServedDevice[ExteriorSettings]):
    """The cabinet. Actions: ``open-door``, ``close-door``, ``kick``."""

    kind = "exterior"

    def __init__(
        self,
        env: simpy.Environment,
        settings: ExteriorSettings,
        modes: list[FaultMode],
        *,
        name: str | None = None,
        rng: random.Random | None = None,
        sink: EventSink | None = None,
    ) -> None:
        super().__init__(env, settings, modes, name=name, rng=rng, sink=sink)
        self.state = CabinetModel()

    # -- faults and stimuli --------------------------------------------------------------------
    def _apply(self, fault_id: str, active: bool) -> None:
        st = self.state
        if fault_id == DOOR_OPEN:
            st.door_closed = not active
        elif fault_id == TAMPER:
            st.tamper = active
        elif fault_id == VANDALISM and active and not st.recent:
            self._impact()  # injected directly: the impact that raised it is counted
        if fault_id == VANDALISM and not active:
            st.recent.clear()  # the sensor is reset on site: no pulse, a fresh window
            st.pulse_until = -1.0

    def _impact(self) -> None:
        st = self.state
        st.impact_count += 1
        st.pulse_until = self.env.now + self.settings.vibration_pulse_s
        self.record("impact", count=st.impact_count)

    @action("open-door", "Staff open the cabinet door")
    def _act_open(self) -> str:
        self.inject(DOOR_OPEN)
        return "door open"

    @action("close-door", "Staff close the cabinet door")
    def _act_close(self) -> str:
        self.clear(DOOR_OPEN)
        return "door closed"

    @action("kick", "Someone strikes the cabinet")
    def _act_kick(self) -> str:
        st, s = self.state, self.settings
        st.recent = [t for t in st.recent if self.env.now - t < s.vandalism_window_s]
        st.recent.append(self.env.now)
        self._impact()
        if len(st.recent) >= s.vandalism_kicks and not self.has(VANDALISM):
            self.inject(VANDALISM)
        return f"impact {st.impact_count}"

    # -- what the module reports ---------------------------------------------------------------
    def cabinet(self) -> CabinetState:
        """The inputs now: vibration is high during a pulse and while vandalism is latched."""
        st = self.state
        vibration = self.env.now < st.pulse_until or self.has(VANDALISM)
        return CabinetState(st.door_closed, st.tamper, vibration, st.impact_count)

    def status(self) -> dict[str, Any]:
        """Faults and inputs."""
        c = self.cabinet()
        return {
            **super().status(),
            "door_closed": c.door_closed,
            "tamper": c.tamper,
            "vibration": c.vibration,
            "impact_count": c.impact_count,
        }

    def open_port(self, kind: str, host: str) -> ModbusPort:
        """The cabinet I/O module: Modbus TCP (see ``docs/registers.md``)."""
        if kind != "modbus":
            raise DeviceError(f"{self.name} has no {kind!r} port; it speaks modbus")
        return ModbusPort(
            CabinetBank(self),
            host=host,
            name=self.name,
            clock=self,
            on_out_of_map=self.address_refused,
        )


class CabinetBank:
    """The cabinet I/O map over the live model; it has no writable registers."""

    sizes = {
        Table.COILS: 0,
        Table.DISCRETE: regs.CABINET_DISCRETE_COUNT,
        Table.HOLDING: 0,
        Table.INPUT: regs.CABINET_INPUT_COUNT,
    }

    def __init__(self, exterior: Exterior) -> None:
        self.exterior = exterior

    def snapshot(self, table: Table) -> Sequence[int] | Sequence[bool]:
        bits, registers = regs.encode_cabinet(self.exterior.cabinet())
        return bits if table is Table.DISCRETE else registers

    def write(self, address: int, values: Sequence[int]) -> int | None:
        return ILLEGAL_ADDRESS

    def answering(self) -> bool:
        return True
