"""A resistive/capacitive touch panel behind an eGalax-style serial controller: it reports touches
in raw controller coordinates, keeps a calibration, and its raw-to-screen mapping drifts with time.

Customers touch screen pixels (``touch X Y``); the controller pushes a pen-down and a pen-up
packet to the host unsolicited, so its session takes an ``attach(write)`` callback.

A command packet whose next byte comes more than :data:`INTER_BYTE_TIMEOUT_S` after the last
(host clock) is abandoned, as the card reader abandons a frame: line noise that looked like a
``0x0A LEN`` header would otherwise take the host's next commands as its payload.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass
from typing import Any

import simpy
from pydantic import Field, model_validator

from devices.base import Arg, EventSink, Kind, Session, StreamDevice, Writer, action
from devices.protocols import touch as t
from devices.touch_points import DRIFT_DIRECTION, Axes, Point, axes, point, raw_point
from workbench.clock import DAY
from workbench.config import Strict
from workbench.errors import DeviceError, ProtocolError
from workbench.faults import FaultMode

log = logging.getLogger(__name__)

DRIFT = "touchscreen.calibration_drift"
DEAD_ZONE = "touchscreen.dead_zone"
UNRESPONSIVE = "touchscreen.unresponsive"

MAX_OUTBOX = 4096
INTER_BYTE_TIMEOUT_S = 0.2
"""The longest pause inside a command packet (host clock) before the controller drops it."""
_TOUCH = Kind("touch", "x", "y", "raw_x", "raw_y")
"""A touch reported: ``touch x= y= raw_x= raw_y=`` (screen pixel and raw point)."""


def _on_screen(axis: str, size: str) -> Any:
    def allows(value: int, settings: Any) -> str | None:
        s = settings
        if 0 <= value < getattr(s, size):
            return None
        return (
            f"a {axis} of the {s.screen_width}x{s.screen_height} screen, "
            f"0 to {getattr(s, size) - 1}"
        )

    return allows


SCREEN_X: Arg[int] = Arg("a whole number", int, _on_screen("column", "screen_width"))
"""The pixel column ``touch`` lands on: a whole number, on the panel's screen (its settings)."""
SCREEN_Y: Arg[int] = Arg("a whole number", int, _on_screen("row", "screen_height"))
"""The pixel row ``touch`` lands on."""


class TouchscreenSettings(Strict):
    """Profile-tunable values of a touch panel and its controller."""

    controller_type: str = "EXC3000-SIM"
    firmware: str = "2.00.1"
    screen_width: int = Field(1920, gt=0)
    screen_height: int = Field(1080, gt=0)
    raw_bits: int = Field(11, ge=11, le=14)
    """Bits per axis of the controller's raw coordinates (11 = 0..2047)."""
    edge_margin: int = Field(60, ge=0)
    """Raw units between the end of the raw range and the visible screen edge (under the bezel)."""
    drift_px_per_day: float = Field(0.25, ge=0.0)
    """How fast the raw-to-screen mapping drifts, in screen pixels of error per day."""
    tolerance_px: float = Field(10.0, gt=0.0)
    """Positioning error beyond which the panel needs recalibration."""
    dead_zone: tuple[int, int, int, int] = (760, 390, 1160, 690)
    """Screen rectangle ``x0, y0, x1, y1`` that goes dead under the dead-zone fault."""

    @model_validator(mode="after")
    def _consistent(self) -> TouchscreenSettings:
        top = (1 << self.raw_bits) - 1
        if 2 * self.edge_margin >= top:
            raise ValueError(
                f"edge_margin(={self.edge_margin}) leaves no raw range at {self.raw_bits} bits"
            )
        x0, y0, x1, y1 = self.dead_zone
        if not (x0 <= x1 and y0 <= y1):
            raise ValueError(
                f"dead_zone(={self.dead_zone}) must be x0, y0, x1, y1 with x0 <= x1, y0 <= y1"
            )
        return self


@dataclass(slots=True)
class TouchState:
    """Where the panel's raw space sits under the screen, and the stored calibration."""

    base: tuple[float, float, float, float]
    """Raw X at the left/right and raw Y at the top/bottom screen edges at the last calibration."""
    calibration: t.Calibration
    """What the controller stores and reports (``K``)."""
    calibrated_at: float = 0.0
    extra_px: float = 0.0
    """Drift added at once (an injected fault) on top of the slow drift."""
    touches: int = 0


