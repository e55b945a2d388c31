"""A kiosk LCD panel controlled over DDC/CI (MCCS VCP): brightness, power mode, and an LED
backlight whose luminance falls with its hours of use.

The host talks MCCS through :mod:`devices.protocols.mccs` on a serial bridge of the display's
DDC bus. Backlight hours count only while the backlight is lit (power on, video present).
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass
from typing import Any

import simpy
from pydantic import Field

from devices.base import EventSink, Session, StreamDevice
from devices.protocols import mccs as m
from workbench.clock import HOUR
from workbench.config import Strict
from workbench.errors import ProtocolError
from workbench.faults import FaultMode

log = logging.getLogger(__name__)

DEGRADED = "display.backlight_degraded"
NO_SIGNAL = "display.no_signal"
PANEL_OFF = "display.panel_off"
BRIGHTNESS_LOW = "display.brightness_low"

LOW_BRIGHTNESS_LIMIT = 30
"""VCP 0x10 below this (of 100) counts as brightness set too low."""


class DisplaySettings(Strict):
    """Profile-tunable values of the display."""

    model: str = "KSK-D215"
    nominal_luminance: int = Field(300, gt=0, le=0xFFFF)
    """Luminance (cd/m²) of a new backlight at full brightness."""
    half_life_hours: float = Field(50000.0, gt=0.0)
    """Backlight hours after which luminance is half the nominal (LED L50 lifetime)."""
    degraded_fraction: float = Field(0.6, gt=0.0, lt=1.0)
    """Luminance fraction of nominal below which the backlight counts as degraded."""
    brightness: int = Field(80, ge=0, le=100)
    """VCP 0x10 at power-up."""
    low_brightness: int = Field(15, ge=0, lt=LOW_BRIGHTNESS_LIMIT)
    """VCP 0x10 shown by the brightness-low fault."""
    backlight_hours: float = Field(0.0, ge=0.0)
    """Hours already on the backlight (a used panel)."""
    input_source: int = Field(0x0F, ge=0, le=0xFF)
    """VCP 0x60 (0x0F = DisplayPort 1)."""


@dataclass(slots=True)
class DisplayState:
    """Brightness, commanded power mode and the backlight-hours meter."""

    brightness: int
    power: int = m.POWER_ON
    hours_base: float = 0.0
    on_since: float | None = None
    saved_brightness: int | None = None
    started: bool = False


class Display(StreamDevice[DisplaySettings]):
    """The simulated display; serve :meth:`new_session` on a pty (a DDC/CI bridge)."""

    kind = "display"

    def __init__(
        self,
        env: simpy.Environment,
        settings: DisplaySettings,
        modes: list[FaultMode],
        *,
        name: str | None = None,
        rng: random.Random | None = None,
        sink: EventSink | None = None,
    ) -> None:
        super().__init__(env, settings, modes, name=name, rng=rng, sink=sink)
        self.state = DisplayState(
            brightness=settings.brightness, hours_base=settings.backlight_hours
        )
        self._update_backlight()

    # -- derived state ---------------------------------------------------------------------
    @property
    def power_mode(self) -> int:
        """VCP 0xD6 as reported: 4 while the panel is off, 2 (standby) without video."""
        if self.has(PANEL_OFF):
            return m.POWER_OFF
        if self.state.power != m.POWER_ON:
            return self.state.power
        return m.POWER_STANDBY if self.has(NO_SIGNAL) else m.POWER_ON

    @property
    def backlight_on(self) -> bool:
        """Whether the backlight is lit."""
        return self.power_mode == m.POWER_ON

    def hours(self) -> float:
        """Backlight hours now."""
        s = self.state
        lit = (self.env.now - s.on_since) / HOUR if s.on_since is not None else 0.0
        return s.hours_base + lit

    def health(self) -> float:
        """Full-brightness luminance as a fraction of nominal (halves every ``half_life_hours``)."""
        return float(0.5 ** (self.hours() / self.settings.half_life_hours))

    def measured_luminance(self) -> float:
        """What the panel's sensor reads now (cd/m²); 0 when the backlight is dark."""
        if not self.backlight_on:
            return 0.0
        return self.settings.nominal_luminance * self.health() * self.state.brightness / 100

    def status(self) -> dict[str, Any]:
        """Snapshot: faults, power mode, brightness, backlight hours and luminance."""
        return {
            **super().status(),
            "power_mode": self.power_mode,
            "brightness": self.state.brightness,
            "backlight_hours": round(self.hours(), 3),
            "luminance_fraction": round(self.health(), 4),
            "measured_luminance": round(self.measured_luminance(), 1),
        }

    # -- wear ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the backlight wear watch."""
        self.state.started = True
        self._update_backlight(force=True)

    def _update_backlight(self, *, force: bool = False) -> None:
        """Start or stop the hours meter to match the backlight, and re-arm the wear watch."""
        s = self.state
        on = self.backlight_on
        if on == (s.on_since is not None) and not force:
            return
        if s.on_since is not None:
            s.hours_base = self.hours()
            s.on_since = None
        if on:
            s.on_since = self.env.now
        due = None
        if on and s.started and not self.has(DEGRADED):
            settings = self.settings
            due_hours = settings.half_life_hours * math.log2(1 / settings.degraded_fraction)
            due = (due_hours - self.hours()) * HOUR
        self.arm("backlight-wear", due, lambda: self.worn(DEGRADED))

    def _apply(self, fault_id: str, active: bool) -> None:
        s = self.state
        if fault_id == DEGRADED:
            # Injected: the backlight ages at once to its half-life; cleared: a new backlight.
            s.hours_base = max(self.hours(), self.settings.half_life_hours) if active else 0.0
            if s.on_since is not None:
                s.on_since = self.env.now
            if not active:
                self.record("backlight_replaced")
            self._update_backlight(force=True)
        elif fault_id == BRIGHTNESS_LOW:
            if active:
                s.saved_brightness, s.brightness = s.brightness, self.settings.low_brightness
            elif s.brightness < LOW_BRIGHTNESS_LIMIT:
                s.brightness = s.saved_brightness or self.settings.brightness
        elif fault_id == PANEL_OFF and not active:
            s.power = m.POWER_ON
        self._update_backlight()

    # -- the protocol ----------------------------------------------------------------------
    def capabilities(self) -> bytes:
        """The MCCS capabilities string."""
        text = (
            f"(prot(monitor)type(LCD)model({self.settings.model})cmds(01 02 03 F3)"
            "vcp(10 60 C0 D6 DF E1)mccs_ver(2.2))"
        )
        return text.encode("ascii")

    def get_vcp(self, code: int) -> m.VcpReply:
        """Answer Get VCP Feature."""
        s = self.settings
        values = {
            m.VCP_LUMINANCE: (100, self.state.brightness),
            m.VCP_INPUT_SOURCE: (0x12, s.input_source),
            m.VCP_POWER_MODE: (m.POWER_HARD_OFF, self.power_mode),
            m.VCP_VERSION: (0, 0x0202),
            m.VCP_MEASURED_LUMINANCE: (s.nominal_luminance, round(self.measured_luminance())),
        }
        if code == m.VCP_USAGE_HOURS:
            # Usage time is 3 bytes, ML SH SL: the top byte rides in the maximum's low byte.
            h = min(int(self.hours()), 0xFFFFFF)
            return m.VcpReply(m.RESULT_OK, code, m.TYPE_SET_PARAMETER, h >> 16, h & 0xFFFF)
        if code not in values:
            return m.VcpReply(m.RESULT_UNSUPPORTED, code, m.TYPE_SET_PARAMETER, 0, 0)
        maximum, current = values[code]
        return m.VcpReply(m.RESULT_OK, code, m.TYPE_SET_PARAMETER, maximum, current)

    def set_vcp(self, code: int, value: int) -> None:
        """Carry out Set VCP Feature (values out of range and read-only codes are ignored)."""
        self.record("vcp_set", code=f"0x{code:02X}", value=value)
        if code == m.VCP_LUMINANCE and value <= 100:
            self.state.brightness = value
            if value >= LOW_BRIGHTNESS_LIMIT and self.has(BRIGHTNESS_LOW):
                self.clear(BRIGHTNESS_LOW)
        elif code == m.VCP_POWER_MODE and m.POWER_ON <= value <= m.POWER_HARD_OFF:
            if value == m.POWER_ON and self.has(PANEL_OFF):
                self.clear(PANEL_OFF)
            elif not self.has(PANEL_OFF):
                self.state.power = value
            self._update_backlight()

    def answer(self, request: m.Request) -> bytes:
        """The bridged reply bytes for one request (empty for Set VCP)."""
        if isinstance(request, m.GetVcp):
            return m.encode_reply(self.get_vcp(request.code).payload())
        if isinstance(request, m.SetVcp):
            self.set_vcp(request.code, request.value)
            return b""
        caps = self.capabilities()
        fragment = caps[request.offset : request.offset + 32]
        return m.encode_reply(m.CapabilitiesReply(request.offset, fragment).payload())

    def new_session(self) -> DisplaySession:
        """A host connection to the DDC/CI bridge."""
        return DisplaySession(self)


class DisplaySession(Session):
    """The display's end of the DDC/CI bridge for one host connection."""

    def __init__(self, display: Display) -> None:
        self.display = display
        self._reader = m.PacketReader(reply=False)

    def feed(self, data: bytes) -> bytes:
        """Take host bytes; return replies (bad checksums are ignored, unknown requests get the
        null message)."""
        out = bytearray()
        for item in self._reader.feed(data):
            if isinstance(item, m.BadPacket):
                continue
            try:
                request = m.parse_request(item)
            except ProtocolError:
                out += m.NULL_REPLY
                continue
            out += self.display.answer(request)
        return bytes(out)
