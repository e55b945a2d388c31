"""The UPS and cabinet register maps: known encodings, round trips, and fuzzed register data that
never raises anything but ProtocolError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.protocols import ups_registers as regs
from devices.protocols.ups_registers import (
    Alarm,
    BatteryTestResult,
    CabinetState,
    UpsFlags,
    UpsReadings,
)
from workbench.errors import ProtocolError

NORMAL = UpsReadings(230.0, 230.0, 50.0, 27.3, 100, 100, 18, 60, 27.2)


def test_known_encoding() -> None:
    assert regs.encode_inputs(NORMAL) == [2300, 2300, 5000, 2730, 100, 100, 18, 60, 272]


def test_negative_temperature_is_twos_complement() -> None:
    cold = UpsReadings(0, 0, 0, 0, 0, 0, 0, 0, -5.5)
    assert regs.encode_inputs(cold)[8] == 0x10000 - 55
    assert regs.decode_inputs(regs.encode_inputs(cold)).temperature == -5.5


def test_values_are_clamped_to_the_register() -> None:
    huge = UpsReadings(1e6, -3, 0, 0, 0, 0, 0, 1e9, 1e5)
    assert regs.encode_inputs(huge) == [0xFFFF, 0, 0, 0, 0, 0, 0, 0xFFFF, 0x7FFF]


def test_round_trips() -> None:
    assert regs.decode_inputs(regs.encode_inputs(NORMAL)) == NORMAL
    flags = UpsFlags(on_battery=True, low_battery=True, output_on=False)
    bits = regs.encode_flags(flags)
    assert len(bits) == regs.DISCRETE_COUNT and bits[:3] == [True, True, False]
    assert regs.decode_flags(bits) == flags
    state = CabinetState(door_closed=False, vibration=True, impact_count=70000)
    bits, registers = regs.encode_cabinet(state)
    assert registers == [70000 - 65536]
    assert regs.decode_cabinet(bits, registers) == CabinetState(False, False, True, 4464)


def test_alarms_and_test_results() -> None:
    assert regs.decode_alarms(0b1001) == Alarm.ON_BATTERY | Alarm.OVERLOAD
    assert regs.decode_test_result(2) is BatteryTestResult.FAILED
    with pytest.raises(ProtocolError, match="undefined bits"):
        regs.decode_alarms(0x8000)
    with pytest.raises(ProtocolError, match="0-3"):
        regs.decode_test_result(4)


def test_the_map_matches_the_catalog_addresses() -> None:
    # the catalog's wire text names input registers 0, 4, 5 and 6 and holding 0-3
    assert regs.InputRegister.INPUT_VOLTAGE == 0
    assert (regs.InputRegister.BATTERY_CHARGE, regs.InputRegister.BATTERY_HEALTH) == (4, 5)
    assert regs.InputRegister.LOAD == 6
    assert [h.value for h in regs.HoldingRegister] == [0, 1, 2, 3]


words = st.integers(min_value=-(2**17), max_value=2**17)


@given(st.lists(words, max_size=12))
def test_fuzzed_inputs_raise_only_protocol_error(registers: list[int]) -> None:
    try:
        regs.decode_inputs(registers)
    except ProtocolError:
        pass


@given(st.lists(st.booleans(), max_size=20), st.lists(words, max_size=3), words)
def test_fuzzed_bits_raise_only_protocol_error(
    bits: list[bool], registers: list[int], raw: int
) -> None:
    for call in (
        lambda: regs.decode_flags(bits),
        lambda: regs.decode_cabinet(bits, registers),
        lambda: regs.decode_alarms(raw),
        lambda: regs.decode_test_result(raw),
    ):
        try:
            call()
        except ProtocolError:
            pass
