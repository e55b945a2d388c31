"""A line-interactive UPS feeding the kiosk: mains, AVR boost, a lead-acid battery that discharges
with the load, recharges, and ages with time and cycles; served as a live Modbus TCP register map.

Battery energy and health change linearly between events, so the model integrates them
analytically (on every event and on every Modbus read) and schedules the next threshold
crossing (low battery, empty, full, worn out, end of a battery test) as one SimPy timeout.
A kiosk-year of a quiet UPS is a handful of events. Its settings and state are in
:mod:`devices.ups_settings`, its register map in :mod:`devices.ups_bank`.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import simpy

from devices.base import Arg, EventSink, ServedDevice, action
from devices.protocols.ups_registers import Alarm, BatteryTestResult, UpsFlags, UpsReadings
from devices.transports.modbus import ModbusPort
from devices.ups_bank import UpsBank
from devices.ups_settings import UpsSettings, UpsState
from workbench.clock import HOUR, YEAR
from workbench.errors import DeviceError
from workbench.fault_ids.ups import (
    BATTERY_DEGRADED,
    BATTERY_LOW,
    BROWNOUT,
    COMMS_LOST,
    MAINS_LOSS,
    OVERLOAD,
)
from workbench.faults import FaultMode

log = logging.getLogger(__name__)

DEVICE_BUSY = 0x06
EPS = 1e-9


def _watts(text: str) -> float:
    watts = float(text)
    if not watts >= 0:  # NaN too
        raise ValueError(f"{watts} W is not a load")
    return watts


def _within_rating(watts: float, settings: Any) -> str | None:
    most = 10 * settings.rated_power_w
    if watts <= most:
        return None
    return f"a number of watts, 0 to {most:g} (10 times the UPS's rating)"


LOAD_WATTS = Arg("a number of watts, 0 or more", _watts, _within_rating)
"""The load ``set-load`` puts behind the UPS: at most 10 times its rating (its settings)."""


class Ups(ServedDevice[UpsSettings]):
    """The UPS model. Actions: ``set-load W``, ``battery-test``, ``reset-comms``, ``replace-battery``."""

    kind = "ups"

    def __init__(
        self,
        env: simpy.Environment,
        settings: UpsSettings,
        modes: list[FaultMode],
        *,
        name: str | None = None,
        rng: random.Random | None = None,
        sink: EventSink | None = None,
    ) -> None:
        super().__init__(env, settings, modes, name=name, rng=rng, sink=sink)
        s = settings
        health = s.initial_health_pct / 100
        self.state = UpsState(
            charge_wh=s.capacity_wh * health,
            health=health,
            updated=env.now,
            load_w=s.load_w,
            low_threshold_pct=s.low_battery_pct,
        )

    # -- physics -----------------------------------------------------------------------------
    @property
    def input_voltage(self) -> float:
        if self.has(MAINS_LOSS):
            return 0.0
        if self.has(BROWNOUT):
            return self.settings.brownout_voltage
        return self.settings.nominal_voltage

    @property
    def on_battery(self) -> bool:
        return self.input_voltage <= 0.0

    @property
    def capacity_wh(self) -> float:
        return self.settings.capacity_wh * self.state.health

    @property
    def total_load_w(self) -> float:
        return self.state.load_w + self.state.extra_load_w

    def _battery_power_w(self) -> float:
        """Power drawn from (negative) or pushed into (positive) the battery now."""
        st = self.state
        if self.on_battery:
            return -self.total_load_w / self.settings.inverter_efficiency if st.output_on else 0.0
        if st.charge_wh < self.capacity_wh - EPS:
            return self.settings.charger_w
        return 0.0

    def _health_rate(self, power_w: float) -> float:
        """Health lost per second (calendar ageing, plus cycle wear while discharging)."""
        s = self.settings
        rate = s.calendar_loss_pct_per_year / 100 / YEAR
        if power_w < 0:
            rate += s.cycle_loss_pct / 100 * (-power_w / HOUR) / s.capacity_wh
        return rate

    def _integrate(self) -> None:
        """Bring energy and health up to ``env.now``."""
        st = self.state
        dt = self.env.now - st.updated
        if dt <= 0:
            return
        power = self._battery_power_w()
        st.health = max(0.0, st.health - self._health_rate(power) * dt)
        delta = power * dt / HOUR
        if delta < 0:
            st.discharged_wh += min(-delta, st.charge_wh)
        st.charge_wh = min(max(0.0, st.charge_wh + delta), self.capacity_wh)
        st.updated = self.env.now

    def charge_pct(self) -> float:
        cap = self.capacity_wh
        return 100.0 * self.state.charge_wh / cap if cap > 0 else 0.0

    def _next_crossing(self) -> float:
        """Seconds until the next threshold the model must react to (inf when none)."""
        st, s = self.state, self.settings
        power = self._battery_power_w()
        out = [float("inf")]
        if st.test_until is not None:
            out.append(st.test_until - self.env.now)
        low_wh = self.capacity_wh * st.low_threshold_pct / 100
        high_wh = self.capacity_wh * (st.low_threshold_pct + s.low_battery_hysteresis_pct) / 100
        if power < 0:
            for level in (low_wh, 0.0):
                if st.charge_wh > level + EPS:
                    out.append((st.charge_wh - level) * HOUR / -power)
        elif power > 0:
            out.append((self.capacity_wh - st.charge_wh) * HOUR / power)
            if self.has(BATTERY_LOW) and st.charge_wh < high_wh:
                out.append((high_wh - st.charge_wh) * HOUR / power)
        health_rate = self._health_rate(power)
        degraded = s.degraded_below_pct / 100
        if st.health > degraded and health_rate > 0:
            out.append((st.health - degraded) / health_rate)
        return max(0.0, min(out))

    def _react(self) -> None:
        """Record what the present state crossed: low, empty, full, worn out, test finished."""
        st, s = self.state, self.settings
        pct = self.charge_pct()
        if st.test_until is not None and self.env.now >= st.test_until - EPS:
            st.test_until = None
            failed = st.health * 100 < s.degraded_below_pct - EPS
            st.test_result = BatteryTestResult.FAILED if failed else BatteryTestResult.PASSED
            self.record("battery_test", result=st.test_result.name.lower())
        if self.on_battery and st.output_on and st.charge_wh <= EPS:
            st.output_on = False
            self.record("shutdown", reason="battery_empty")
        if not self.on_battery and not st.output_on:
            st.output_on = True
            self.record("output_on")
        if pct <= st.low_threshold_pct + EPS and self.on_battery:
            self.worn(BATTERY_LOW, True)
        elif pct >= st.low_threshold_pct + s.low_battery_hysteresis_pct - EPS:
            self.worn(BATTERY_LOW, False)
        if st.health * 100 <= s.degraded_below_pct + EPS:
            self.worn(BATTERY_DEGRADED, True)
        if not self.has(OVERLOAD) or st.extra_load_w == 0:  # a load set past the rating
            self.worn(OVERLOAD, self.load_pct() > 100)
        full = st.charge_wh >= self.capacity_wh - EPS
        if full and not st.full and not self.on_battery:
            self.record("charged")
        st.full = full

    def _integrate_and_react(self) -> None:
        self._integrate()
        self._react()

    def start(self) -> None:
        """Start the battery/ageing process."""
        self.follow(self._integrate_and_react, self._next_crossing)

    def sync(self) -> None:
        """Bring the model up to ``env.now`` (a Modbus read in live time)."""
        self._integrate()

    # -- faults ------------------------------------------------------------------------------
    def inject(self, fault_id: str) -> None:
        """Raise a fault; energy and health are first integrated at the old rates."""
        self._integrate()
        super().inject(fault_id)

    def clear(self, fault_id: str) -> None:
        """Clear a fault; energy and health are first integrated at the old rates."""
        self._integrate()
        super().clear(fault_id)

    def _apply(self, fault_id: str, active: bool) -> None:
        st, s = self.state, self.settings
        if fault_id == OVERLOAD:
            if not active:
                st.extra_load_w = 0.0
            elif not self.by_wear:  # something plugged in behind the kiosk
                st.extra_load_w = max(0.0, s.rated_power_w * s.overload_pct / 100 - st.load_w)
        elif fault_id == BATTERY_DEGRADED and not self.by_wear:
            if active:
                st.health = min(st.health, s.degraded_health_pct / 100)
                st.charge_wh = min(st.charge_wh, self.capacity_wh)
            else:
                self._new_battery()
        elif fault_id == BATTERY_LOW and not self.by_wear:
            # Injected: a deep discharge left the battery low; cleared: it is charged past the
            # alarm's hysteresis (the on-site repair time covers the recharge).
            if active:
                st.charge_wh = min(st.charge_wh, self.capacity_wh * s.injected_low_charge_pct / 100)
            else:
                pct = st.low_threshold_pct + s.low_battery_hysteresis_pct
                st.charge_wh = max(st.charge_wh, self.capacity_wh * pct / 100)
        self.replan()

    def _new_battery(self) -> None:
        st = self.state
        st.health = 1.0
        st.charge_wh = self.settings.capacity_wh
        st.discharged_wh = 0.0
        st.test_result = BatteryTestResult.NONE
        self.record("battery_replaced")

    # -- actions -----------------------------------------------------------------------------
    def start_battery_test(self) -> int | None:
        """Start a self-test; returns a Modbus exception code when it cannot start now."""
        st = self.state
        if st.test_until is not None or self.on_battery:
            return DEVICE_BUSY
        st.test_until = self.env.now + self.settings.battery_test_s
        st.test_result = BatteryTestResult.IN_PROGRESS
        self.record("battery_test", result="started")
        self.replan()
        return None

    @action("set-load", "Set the load behind the UPS to WATTS", watts=LOAD_WATTS)
    def _act_set_load(self, watts: str) -> str:
        value = LOAD_WATTS.parse(watts)  # ValueError: act says the declared form
        if value > 10 * self.settings.rated_power_w:  # act says the declared form too
            raise DeviceError(
                f"ups set-load: load(={value:g}) must be at most "
                f"{10 * self.settings.rated_power_w:g} W (10 times the UPS's rating)"
            )
        self._integrate()
        self.state.load_w = value
        self.record("load", watts=value)
        self.replan()
        return f"load {value:g} W ({self.load_pct():.0f} %)"

    @action("battery-test", "Start a battery self-test")
    def _act_battery_test(self) -> str:
        if self.start_battery_test() is not None:
            raise DeviceError("ups battery-test: busy (a test is running or the UPS is on battery)")
        return "battery test started"

    @action("reset-comms", "Restart the UPS management card")
    def _act_reset_comms(self) -> str:
        self.clear(COMMS_LOST)
        return "management card restarted"

    @action("replace-battery", "Fit a new battery")
    def _act_replace_battery(self) -> str:
        self._integrate()
        if self.has(BATTERY_DEGRADED):
            self.clear(BATTERY_DEGRADED)
        else:
            self._new_battery()
        self.replan()
        return "battery replaced"

    # -- what the UPS reports ----------------------------------------------------------------
    def load_pct(self) -> float:
        return 100.0 * self.total_load_w / self.settings.rated_power_w

    def readings(self) -> UpsReadings:
        """The measurements behind input registers 0-8, as of now."""
        self._integrate()
        st, s = self.state, self.settings
        vin = self.input_voltage
        soc = self.charge_pct() / 100
        power = self._battery_power_w()
        if self.on_battery:
            vbat = s.battery_nominal_v * (0.9 + 0.14 * soc)
        else:
            vbat = (
                s.battery_nominal_v * (1.085 + 0.055 * soc)
                if power > 0
                else 27.3 * s.battery_nominal_v / 24
            )
        drain = self.total_load_w / s.inverter_efficiency
        runtime = st.charge_wh / drain * 60 if drain > 0 else 0xFFFF
        load_frac = self.load_pct() / 100 if st.output_on else 0.0
        return UpsReadings(
            input_voltage=vin,
            output_voltage=s.nominal_voltage if st.output_on else 0.0,
            input_frequency=s.frequency_hz if vin > 0 else 0.0,
            battery_voltage=vbat,
            battery_charge=self.charge_pct(),
            battery_health=st.health * 100,
            load=self.load_pct() if st.output_on else 0.0,
            runtime=runtime,
            temperature=s.ambient_c + 12 * load_frac + (5 if self.on_battery else 0),
        )

    def flags(self) -> UpsFlags:
        """The status bits behind discrete inputs 0-7."""
        st, s = self.state, self.settings
        vin = self.input_voltage
        return UpsFlags(
            on_battery=self.on_battery,
            low_battery=self.has(BATTERY_LOW),
            overload=self.load_pct() > 100,
            battery_test_failed=st.test_result is BatteryTestResult.FAILED,
            replace_battery=st.health * 100 < s.degraded_below_pct - EPS
            or self.has(BATTERY_DEGRADED),
            charging=self._battery_power_w() > 0,
            output_on=st.output_on,
            avr_boost=0 < vin < s.boost_below_v,
        )

    def alarms(self) -> Alarm:
        """The alarm bit field of holding register 2."""
        f = self.flags()
        vin = self.input_voltage
        bits = Alarm(0)
        for on, bit in (
            (f.on_battery, Alarm.ON_BATTERY),
            (0 < vin < self.settings.boost_below_v, Alarm.INPUT_OUT_OF_TOLERANCE),
            (f.low_battery, Alarm.BATTERY_LOW),
            (f.overload, Alarm.OVERLOAD),
            (f.replace_battery, Alarm.REPLACE_BATTERY),
            (f.battery_test_failed, Alarm.BATTERY_TEST_FAILED),
            (not f.output_on, Alarm.OUTPUT_OFF),
        ):
            if on:
                bits |= bit
        return bits

    def holding(self) -> list[int]:
        """Holding registers 0-3."""
        return [0, int(self.state.test_result), int(self.alarms()), self.state.low_threshold_pct]

    def status(self) -> dict[str, Any]:
        """Faults, readings and status bits."""
        r = self.readings()
        return {
            **super().status(),
            "model": self.settings.model,
            "readings": {k: round(getattr(r, k), 2) for k in r.__slots__},
            "flags": {k: getattr(self.flags(), k) for k in UpsFlags.__slots__},
            "alarms": int(self.alarms()),
            "battery_test": self.state.test_result.name.lower(),
        }

    # -- the wire ----------------------------------------------------------------------------
    def open_port(self, kind: str, host: str) -> ModbusPort:
        """The UPS's management card: Modbus TCP (see ``docs/registers.md``)."""
        if kind != "modbus":
            raise DeviceError(f"{self.name} has no {kind!r} port; it speaks modbus")
        return ModbusPort(
            UpsBank(self),
            host=host,
            name=self.name,
            clock=self,
            on_out_of_map=self.address_refused,
        )
