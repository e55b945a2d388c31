"""A real kiosk terminal as the agent serves it with no user code: its devices from the agent
config (the same ``device -> {kind: port}`` map an endpoints manifest holds: serial ports, a
network printer, Modbus units, the application's health endpoint), and the host PC's own
sensors read in-process with psutil (``host_pc: {http: psutil}``).

    terminal: KSK-0001
    ...
    devices:
      printer: {serial: /dev/ttyUSB0}
      bill_validator: {serial: /dev/ttyACM0}
      system_software: {http: "127.0.0.1:8080"}
      host_pc: {http: psutil}

Nothing here imports a simulator: no simpy, no device model, no port server.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psutil

from devices.protocols.health import HostSensors
from remote.diagnostics.links import Links
from remote.terminal_backend import TerminalBackend
from workbench.errors import ConfigError

log = logging.getLogger(__name__)

PSUTIL = "psutil"
"""The ``http`` value of a device whose document this machine produces in-process."""
KINDS = ("serial", "tcp", "modbus", "http")


class RealHostSensors:
    """This machine's sensors in the host PC's ``/sensors`` document, read with psutil; ``None``
    where it cannot measure (SMART needs smartctl; the clock offset needs an NTP query)."""

    TEMPERATURE_CHIPS = ("coretemp", "k10temp", "zenpower", "cpu_thermal", "acpitz")

    def __init__(
        self, disk_path: str = "/", edac_root: str = "/sys/devices/system/edac/mc"
    ) -> None:
        self.disk_path = disk_path
        self.edac_root = Path(edac_root)

    def _cpu_temp(self) -> float | None:
        reader = getattr(psutil, "sensors_temperatures", None)
        temps = reader() if reader else {}
        for chip in (*self.TEMPERATURE_CHIPS, *temps):
            entries = temps.get(chip)
            if entries:
                return round(max(e.current for e in entries), 1)
        return None

    def _fan(self) -> int | None:
        reader = getattr(psutil, "sensors_fans", None)
        fans = reader() if reader else {}
        for entries in fans.values():
            if entries:
                return int(entries[0].current)
        return None

    def _memory_errors(self) -> int | None:
        counts = list(self.edac_root.glob("mc*/ce_count"))
        if not counts:
            return None
        try:
            return sum(int(p.read_text().strip() or 0) for p in counts)
        except (OSError, ValueError):
            return None

    def read(self) -> HostSensors:
        """The sensors of this machine now (wall clock: this is not a simulated device)."""
        usage = psutil.disk_usage(self.disk_path)
        return HostSensors(
            source="psutil",
            cpu_temp_c=self._cpu_temp(),
            fan_rpm=self._fan(),
            disk_smart_ok=None,
            disk_reallocated_sectors=None,
            disk_free_pct=round(100.0 - usage.percent, 2),
            memory_errors_corrected=self._memory_errors(),
            uptime_s=round(time.time() - psutil.boot_time(), 3),
            clock_offset_s=None,
        )


class HostLinks(Links):
    """The real links, plus this machine's own sensor document at ``http: psutil``."""

    def __init__(self, sensors: RealHostSensors | None = None) -> None:
        self.sensors = sensors or RealHostSensors()

    async def http_get(self, address: str, path: str, timeout: float) -> tuple[int, bytes]:
        if address != PSUTIL:
            return await super().http_get(address, path, timeout)
        if path != "/sensors":
            return 404, b'{"error": "not found"}'
        return 200, self.sensors.read().model_dump_json().encode()


def check_devices(devices: Any, source: str) -> dict[str, dict[str, str]]:
    """The ``devices`` map of a config or manifest, each entry checked; errors name the entry."""
    if not isinstance(devices, Mapping) or not devices:
        raise ConfigError(f"{source}: devices: name this terminal's devices and their ports")
    out: dict[str, dict[str, str]] = {}
    for name, ports in devices.items():
        if not isinstance(ports, Mapping) or not ports:
            raise ConfigError(f"{source}: devices.{name}: give its ports, e.g. {{serial: PATH}}")
        for kind, value in ports.items():
            if kind not in KINDS:
                raise ConfigError(
                    f"{source}: devices.{name}.{kind}: unknown port kind; kinds: {', '.join(KINDS)}"
                )
            if kind == "serial" and not Path(str(value)).is_absolute():
                raise ConfigError(f"{source}: devices.{name}.serial(={value!r}) must be absolute")
        out[str(name)] = {str(k): str(v) for k, v in ports.items()}
    return out


def real_terminal_backend(
    terminal: str, devices: Mapping[str, Mapping[str, str]], *, timeout_s: float = 0.5
) -> TerminalBackend:
    """The agent's backend for a real terminal: no control plane, no fault injection, no answer
    key; diagnostics and remedies over the terminal's own ports."""
    manifest = {"terminal": terminal, "profile": None, "devices": dict(devices)}
    return TerminalBackend(manifest, simulated=False, timeout_s=timeout_s, links=HostLinks())
