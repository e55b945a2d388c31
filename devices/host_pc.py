"""The kiosk's host PC as its sensors see it: CPU temperature following the fan and the heat load
with a thermal time constant, disk health and free space, corrected memory errors, uptime and
clock offset, served as ``GET /sensors`` JSON (:class:`devices.protocols.health.HostSensors`).

A real terminal's agent fills the same document from the real machine with psutil
(``remote.real_terminal.RealHostSensors``), so one diagnostic reads both.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass
from typing import Any, Protocol

import simpy

from devices.base import EventSink, ServedDevice, action
from devices.protocols.health import HostSensors
from devices.transports.http import HttpPort, Route
from workbench.clock import DAY, HOUR
from workbench.config import Strict
from workbench.errors import DeviceError
from workbench.faults import FaultMode

log = logging.getLogger(__name__)

OVERHEATING = "host_pc.overheating"
FAN_FAILURE = "host_pc.fan_failure"
DISK_FULL = "host_pc.disk_full"
DISK_FAILING = "host_pc.disk_failing"
MEMORY_ERRORS = "host_pc.memory_errors"
CLOCK_DRIFT = "host_pc.clock_drift"

EPS = 1e-9


class SensorSource(Protocol):
    """Anything that can fill a ``/sensors`` document."""

    def read(self) -> HostSensors:
        """The sensors now."""
        ...


def sensor_routes(source: SensorSource) -> dict[str, Route]:
    """The HTTP routes of a host PC's sensor endpoint."""
    return {"/sensors": lambda: source.read().model_dump(mode="json")}


class HostPcSettings(Strict):
    """A fanned small-form-factor kiosk PC in a warm cabinet."""

    model: str = "KPC-8500T"
    ambient_c: float = 30.0
    heat_rise_c: float = 18.0
    """CPU temperature above ambient with the fan running."""
    no_fan_rise_c: float = 70.0
    """CPU temperature above ambient with the fan stopped (before throttling)."""
    blocked_rise_c: float = 62.0
    """Rise when an ``overheating`` is injected (clogged heat sink)."""
    thermal_tau_s: float = 240.0
    fan_rpm: int = 2400
    overheat_c: float = 85.0
    overheat_clear_c: float = 80.0
    disk_free_pct: float = 60.0
    disk_fill_pct_per_day: float = 0.05
    disk_full_below_pct: float = 5.0
    injected_disk_free_pct: float = 3.0
    realloc_jump: int = 8
    realloc_per_hour: float = 6.0
    memory_errors_per_hour: float = 12.0
    injected_clock_offset_s: float = 42.0
    clock_drift_s_per_day: float = 3.0


@dataclass(slots=True)
class PcState:
    """Sensor state; continuous values are as of ``since`` and evolve analytically."""

    temp_c: float
    temp_at: float
    disk_free_pct: float
    disk_at: float
    boot_at: float
    realloc: int = 0
    realloc_since: float | None = None
    mem_errors: int = 0
    mem_since: float | None = None
    clock_offset_s: float = 0.0
    clock_since: float | None = None


