"""The UPS: battery physics in virtual time (exact event logs), and its live Modbus TCP map read by
a real pymodbus client, with every catalog fault injected, seen on the wire and cleared."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import simpy
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusIOException

from devices.catalog import default_catalog
from devices.protocols import ups_registers as regs
from devices.protocols.ups_registers import Alarm, BatteryTestResult, UpsFlags, UpsReadings
from devices.ups import Ups, UpsSettings
from workbench.clock import YEAR, LiveClock
from workbench.errors import CatalogError, DeviceError

MODES = default_catalog().for_device("ups")
NO_AGEING = {"calendar_loss_pct_per_year": 0.0, "cycle_loss_pct": 0.0}


def make(**overrides: object) -> tuple[simpy.Environment, Ups]:
    env = simpy.Environment()
    ups = Ups(env, UpsSettings(**overrides), MODES)  # type: ignore[arg-type]
    ups.start()
    return env, ups


def rounded(log: list[tuple[float, str]]) -> list[tuple[float, str]]:
    return [(round(t, 6), e) for t, e in log]


# -- virtual time ------------------------------------------------------------------------------


def test_outage_discharges_to_shutdown_then_recharges() -> None:
    # 180 W load / 0.9 efficiency = 200 W from a 200 Wh battery: one hour to empty.
    env, ups = make(**NO_AGEING)
    env.run(until=100)
    ups.inject("ups.mains_loss")
    env.run(until=5000)
    assert ups.readings().battery_charge == 0
    assert ups.flags().output_on is False
    ups.clear("ups.mains_loss")
    env.run(until=30000)
    assert rounded(ups.log) == [
        (100, "fault id=ups.mains_loss"),
        (2980, "fault id=ups.battery_low"),  # 20 % left: 160 Wh at 200 W
        (3700, "shutdown reason=battery_empty"),
        (5000, "clear id=ups.mains_loss"),
        (5000, "output_on"),
        (8600, "clear id=ups.battery_low"),  # 25 % (hysteresis) at the 50 W charger
        (19400, "charged"),
    ]
    assert ups.readings().battery_charge == 100


def test_runtime_and_charge_follow_the_load() -> None:
    env, ups = make(**NO_AGEING)
    assert ups.readings().runtime == pytest.approx(60.0)
    ups.act("set-load", "360")
    assert ups.readings().runtime == pytest.approx(30.0)
    ups.inject("ups.mains_loss")
    env.run(until=900)  # 400 W for 900 s = 100 Wh
    r = ups.readings()
    assert r.battery_charge == pytest.approx(50.0)
    assert r.runtime == pytest.approx(15.0)
    assert r.battery_voltage < ups.settings.battery_nominal_v


def test_a_load_past_the_rating_is_an_overload() -> None:
    env, ups = make(**NO_AGEING)
    env.run(until=10)
    ups.act("set-load", "1200")
    env.run(until=20)
    ups.act("set-load", "300")
    env.run(until=30)
    assert ups.log == [
        (10, "load watts=1200.0"),
        (10, "fault id=ups.overload"),
        (20, "load watts=300.0"),
        (20, "clear id=ups.overload"),
    ]


def test_calendar_ageing_wears_the_battery_out() -> None:
    env, ups = make(calendar_loss_pct_per_year=10.0, cycle_loss_pct=0.0)
    env.run(until=5 * YEAR)
    assert rounded(ups.log) == [(round(4 * YEAR, 6), "fault id=ups.battery_degraded")]
    assert ups.readings().battery_health == pytest.approx(50.0)
    assert ups.flags().replace_battery
    ups.act("replace-battery")
    assert ups.readings().battery_health == 100
    assert not ups.has("ups.battery_degraded")


def test_cycles_wear_the_battery() -> None:
    env, ups = make(calendar_loss_pct_per_year=0.0, cycle_loss_pct=5.0)

    def outages(env: simpy.Environment):
        for _ in range(12):
            ups.inject("ups.mains_loss")
            yield env.timeout(3600)  # about one full discharge
            ups.clear("ups.mains_loss")
            yield env.timeout(6 * 3600)  # recharge

    env.process(outages(env))
    env.run(until=12 * 7 * 3600)
    degraded = [t for t, e in ups.log if e == "fault id=ups.battery_degraded"]
    assert len(degraded) == 1
    # each full cycle wears 5 % of what is left (a worn battery holds less to discharge):
    # health ~ 0.95 ** n crosses 60 % in the tenth outage
    assert 9 * 7 * 3600 < degraded[0] < 9 * 7 * 3600 + 3600
    assert ups.state.discharged_wh > 8 * 150


def test_battery_test_passes_then_fails_on_a_worn_battery() -> None:
    env, ups = make(**NO_AGEING)
    ups.act("battery-test")
    assert ups.state.test_result is BatteryTestResult.IN_PROGRESS
    with pytest.raises(DeviceError, match="busy"):
        ups.act("battery-test")
    env.run(until=20)
    ups.inject("ups.battery_degraded")
    ups.act("battery-test")
    env.run(until=40)
    assert rounded(ups.log) == [
        (0, "battery_test result=started"),
        (10, "battery_test result=passed"),
        (20, "fault id=ups.battery_degraded"),
        (20, "battery_test result=started"),
        (30, "battery_test result=failed"),
    ]


def test_unknown_fault_and_bad_action_are_refused() -> None:
    _, ups = make()
    with pytest.raises(CatalogError, match="its faults"):
        ups.inject("ups.melted")
    with pytest.raises(
        DeviceError, match=r"^ups set-load takes WATTS, a number of watts, 0 or more; given: lots$"
    ):
        ups.act("set-load", "lots")
    with pytest.raises(
        DeviceError,
        match=r"^ups set-load takes WATTS, a number of watts, 0 to 10000 \(10 times the UPS's "
        r"rating\); given: 1e9$",
    ):
        ups.act("set-load", "1e9")
    with pytest.raises(DeviceError, match="no 'http' port"):
        ups.open_port("http", "127.0.0.1")


# -- the wire ----------------------------------------------------------------------------------


@dataclass
class Live:
    env: simpy.Environment
    ups: Ups
    clock: LiveClock
    client: AsyncModbusTcpClient

    async def inputs(self) -> UpsReadings:
        rr = await self.client.read_input_registers(0, count=regs.INPUT_COUNT)
        assert not rr.isError(), rr
        return regs.decode_inputs(rr.registers)

    async def flags(self) -> UpsFlags:
        rr = await self.client.read_discrete_inputs(0, count=regs.DISCRETE_COUNT)
        assert not rr.isError(), rr
        return regs.decode_flags(rr.bits)

    async def holding(self) -> list[int]:
        rr = await self.client.read_holding_registers(0, count=regs.HOLDING_COUNT)
        assert not rr.isError(), rr
        return list(rr.registers)

    async def alarms(self) -> Alarm:
        return regs.decode_alarms((await self.holding())[regs.HoldingRegister.ALARMS])


@pytest.fixture
async def live() -> AsyncIterator[Live]:
    env = simpy.Environment()
    ups = Ups(env, UpsSettings(**NO_AGEING), MODES)  # type: ignore[arg-type]
    ups.start()
    port = ups.open_port("modbus", "127.0.0.1")
    async with LiveClock(env, speed=1000.0) as clock:
        await port.start()
        client = AsyncModbusTcpClient(
            "127.0.0.1", port=int(port.endpoint.split(":")[1]), timeout=0.3, retries=0
        )
        assert await client.connect()
        try:
            yield Live(env, ups, clock, client)
        finally:
            client.close()
            await port.close()


@pytest.mark.timeout(10)
async def test_client_reads_the_documented_map(live: Live) -> None:
    r = await live.inputs()
    assert (r.input_voltage, r.output_voltage, r.input_frequency) == (230.0, 230.0, 50.0)
    assert (r.battery_charge, r.battery_health, r.load) == (100, 100, 18)
    assert r.runtime == 60 and r.battery_voltage == 27.3
    f = await live.flags()
    assert f == UpsFlags(output_on=True)
    assert await live.holding() == [0, 0, 0, 20]


@pytest.mark.timeout(10)
async def test_mains_loss_then_discharge_in_live_time(live: Live) -> None:
    live.ups.inject("ups.mains_loss")
    r0 = await live.inputs()
    assert r0.input_voltage == 0 and r0.input_frequency == 0 and r0.output_voltage == 230
    assert (await live.flags()).on_battery
    assert Alarm.ON_BATTERY in await live.alarms()
    await live.clock.sleep(360)  # 6 simulated minutes at 200 W = 20 Wh = 10 %
    r1 = await live.inputs()
    assert r1.battery_charge <= r0.battery_charge - 10
    assert r1.runtime < r0.runtime
    live.ups.clear("ups.mains_loss")
    await live.clock.sleep(60)
    r2 = await live.inputs()
    assert r2.input_voltage == 230 and r2.battery_charge >= r1.battery_charge
    assert (await live.flags()).charging


@pytest.mark.timeout(10)
async def test_illegal_addresses_get_exception_2(live: Live) -> None:
    rr = await live.client.read_input_registers(regs.INPUT_COUNT, count=1)
    assert rr.isError() and rr.exception_code == 0x02
    rr = await live.client.read_input_registers(5, count=10)
    assert rr.isError() and rr.exception_code == 0x02
    rr = await live.client.read_discrete_inputs(regs.DISCRETE_COUNT, count=1)
    assert rr.isError() and rr.exception_code == 0x02
    rr = await live.client.write_register(regs.HoldingRegister.BATTERY_TEST_RESULT, 1)
    assert rr.isError() and rr.exception_code == 0x02
    rr = await live.client.read_coils(0, count=1)
    assert rr.isError() and rr.exception_code == 0x01  # the UPS has no coils


@pytest.mark.timeout(10)
async def test_battery_test_through_holding_registers(live: Live) -> None:
    rr = await live.client.write_register(regs.HoldingRegister.BATTERY_TEST_COMMAND, 1)
    assert not rr.isError() and rr.registers == [1]
    assert (await live.holding())[1] == BatteryTestResult.IN_PROGRESS
    rr = await live.client.write_register(regs.HoldingRegister.BATTERY_TEST_COMMAND, 1)
    assert rr.isError() and rr.exception_code == 0x06  # busy
    rr = await live.client.write_register(regs.HoldingRegister.BATTERY_TEST_COMMAND, 7)
    assert rr.isError() and rr.exception_code == 0x03
    await live.clock.sleep(live.ups.settings.battery_test_s)
    assert (await live.holding())[1] == BatteryTestResult.PASSED


@pytest.mark.timeout(10)
async def test_low_battery_threshold_is_writable(live: Live) -> None:
    rr = await live.client.write_register(regs.HoldingRegister.LOW_BATTERY_THRESHOLD, 95)
    assert rr.isError() and rr.exception_code == 0x03
    rr = await live.client.write_registers(regs.HoldingRegister.LOW_BATTERY_THRESHOLD, [90])
    assert not rr.isError()
    assert (await live.holding())[3] == 90
    live.ups.inject("ups.mains_loss")
    await live.clock.sleep(0.1 * 3600 + 10)  # 10 % of the energy gone: 90 % left
    assert (await live.flags()).low_battery


@pytest.mark.timeout(10)
async def test_comms_lost_times_out_and_reset_comms_restores(live: Live) -> None:
    live.ups.inject("ups.comms_lost")
    with pytest.raises(ModbusIOException):
        await live.client.read_input_registers(0, count=1)
    assert live.ups.act("reset-comms")
    assert (await live.inputs()).input_voltage == 230


async def _wire_mains_loss(live: Live) -> bool:
    r, f = await live.inputs(), await live.flags()
    return r.input_voltage == 0 and f.on_battery and Alarm.ON_BATTERY in await live.alarms()


async def _wire_brownout(live: Live) -> bool:
    r, f = await live.inputs(), await live.flags()
    in_tol = Alarm.INPUT_OUT_OF_TOLERANCE in await live.alarms()
    return 0 < r.input_voltage < 187 and f.avr_boost and not f.on_battery and in_tol


async def _wire_battery_degraded(live: Live) -> bool:
    r, f = await live.inputs(), await live.flags()
    if not (r.battery_health < 60 and f.replace_battery):
        return False
    if Alarm.REPLACE_BATTERY not in await live.alarms():
        return False
    if live.ups.state.test_result is BatteryTestResult.FAILED:
        return True
    await live.client.write_register(0, 1)
    await live.clock.sleep(live.ups.settings.battery_test_s)
    holding = await live.holding()
    return holding[1] == BatteryTestResult.FAILED and Alarm.BATTERY_TEST_FAILED in Alarm(holding[2])


async def _wire_overload(live: Live) -> bool:
    r, f = await live.inputs(), await live.flags()
    return r.load > 100 and f.overload and Alarm.OVERLOAD in await live.alarms()


async def _wire_comms_lost(live: Live) -> bool:
    try:
        await live.client.read_input_registers(0, count=1)
    except ModbusIOException:
        return True
    return False


async def _wire_battery_low(live: Live) -> bool:
    r, f = await live.inputs(), await live.flags()
    return r.battery_charge < 20 and f.low_battery and Alarm.BATTERY_LOW in await live.alarms()


WIRE: dict[str, Callable[[Live], object]] = {
    "ups.mains_loss": _wire_mains_loss,
    "ups.brownout": _wire_brownout,
    "ups.battery_degraded": _wire_battery_degraded,
    "ups.overload": _wire_overload,
    "ups.comms_lost": _wire_comms_lost,
    "ups.battery_low": _wire_battery_low,
}


def test_every_catalog_fault_has_a_wire_check() -> None:
    assert sorted(WIRE) == sorted(m.id for m in MODES)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("fault_id", sorted(WIRE))
async def test_fault_shows_on_the_wire_and_clears(live: Live, fault_id: str) -> None:
    check = WIRE[fault_id]
    assert not await check(live)  # type: ignore[misc]
    live.ups.inject(fault_id)
    assert await check(live)  # type: ignore[misc]
    live.ups.clear(fault_id)
    assert not await check(live)  # type: ignore[misc]
    assert (await live.alarms()) == Alarm(0)
