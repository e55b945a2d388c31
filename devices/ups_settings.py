"""What a UPS is set up as and what state it is in: the profile settings of a 1500 VA
line-interactive UPS and its physical state (battery energy and health as of the last
integration, load, output, battery test)."""

from __future__ import annotations

from dataclasses import dataclass

from devices.protocols.ups_registers import BatteryTestResult
from workbench.config import Strict


class UpsSettings(Strict):
    """A 1500 VA line-interactive UPS with two 12 V 9 Ah batteries, carrying a kiosk PC and screen."""

    model: str = "KUPS-1500"
    serial: str = "U15-2409-00871"
    rated_power_w: float = 1000.0
    load_w: float = 180.0
    nominal_voltage: float = 230.0
    frequency_hz: float = 50.0
    boost_below_v: float = 207.0
    """Below this input voltage (and above the transfer point) the AVR boosts the output."""
    brownout_voltage: float = 180.0
    """Input voltage during an ``ups.brownout``."""
    capacity_wh: float = 200.0
    inverter_efficiency: float = 0.9
    charger_w: float = 50.0
    battery_nominal_v: float = 24.0
    initial_health_pct: float = 100.0
    calendar_loss_pct_per_year: float = 8.0
    cycle_loss_pct: float = 0.2
    """Health lost per equivalent full discharge cycle."""
    degraded_below_pct: float = 60.0
    degraded_health_pct: float = 45.0
    """Health an injected ``ups.battery_degraded`` sets."""
    low_battery_pct: int = 20
    low_battery_hysteresis_pct: float = 5.0
    injected_low_charge_pct: float = 15.0
    battery_test_s: float = 10.0
    overload_pct: float = 115.0
    ambient_c: float = 25.0


@dataclass(slots=True)
class UpsState:
    """The UPS's physical state; energy and health are as of ``updated``."""

    charge_wh: float
    health: float
    updated: float
    load_w: float
    low_threshold_pct: int
    discharged_wh: float = 0.0
    output_on: bool = True
    extra_load_w: float = 0.0
    test_result: BatteryTestResult = BatteryTestResult.NONE
    test_until: float | None = None
    full: bool = True