class HostPc(ServedDevice[HostPcSettings]):
    """The PC. Actions: ``clean-disk``, ``sync-time``, ``reboot``."""

    kind = "host_pc"

    def __init__(
        self,
        env: simpy.Environment,
        settings: HostPcSettings,
        modes: list[FaultMode],
        *,
        name: str | None = None,
        rng: random.Random | None = None,
        sink: EventSink | None = None,
    ) -> None:
        super().__init__(env, settings, modes, name=name, rng=rng, sink=sink)
        s = settings
        self.state = PcState(
            temp_c=s.ambient_c + s.heat_rise_c,
            temp_at=env.now,
            disk_free_pct=s.disk_free_pct,
            disk_at=env.now,
            boot_at=env.now,
        )
        self._by_wear_overheat = False
        """Whether the active overheating came from the fan (it clears itself on cooling)."""

    # -- physics -----------------------------------------------------------------------------
    def equilibrium_c(self) -> float:
        """Where the CPU temperature is heading with the present fan and heat sink."""
        s = self.settings
        rise = s.heat_rise_c
        if self.has(OVERHEATING) and not self._by_wear_overheat:
            rise = max(rise, s.blocked_rise_c)
        if self.has(FAN_FAILURE):
            rise = max(rise, s.no_fan_rise_c)
        return s.ambient_c + rise

    def cpu_temp_c(self) -> float:
        st = self.state
        eq = self.equilibrium_c()
        return eq + (st.temp_c - eq) * math.exp(
            -(self.env.now - st.temp_at) / self.settings.thermal_tau_s
        )

    def disk_free_pct(self) -> float:
        st = self.state
        used = self.settings.disk_fill_pct_per_day * (self.env.now - st.disk_at) / DAY
        return max(0.0, st.disk_free_pct - used)

    def _settle(self) -> None:
        """Fix the continuous values at ``now`` before a rate changes."""
        st = self.state
        st.temp_c, st.temp_at = self.cpu_temp_c(), self.env.now
        st.disk_free_pct, st.disk_at = self.disk_free_pct(), self.env.now

    def _next_crossing(self) -> float:
        s, st = self.settings, self.state
        out = [float("inf")]
        eq = self.equilibrium_c()
        temp = self.cpu_temp_c()
        hot = self.has(OVERHEATING)
        lines = [(s.overheat_c, True)] if not hot else []
        if hot and self._by_wear_overheat:
            lines.append((s.overheat_clear_c, False))
        for line, up in lines:
            if (up and temp < line < eq) or (not up and eq < line < temp):
                at = st.temp_at + s.thermal_tau_s * math.log((st.temp_c - eq) / (line - eq))
                out.append(at - self.env.now)
        free = self.disk_free_pct()
        if s.disk_fill_pct_per_day > 0 and free > s.disk_full_below_pct + EPS:
            out.append((free - s.disk_full_below_pct) / s.disk_fill_pct_per_day * DAY)
        return max(0.0, min(out))

    def _react(self) -> None:
        s = self.settings
        temp = self.cpu_temp_c()
        if temp >= s.overheat_c - 1e-6:
            self.worn(OVERHEATING, True)
        elif temp <= s.overheat_clear_c + 1e-6 and self._by_wear_overheat:
            self.worn(OVERHEATING, False)
        if self.disk_free_pct() <= s.disk_full_below_pct + 1e-6:
            self.worn(DISK_FULL, True)

    def start(self) -> None:
        """Start the thermal and disk process."""
        self.follow(self._react, self._next_crossing)

    # -- faults ------------------------------------------------------------------------------
    def inject(self, fault_id: str) -> None:
        """Raise a fault; temperatures and disk use are settled at the old rates first."""
        self._settle()
        super().inject(fault_id)

    def clear(self, fault_id: str) -> None:
        """Clear a fault; temperatures and disk use are settled at the old rates first."""
        self._settle()
        super().clear(fault_id)

    def _apply(self, fault_id: str, active: bool) -> None:
        st, s, now = self.state, self.settings, self.env.now
        if fault_id == OVERHEATING:
            if active:
                self._by_wear_overheat = self.by_wear
                if not self.by_wear:  # a clogged heat sink: hot at once
                    st.temp_c = max(st.temp_c, s.ambient_c + s.blocked_rise_c)
            else:
                if not self.by_wear:  # cleaned on site; the repair time let it cool
                    st.temp_c = min(st.temp_c, self.equilibrium_c())
                self._by_wear_overheat = False
        elif fault_id == DISK_FAILING:
            st.realloc = st.realloc + s.realloc_jump if active else 0
            st.realloc_since = now if active else None
        elif fault_id == DISK_FULL:
            if active and not self.by_wear:
                st.disk_free_pct = min(st.disk_free_pct, s.injected_disk_free_pct)
            elif not active:
                st.disk_free_pct = s.disk_free_pct
        elif fault_id == MEMORY_ERRORS:
            st.mem_errors = 1 if active else 0
            st.mem_since = now if active else None
        elif fault_id == CLOCK_DRIFT:
            st.clock_offset_s = s.injected_clock_offset_s if active else 0.0
            st.clock_since = now if active else None
        self.replan()

    # -- actions -----------------------------------------------------------------------------
    @action("clean-disk", "Free disk space (logs and caches)")
    def _act_clean_disk(self) -> str:
        if self.has(DISK_FULL):
            self.clear(DISK_FULL)
        else:
            self._settle()
            self.state.disk_free_pct = max(self.state.disk_free_pct, self.settings.disk_free_pct)
            self.replan()
        return f"disk cleaned: {self.disk_free_pct():.1f} % free"

    @action("sync-time", "Set the clock from the time server")
    def _act_sync_time(self) -> str:
        if self.has(CLOCK_DRIFT):
            self.clear(CLOCK_DRIFT)
        return "clock synchronised"

    @action("reboot", "Reboot the kiosk PC")
    def _act_reboot(self) -> str:
        self.state.boot_at = self.env.now
        self.record("reboot")
        return "rebooted"

    # -- sensors -----------------------------------------------------------------------------
    def read(self) -> HostSensors:
        """The ``/sensors`` document now."""
        st, s, now = self.state, self.settings, self.env.now
        realloc = st.realloc
        if st.realloc_since is not None:
            realloc += int(s.realloc_per_hour * (now - st.realloc_since) / HOUR)
        mem = st.mem_errors
        if st.mem_since is not None:
            mem += int(s.memory_errors_per_hour * (now - st.mem_since) / HOUR)
        offset = st.clock_offset_s
        if st.clock_since is not None:
            offset += s.clock_drift_s_per_day * (now - st.clock_since) / DAY
        return HostSensors(
            source="simulated",
            cpu_temp_c=round(self.cpu_temp_c(), 1),
            fan_rpm=0 if self.has(FAN_FAILURE) else s.fan_rpm,
            disk_smart_ok=not self.has(DISK_FAILING),
            disk_reallocated_sectors=realloc,
            disk_free_pct=round(self.disk_free_pct(), 2),
            memory_errors_corrected=mem,
            uptime_s=round(now - st.boot_at, 3),
            clock_offset_s=round(offset, 3),
        )

    def status(self) -> dict[str, Any]:
        """Faults and the sensor document."""
        return {**super().status(), "sensors": self.read().model_dump(mode="json")}

    def open_port(self, kind: str, host: str) -> HttpPort:
        """``GET /sensors`` over HTTP."""
        if kind != "http":
            raise DeviceError(f"{self.name} has no {kind!r} port; it serves http")
        return HttpPort(sensor_routes(self), host=host, name=self.name, clock=self)