class Touchscreen(StreamDevice[TouchscreenSettings]):
    """The simulated touch controller; serve :meth:`new_session` on a pty."""

    kind = "touchscreen"

    def __init__(
        self,
        env: simpy.Environment,
        settings: TouchscreenSettings,
        modes: list[FaultMode],
        *,
        name: str | None = None,
        rng: random.Random | None = None,
        sink: EventSink | None = None,
    ) -> None:
        super().__init__(env, settings, modes, name=name, rng=rng, sink=sink)
        top = (1 << settings.raw_bits) - 1
        m = settings.edge_margin
        base = (float(m), float(top - m), float(m), float(top - m))
        self.state = TouchState(base=base, calibration=t.Calibration(*(round(v) for v in base)))
        self._axes = axes(base, settings)
        """What :meth:`raw_of` works from, for the raw space at :attr:`TouchState.base`."""
        self._points: dict[tuple[int, int], Point] = {}
        """The raw points tapped in that raw space, by screen pixel (:mod:`devices.touch_points`)."""
        self._outputs: list[Writer] = []
        """Where each host session's unsolicited bytes go, in the order the sessions opened: its
        port's writer once attached, its bounded outbox until then (:meth:`TouchSession.push`)."""

    # -- the drift model -------------------------------------------------------------------
    def drift_px(self) -> float:
        """Positioning error (screen pixels) accumulated since the last calibration."""
        days = (self.env.now - self.state.calibrated_at) / DAY
        return self.state.extra_px + self.settings.drift_px_per_day * days

    def raw_of(self, x: float, y: float) -> tuple[int, int]:
        """The raw coordinates the panel reports for a touch at screen pixel ``(x, y)`` now."""
        state = self.state
        space = self._axes
        if space[0] is not state.base:  # recalibrated: the raw space sits elsewhere
            space = self._moved()
        # drift_px(), with SimPy's clock read as its now property reads it (as Device.record does)
        d = state.extra_px + space[8] * ((self.env._now - state.calibrated_at) / DAY)
        return raw_point(space, x, y, d)

    def _moved(self) -> Axes:
        """The raw space moved (a calibration): its axes anew, and no raw point remembered."""
        self._axes = axes(self.state.base, self.settings)
        self._points = {}
        return self._axes

    def start(self) -> None:
        """Start the drift watch (raises the drift fault when the error passes the tolerance)."""
        self._watch()

    def _watch(self) -> None:
        """(Re)arm the drift watch from the calibration in force."""
        s = self.settings
        due = None
        if s.drift_px_per_day > 0:
            at = (
                self.state.calibrated_at
                + (s.tolerance_px - self.state.extra_px) / s.drift_px_per_day * DAY
            )
            due = at - self.env.now
        self.arm("drift", due, lambda: self.worn(DRIFT))

    def _recalibrate(self, stored: t.Calibration | None = None) -> None:
        """Store a calibration matching the panel as it is now (or the host's, taken as the
        result of its own calibration run); the drift error restarts from zero."""
        s = self.settings
        xl, xr, yt, yb = self.state.base
        d = self.drift_px()
        dx = d * DRIFT_DIRECTION[0] * (xr - xl) / s.screen_width
        dy = d * DRIFT_DIRECTION[1] * (yb - yt) / s.screen_height
        self.state.base = (xl + dx, xr + dx, yt + dy, yb + dy)
        c = stored or t.Calibration(*(round(v) for v in self.state.base))
        self.state.calibration = c
        self.state.calibrated_at = self.env.now
        self.state.extra_px = 0.0
        self.record("calibrated", edges=f"{c.x_left},{c.x_right},{c.y_top},{c.y_bottom}")
        self._watch()

    def _apply(self, fault_id: str, active: bool) -> None:
        if fault_id != DRIFT:
            return
        tolerance = self.settings.tolerance_px
        if active and self.drift_px() < 0.999 * tolerance:
            # Injected before the slow drift got there: jump to one and a half times the tolerance.
            self.state.extra_px += 1.5 * tolerance - self.drift_px()
        elif not active and self.drift_px() >= 0.999 * tolerance:
            self._recalibrate()  # cleared by the trainer: the engineer recalibrated

    def status(self) -> dict[str, Any]:
        """Snapshot: faults, drift error, stored calibration, touches reported."""
        c = self.state.calibration
        return {
            **super().status(),
            "drift_px": round(self.drift_px(), 3),
            "tolerance_px": self.settings.tolerance_px,
            "calibration": [c.x_left, c.x_right, c.y_top, c.y_bottom],
            "touches": self.state.touches,
        }

    # -- stimuli ---------------------------------------------------------------------------
    @action("touch", "A customer touches screen pixel X Y", x=SCREEN_X, y=SCREEN_Y)
    def touch(self, x: str, y: str) -> str:
        """A customer touches screen pixel ``(x, y)``: a pen-down and a pen-up packet go out.
        A position not of the declared form, or off the screen, is said by ``act`` as declared."""
        reported = self.tap(int(x), int(y))
        if isinstance(reported, str):
            return reported
        return f"touch reported at raw {reported}"

    def tap(self, px: int, py: int) -> tuple[int, int] | str:
        """A touch at screen pixel ``(px, py)`` (the ``touch`` action's, given whole pixels, as a
        kiosk application's customer gives them): the controller reports it in raw space, a
        pen-down and a pen-up packet to every host session; returns the raw point, or what the
        customer sees instead when a fault loses the touch.

        A kiosk's customers tap five times each, so this is the whole of the controller's side
        of a tap in one call, the message left to the action: no string to parse or format. The
        raw point is worked out once for as long as the drift leaves it where it is
        (:class:`devices.touch_points.Point`): a tap at a point remembered for the drift now is
        the record, the packets and the raw point, all kept, unless a fault loses it."""
        state = self.state
        space = self._axes
        if space[0] is not state.base:  # raw_of(px, py) from here (the twin tests hold them equal)
            space = self._moved()
        d = state.extra_px + space[8] * ((self.env._now - state.calibrated_at) / DAY)
        at = self._points.get((px, py))
        if at is None or not at[0] <= d <= at[1]:
            s = self.settings
            if not (0 <= px < s.screen_width and 0 <= py < s.screen_height):
                raise DeviceError(
                    f"touch ({px}, {py}) is off the {s.screen_width}x{s.screen_height} screen"
                )
            points = self._points
            if len(points) >= 256:  # a kiosk's buttons, and other taps that come and go
                points.clear()
            at = points[px, py] = point(space, px, py, d, s.raw_bits)
        active = self.active  # the faults that lose a touch (the drift fault loses none)
        lossy = active and (UNRESPONSIVE in active or DEAD_ZONE in active)
        if lossy and (lost := self._lost(px, py)) is not None:
            return lost
        state.touches += 1
        self.record_values(_TOUCH, at[2])
        packets = at[3]
        for send in self._outputs:
            send(packets)
        return at[4]

    def _lost(self, px: int, py: int) -> str | None:
        """What the customer sees when a fault loses the touch at ``(px, py)`` (recorded), or
        None when it is reported."""
        if UNRESPONSIVE in self.active:
            self.record("touch_lost", x=px, y=py, reason="unresponsive")
            return "the controller reports nothing"
        x0, y0, x1, y1 = self.settings.dead_zone
        if DEAD_ZONE in self.active and x0 <= px <= x1 and y0 <= py <= y1:
            self.record("touch_lost", x=px, y=py, reason="dead_zone")
            return "the touch fell in the dead zone"
        return None

    def touch_counted(self, px: int, py: int) -> bool:
        """A touch without its packets (``usage.mode: counters``): whether the controller
        would have reported it (the same unresponsive and dead-zone faults), counted if so."""
        if self.has(UNRESPONSIVE):
            return False
        x0, y0, x1, y1 = self.settings.dead_zone
        if self.has(DEAD_ZONE) and x0 <= px <= x1 and y0 <= py <= y1:
            return False
        self.state.touches += 1
        return True

    def taps_counted(self, n: int) -> bool:
        """``n`` touches without their packets, wherever they land, counted when the controller
        reports every touch now (neither unresponsive nor with a dead zone); False, and nothing
        counted, when a fault could lose one (then :meth:`touch_counted` each)."""
        if UNRESPONSIVE in self.active or DEAD_ZONE in self.active:
            return False
        self.state.touches += n
        return True

    @action("recalibrate", "Run the calibration utility")
    def recalibrate(self) -> str:
        """Run the calibration utility (touch the targets): the drift error goes back to zero."""
        self._recalibrate()
        if self.has(DRIFT):
            self.clear(DRIFT)
        return "touchscreen recalibrated"

    @action("reset", "Power-cycle the touch controller")
    def reset(self) -> str:
        """Power-cycle the controller (the remote remedy for an unresponsive controller)."""
        self.record("power_cycle")
        if self.has(UNRESPONSIVE):
            self.clear(UNRESPONSIVE)
        return "touch controller power-cycled"

    # -- the protocol ----------------------------------------------------------------------
    def execute(self, cmd: t.CommandPacket) -> bytes:
        """Answer one command packet (empty when the controller does not answer it)."""
        code = cmd.code
        reply: bytes | None = None
        if code == t.CHECK_ACTIVE:
            reply = b"A"
        elif code == t.FIRMWARE:
            reply = b"D" + self.settings.firmware.encode()
        elif code == t.CONTROLLER_TYPE:
            reply = b"E" + self.settings.controller_type.encode()
        elif code == t.GET_CALIBRATION:
            reply = b"K" + self.state.calibration.encode()
        elif code == t.SET_CALIBRATION:
            try:
                cal = t.Calibration.decode(cmd.payload[1:])
            except ProtocolError:
                return b""
            self._recalibrate(cal)
            if self.has(DRIFT):
                self.clear(DRIFT)
            reply = b"k"
        elif code == t.RECALIBRATE:
            self.recalibrate()
            reply = b"C"
        elif code == t.RESET:
            self.record("reset")
            reply = b"R"
        return t.CommandPacket(reply).encode() if reply else b""

    def new_session(self) -> TouchSession:
        """A host connection; touch packets reach it through :meth:`TouchSession.attach`."""
        session = TouchSession(self, len(self._outputs))
        self._outputs.append(session.push)
        return session


