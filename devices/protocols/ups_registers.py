"""The documented Modbus register maps of the kiosk's UPS and of its cabinet digital-I/O module, as
data, with pure encoding of engineering values into 16-bit registers and bits and back.

Simulator and diagnostics share this module, so both read the same addresses and scales;
``docs/registers.md`` is the human copy. No I/O here; bad register data raises
:class:`~workbench.errors.ProtocolError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from enum import IntEnum, IntFlag

from workbench.errors import ProtocolError

UNIT_ID = 1
"""The unit id clients conventionally address; the simulated servers answer any unit id."""


class InputRegister(IntEnum):
    """UPS input registers (function 4), read-only measurements."""

    INPUT_VOLTAGE = 0
    OUTPUT_VOLTAGE = 1
    INPUT_FREQUENCY = 2
    BATTERY_VOLTAGE = 3
    BATTERY_CHARGE = 4
    BATTERY_HEALTH = 5
    LOAD = 6
    RUNTIME = 7
    TEMPERATURE = 8


class DiscreteInput(IntEnum):
    """UPS discrete inputs (function 2), status bits; addresses 8-15 are reserved and read 0."""

    ON_BATTERY = 0
    LOW_BATTERY = 1
    OVERLOAD = 2
    BATTERY_TEST_FAILED = 3
    REPLACE_BATTERY = 4
    CHARGING = 5
    OUTPUT_ON = 6
    AVR_BOOST = 7


DISCRETE_COUNT = 16
"""Discrete inputs 0-15 exist (one 16-bit word); 16 and above answer exception 0x02."""


class HoldingRegister(IntEnum):
    """UPS holding registers (functions 3, 6, 16)."""

    BATTERY_TEST_COMMAND = 0
    """Write 1 to start a battery test (0 is accepted and does nothing); reads 0."""
    BATTERY_TEST_RESULT = 1
    """Read-only :class:`BatteryTestResult`."""
    ALARMS = 2
    """Read-only :class:`Alarm` bit field."""
    LOW_BATTERY_THRESHOLD = 3
    """Read/write: charge (%) below which the low-battery alarm is raised, 5-90."""


class BatteryTestResult(IntEnum):
    """Values of holding register 1."""

    NONE = 0
    PASSED = 1
    FAILED = 2
    IN_PROGRESS = 3


class Alarm(IntFlag):
    """Bits of holding register 2."""

    ON_BATTERY = 1 << 0
    INPUT_OUT_OF_TOLERANCE = 1 << 1
    BATTERY_LOW = 1 << 2
    OVERLOAD = 1 << 3
    REPLACE_BATTERY = 1 << 4
    BATTERY_TEST_FAILED = 1 << 5
    OUTPUT_OFF = 1 << 6


TEST_COMMAND_START = 1
LOW_BATTERY_RANGE = (5, 90)


@dataclass(frozen=True, slots=True)
class RegisterSpec:
    """One input register: its engineering name, unit, and the factor a raw value is divided by."""

    address: int
    name: str
    unit: str
    scale: int
    signed: bool = False


INPUT_MAP: tuple[RegisterSpec, ...] = (
    RegisterSpec(InputRegister.INPUT_VOLTAGE, "input_voltage", "V", 10),
    RegisterSpec(InputRegister.OUTPUT_VOLTAGE, "output_voltage", "V", 10),
    RegisterSpec(InputRegister.INPUT_FREQUENCY, "input_frequency", "Hz", 100),
    RegisterSpec(InputRegister.BATTERY_VOLTAGE, "battery_voltage", "V", 100),
    RegisterSpec(InputRegister.BATTERY_CHARGE, "battery_charge", "%", 1),
    RegisterSpec(InputRegister.BATTERY_HEALTH, "battery_health", "%", 1),
    RegisterSpec(InputRegister.LOAD, "load", "%", 1),
    RegisterSpec(InputRegister.RUNTIME, "runtime", "min", 1),
    RegisterSpec(InputRegister.TEMPERATURE, "temperature", "degC", 10, signed=True),
)
INPUT_COUNT = len(INPUT_MAP)
HOLDING_COUNT = len(HoldingRegister)


@dataclass(frozen=True, slots=True)
class UpsReadings:
    """The measurements of input registers 0-8, in engineering units."""

    input_voltage: float
    output_voltage: float
    input_frequency: float
    battery_voltage: float
    battery_charge: float
    battery_health: float
    load: float
    runtime: float
    temperature: float


@dataclass(frozen=True, slots=True)
class UpsFlags:
    """The status bits of discrete inputs 0-7."""

    on_battery: bool = False
    low_battery: bool = False
    overload: bool = False
    battery_test_failed: bool = False
    replace_battery: bool = False
    charging: bool = False
    output_on: bool = True
    avr_boost: bool = False


def _to_u16(value: float, spec: RegisterSpec) -> int:
    raw = round(value * spec.scale)
    if spec.signed:
        raw = max(-0x8000, min(0x7FFF, raw))
        return raw & 0xFFFF
    return max(0, min(0xFFFF, raw))


def _from_u16(raw: int, spec: RegisterSpec) -> float:
    if not 0 <= raw <= 0xFFFF:
        raise ProtocolError(f"register {spec.address} ({spec.name}) value {raw} is not 16-bit")
    if spec.signed and raw >= 0x8000:
        raw -= 0x10000
    return raw / spec.scale


def encode_inputs(readings: UpsReadings) -> list[int]:
    """Input registers 0-8 for a set of readings (values clamped to the register range)."""
    return [_to_u16(getattr(readings, spec.name), spec) for spec in INPUT_MAP]


def decode_inputs(registers: Sequence[int]) -> UpsReadings:
    """Readings from input registers 0-8 as read with function 4 from address 0."""
    if len(registers) != INPUT_COUNT:
        raise ProtocolError(f"expected {INPUT_COUNT} input registers, got {len(registers)}")
    values = {
        spec.name: _from_u16(raw, spec) for spec, raw in zip(INPUT_MAP, registers, strict=True)
    }
    return UpsReadings(**values)


def encode_flags(flags: UpsFlags) -> list[bool]:
    """Discrete inputs 0-15 (8-15 reserved, always 0)."""
    bits = [bool(getattr(flags, f.name)) for f in fields(UpsFlags)]
    return bits + [False] * (DISCRETE_COUNT - len(bits))


def decode_flags(bits: Sequence[bool]) -> UpsFlags:
    """Status from discrete inputs read from address 0 (at least 8 bits)."""
    names = [f.name for f in fields(UpsFlags)]
    if len(bits) < len(names):
        raise ProtocolError(f"expected at least {len(names)} discrete inputs, got {len(bits)}")
    return UpsFlags(**{n: bool(b) for n, b in zip(names, bits, strict=False)})


def decode_alarms(raw: int) -> Alarm:
    """The alarm bit field of holding register 2 (unknown bits refused)."""
    if not 0 <= raw <= 0xFFFF:
        raise ProtocolError(f"alarm register value {raw} is not 16-bit")
    if raw & ~int(sum(Alarm)):
        raise ProtocolError(f"alarm register 0x{raw:04X} has undefined bits")
    return Alarm(raw)


def decode_test_result(raw: int) -> BatteryTestResult:
    """The battery test result of holding register 1."""
    try:
        return BatteryTestResult(raw)
    except ValueError:
        raise ProtocolError(f"battery test result {raw} is not 0-3") from None


# -- the cabinet digital-I/O module (its own Modbus TCP server) -----------------------------


class CabinetInput(IntEnum):
    """Cabinet I/O module discrete inputs (function 2); 3-15 are reserved and read 0."""

    DOOR_CLOSED = 0
    TAMPER = 1
    VIBRATION = 2


class CabinetRegister(IntEnum):
    """Cabinet I/O module input registers (function 4)."""

    IMPACT_COUNT = 0
    """Impacts counted by the vibration sensor since installation (wraps at 65536)."""


CABINET_DISCRETE_COUNT = 16
CABINET_INPUT_COUNT = len(CabinetRegister)


@dataclass(frozen=True, slots=True)
class CabinetState:
    """What the cabinet I/O module reports."""

    door_closed: bool = True
    tamper: bool = False
    vibration: bool = False
    impact_count: int = 0


def encode_cabinet(state: CabinetState) -> tuple[list[bool], list[int]]:
    """Discrete inputs 0-15 and input registers of the cabinet module."""
    bits = [state.door_closed, state.tamper, state.vibration]
    return bits + [False] * (CABINET_DISCRETE_COUNT - len(bits)), [state.impact_count & 0xFFFF]


def decode_cabinet(bits: Sequence[bool], registers: Sequence[int]) -> CabinetState:
    """Cabinet state from discrete inputs 0-2 (or more) and input register 0."""
    if len(bits) < 3:
        raise ProtocolError(f"expected at least 3 cabinet discrete inputs, got {len(bits)}")
    if len(registers) != CABINET_INPUT_COUNT or not 0 <= registers[0] <= 0xFFFF:
        raise ProtocolError(f"expected one 16-bit impact counter register, got {list(registers)}")
    return CabinetState(bool(bits[0]), bool(bits[1]), bool(bits[2]), int(registers[0]))
