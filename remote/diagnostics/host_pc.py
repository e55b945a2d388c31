"""Checklist item "host PC": the sensor document ``GET /sensors``
(:class:`devices.protocols.health.HostSensors`): fan, CPU temperature, disk SMART state and
reallocated sectors, free space, corrected memory errors and the clock's offset. Values the
source cannot measure (``None``, e.g. no SMART access) are reported as not measured.
"""

from __future__ import annotations

import logging

from devices.protocols.health import parse_sensors
from remote.diagnostics.base import CHECKLIST_TEXT, Context, Diagnostic, Report
from workbench.errors import ProtocolError

log = logging.getLogger(__name__)

FAN = "host_pc.fan_failure"
OVERHEAT = "host_pc.overheating"
DISK_FAILING = "host_pc.disk_failing"
DISK_FULL = "host_pc.disk_full"
MEMORY = "host_pc.memory_errors"
CLOCK = "host_pc.clock_drift"
OVERHEAT_C = 85.0
DISK_FULL_PCT = 5.0
CLOCK_TOLERANCE_S = 5.0


class HostPcCheck(Diagnostic):
    """The kiosk PC's health sensors."""

    name = "host_pc"
    checklist = CHECKLIST_TEXT["host_pc"]
    device = "host_pc"

    async def check(self, ctx: Context, report: Report) -> None:
        address = ctx.port(self.device, "http")
        if address is None:
            report.fail(None, "the host PC has no sensor endpoint (http) in the manifest")
            return
        status, body = await ctx.links.http_get(address, "/sensors", max(1.0, ctx.timeout_s))
        if status != 200:
            raise ProtocolError(f"GET /sensors answered HTTP {status}")
        s = parse_sensors(body)
        units = {
            "cpu_temp_c": "degC",
            "fan_rpm": "rpm",
            "disk_smart_ok": "",
            "disk_reallocated_sectors": "sectors",
            "disk_free_pct": "%",
            "memory_errors_corrected": "errors",
            "uptime_s": "s",
            "clock_offset_s": "s",
        }
        missing = []
        for key, unit in units.items():
            value = getattr(s, key)
            if value is None:
                missing.append(key)
            else:
                report.measure(key, value, unit)
        if missing:
            report.note(f"not measured by {s.source}: {', '.join(missing)}")
        if s.fan_rpm is not None and s.fan_rpm == 0:
            report.fail(FAN, "the CPU fan is stopped (0 rpm)")
        if s.cpu_temp_c is not None and s.cpu_temp_c > OVERHEAT_C:
            report.fail(OVERHEAT, f"CPU at {s.cpu_temp_c:g} degC (limit {OVERHEAT_C:g})")
        if s.disk_smart_ok is False or (s.disk_reallocated_sectors or 0) > 0:
            report.fail(
                DISK_FAILING,
                f"disk SMART {'failed' if s.disk_smart_ok is False else 'ok'}, "
                f"{s.disk_reallocated_sectors} reallocated sectors",
            )
        if s.disk_free_pct is not None and s.disk_free_pct < DISK_FULL_PCT:
            report.warn(DISK_FULL, f"only {s.disk_free_pct:g} % of the disk is free")
        if (s.memory_errors_corrected or 0) > 0:
            report.warn(MEMORY, f"{s.memory_errors_corrected} corrected memory errors")
        if s.clock_offset_s is not None and abs(s.clock_offset_s) > CLOCK_TOLERANCE_S:
            report.warn(CLOCK, f"system clock {s.clock_offset_s:+g} s off")