class TouchSession(Session):
    """One host connection: answers commands and pushes touch packets as they happen."""

    def __init__(self, device: Touchscreen, slot: int) -> None:
        self.device = device
        self._slot = slot
        """Its place in the device's :attr:`Touchscreen._outputs`."""
        self._reader = t.PacketReader(commands_only=True)
        self._outbox = bytearray()
        self._heard = float("-inf")
        """When the previous bytes arrived (simulated time)."""

    def attach(self, write: Writer) -> None:
        """Give the session a way to send bytes at any time (the port's write); touches kept
        until now go out at once."""
        super().attach(write)
        self.device._outputs[self._slot] = write  # a tap's packets go straight to the port
        if self._outbox:
            pending, self._outbox = bytes(self._outbox), bytearray()
            write(pending)

    def push(self, data: bytes) -> None:
        """Send unsolicited bytes now, or keep them (bounded) until the next ``feed``."""
        if self._write is not None:
            self._write(data)
        else:
            self._outbox += data
            del self._outbox[:-MAX_OUTBOX]

    def feed(self, data: bytes) -> bytes:
        """Take host bytes; return the command replies (and any touches kept for us). A packet
        left open for :data:`INTER_BYTE_TIMEOUT_S` (host clock) is dropped first."""
        device = self.device
        now = device.env.now
        if self._reader.pending and now - self._heard > device.host_span(INTER_BYTE_TIMEOUT_S):
            device.record("frame_abandoned", bytes=self._reader.reset())
        self._heard = now
        out = bytearray(self._outbox)
        self._outbox.clear()
        for item in self._reader.feed(data):
            if isinstance(item, t.CommandPacket) and not self.device.has(UNRESPONSIVE):
                out += self.device.execute(item)
        return bytes(out)


def calibration_error(device: Touchscreen, x: int, y: int) -> float:
    """Distance (pixels) between a touch at ``(x, y)`` and where the stored calibration maps it."""
    rx, ry = device.raw_of(x, y)
    s = device.settings
    sx, sy = device.state.calibration.to_screen(rx, ry, s.screen_width, s.screen_height)
    return math.hypot(sx - x, sy - y)
