"""The cabinet: door, tamper and vibration inputs and the impact counter, in virtual time and on its
own Modbus TCP I/O module read by a real pymodbus client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import simpy
from pymodbus.client import AsyncModbusTcpClient

from devices.catalog import default_catalog
from devices.exterior import Exterior, ExteriorSettings
from devices.protocols import ups_registers as regs
from devices.protocols.ups_registers import CabinetState
from workbench.clock import LiveClock
from workbench.errors import DeviceError

MODES = default_catalog().for_device("exterior")


def make() -> tuple[simpy.Environment, Exterior]:
    env = simpy.Environment()
    ext = Exterior(env, ExteriorSettings(), MODES)
    ext.start()
    return env, ext


def test_kicks_pulse_the_vibration_input_and_three_in_a_minute_are_vandalism() -> None:
    env, ext = make()
    env.run(until=10)
    ext.act("kick")
    assert ext.cabinet().vibration
    env.run(until=13)
    assert not ext.cabinet().vibration  # a 2 s pulse
    env.run(until=100)
    ext.act("kick")  # the first kick is out of the 60 s window now
    env.run(until=120)
    ext.act("kick")
    assert not ext.has("exterior.vandalism")
    env.run(until=150)
    ext.act("kick")
    env.run(until=400)
    assert ext.cabinet() == CabinetState(door_closed=True, vibration=True, impact_count=4)
    ext.clear("exterior.vandalism")
    assert ext.cabinet().vibration is False
    assert ext.log == [
        (10, "impact count=1"),
        (100, "impact count=2"),
        (120, "impact count=3"),
        (150, "impact count=4"),
        (150, "fault id=exterior.vandalism"),
        (400, "clear id=exterior.vandalism"),
    ]


def test_door_actions_raise_and_clear_the_door_fault() -> None:
    env, ext = make()
    ext.act("open-door")
    assert ext.has("exterior.door_open") and not ext.cabinet().door_closed
    env.run(until=300)
    ext.act("close-door")
    assert ext.log == [(0, "fault id=exterior.door_open"), (300, "clear id=exterior.door_open")]
    assert ext.status()["door_closed"] is True
    with pytest.raises(DeviceError, match="its actions"):
        ext.act("smash")


@pytest.fixture
async def client() -> AsyncIterator[tuple[Exterior, AsyncModbusTcpClient]]:
    env, ext = make()
    port = ext.open_port("modbus", "127.0.0.1")
    async with LiveClock(env, speed=100.0):
        await port.start()
        c = AsyncModbusTcpClient("127.0.0.1", port=int(port.endpoint.rsplit(":", 1)[1]), timeout=1)
        assert await c.connect()
        yield ext, c
        c.close()
        await port.close()


async def read(c: AsyncModbusTcpClient) -> CabinetState:
    bits = await c.read_discrete_inputs(0, count=regs.CABINET_DISCRETE_COUNT)
    counter = await c.read_input_registers(regs.CabinetRegister.IMPACT_COUNT, count=1)
    assert not bits.isError() and not counter.isError()
    return regs.decode_cabinet(bits.bits, counter.registers)


WIRE = {
    "exterior.door_open": lambda s: not s.door_closed,
    "exterior.tamper": lambda s: s.tamper,
    "exterior.vandalism": lambda s: s.vibration and s.impact_count > 0,
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("fault_id", sorted(WIRE))
async def test_fault_shows_on_the_io_module_and_clears(
    client: tuple[Exterior, AsyncModbusTcpClient], fault_id: str
) -> None:
    ext, c = client
    assert await read(c) == CabinetState()
    ext.inject(fault_id)
    assert WIRE[fault_id](await read(c))
    ext.clear(fault_id)
    state = await read(c)
    assert not WIRE[fault_id](state) and state.door_closed and not state.tamper


@pytest.mark.timeout(10)
async def test_the_module_has_no_writable_registers(
    client: tuple[Exterior, AsyncModbusTcpClient],
) -> None:
    ext, c = client
    ext.act("kick")
    assert (await read(c)).impact_count == 1
    rr = await c.write_register(0, 1)
    assert rr.isError() and rr.exception_code == 0x01
    rr = await c.read_discrete_inputs(regs.CABINET_DISCRETE_COUNT, count=1)
    assert rr.isError() and rr.exception_code == 0x02


def test_every_catalog_fault_has_a_wire_check() -> None:
    assert sorted(WIRE) == sorted(m.id for m in MODES)
