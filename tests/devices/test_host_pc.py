"""The host PC: thermal physics and disk wear in virtual time (exact logs), and its ``/sensors``
endpoint read with urllib, every catalog fault injected, seen and cleared; the psutil source."""

from __future__ import annotations

import asyncio
import json
import math
import urllib.request
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import simpy

from devices.catalog import default_catalog
from devices.host_pc import HostPc, HostPcSettings, sensor_routes
from devices.protocols.health import HostSensors, parse_sensors
from devices.transports.http import HttpPort
from remote.real_terminal import RealHostSensors
from workbench.clock import DAY, HOUR, LiveClock
from workbench.errors import DeviceError

MODES = default_catalog().for_device("host_pc")
TAU = 240.0


def make(**overrides: Any) -> tuple[simpy.Environment, HostPc]:
    env = simpy.Environment()
    pc = HostPc(env, HostPcSettings(**overrides), MODES)
    pc.start()
    return env, pc


def test_fan_failure_heats_the_cpu_past_85_and_repair_cools_it() -> None:
    env, pc = make()
    env.run(until=60)
    pc.inject("host_pc.fan_failure")
    env.run(until=200)
    assert 48 < pc.read().cpu_temp_c < 85  # type: ignore[operator]
    env.run(until=3600)
    assert pc.read().cpu_temp_c == pytest.approx(100.0, abs=0.1)
    pc.clear("host_pc.fan_failure")
    env.run(until=7200)
    assert pc.read().cpu_temp_c == pytest.approx(48.0, abs=0.1)
    hot = 60 + TAU * math.log((48 - 100) / (85 - 100))  # 48 C heading for 100 C
    at_repair = 100 - 52 * math.exp(-(3600 - 60) / TAU)  # all but at 100 C
    cool = 3600 + TAU * math.log((at_repair - 48) / (80 - 48))  # heading back for 48 C
    assert [(round(t, 6), e) for t, e in pc.log] == [
        (60, "fault id=host_pc.fan_failure"),
        (round(hot, 6), "fault id=host_pc.overheating"),
        (3600, "clear id=host_pc.fan_failure"),
        (round(cool, 6), "clear id=host_pc.overheating"),
    ]


def test_logs_fill_the_disk_until_it_is_full() -> None:
    env, pc = make(disk_free_pct=10.0, disk_fill_pct_per_day=0.5)
    env.run(until=30 * DAY)
    assert pc.log == [(10 * DAY, "fault id=host_pc.disk_full")]
    assert pc.read().disk_free_pct == 0.0
    assert "60.0 % free" not in pc.act("clean-disk")
    assert pc.read().disk_free_pct == 10.0 and not pc.has("host_pc.disk_full")


def test_failing_disk_reallocates_sectors_over_time() -> None:
    env, pc = make()
    pc.inject("host_pc.disk_failing")
    first = pc.read()
    env.run(until=10 * HOUR)
    later = pc.read()
    assert first.disk_smart_ok is False and first.disk_reallocated_sectors == 8
    assert later.disk_reallocated_sectors == 8 + 60


def test_uptime_counts_from_boot_and_reboot() -> None:
    env, pc = make()
    env.run(until=500)
    assert pc.read().uptime_s == 500
    pc.act("reboot")
    env.run(until=600)
    assert pc.read().uptime_s == 100
    with pytest.raises(DeviceError, match="serves http"):
        pc.open_port("modbus", "127.0.0.1")


def test_real_sensors_fill_the_same_document() -> None:
    doc = RealHostSensors().read()
    assert doc.source == "psutil" and doc.uptime_s > 0
    assert doc.disk_free_pct is not None and 0 <= doc.disk_free_pct <= 100
    assert doc.disk_smart_ok is None  # not measurable without smartctl: reported as unknown
    served = parse_sensors(json.dumps(sensor_routes(RealHostSensors())["/sensors"]()))
    assert served.source == "psutil" and served.uptime_s >= doc.uptime_s


# -- the wire ----------------------------------------------------------------------------------


def get_sensors(url: str) -> HostSensors:
    with urllib.request.urlopen(url, timeout=2) as resp:
        assert resp.status == 200
        return parse_sensors(resp.read())


@pytest.fixture
async def served() -> AsyncIterator[tuple[HostPc, HttpPort, LiveClock]]:
    env, pc = make()
    port = pc.open_port("http", "127.0.0.1")
    async with LiveClock(env, speed=3000.0) as clock:
        await port.start()
        yield pc, port, clock
        await port.close()


WIRE: dict[str, Callable[[HostSensors, HostSensors], bool]] = {
    # (first read, a read 10 simulated minutes later)
    "host_pc.fan_failure": lambda a, b: a.fan_rpm == 0 and b.cpu_temp_c > a.cpu_temp_c,  # type: ignore[operator]
    "host_pc.overheating": lambda a, b: a.cpu_temp_c > 85 and b.cpu_temp_c > 85,  # type: ignore[operator]
    "host_pc.disk_failing": lambda a, b: (
        a.disk_smart_ok is False and b.disk_reallocated_sectors > a.disk_reallocated_sectors
    ),  # type: ignore[operator]
    "host_pc.disk_full": lambda a, b: a.disk_free_pct < 5,  # type: ignore[operator]
    "host_pc.memory_errors": lambda a, b: 0 < a.memory_errors_corrected < b.memory_errors_corrected,  # type: ignore[operator]
    "host_pc.clock_drift": lambda a, b: abs(a.clock_offset_s) > 5,  # type: ignore[arg-type]
}


def test_every_catalog_fault_has_a_wire_check() -> None:
    assert sorted(WIRE) == sorted(m.id for m in MODES)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("fault_id", sorted(WIRE))
async def test_fault_shows_on_sensors_and_clears(
    served: tuple[HostPc, HttpPort, LiveClock], fault_id: str
) -> None:
    pc, port, clock = served
    url = port.url("/sensors")
    healthy = await asyncio.to_thread(get_sensors, url)
    assert healthy.fan_rpm == 2400 and healthy.disk_smart_ok and healthy.cpu_temp_c < 50  # type: ignore[operator]
    pc.inject(fault_id)
    first = await asyncio.to_thread(get_sensors, url)
    await clock.sleep(600)
    later = await asyncio.to_thread(get_sensors, url)
    assert WIRE[fault_id](first, later)
    pc.clear(fault_id)
    if fault_id == "host_pc.fan_failure":
        await clock.sleep(900)  # the CPU cools with the fan back
    after = await asyncio.to_thread(get_sensors, url)
    assert not WIRE[fault_id](after, after)
    assert pc.active == {}
    assert after.fan_rpm == 2400 and after.cpu_temp_c < 85  # type: ignore[operator]
