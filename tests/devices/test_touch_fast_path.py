"""A customer's touches the short way (the application draws the think time and the button as
``random.Random`` does, written out, and taps the controller with whole pixels) against the
general way (``rng.uniform``, ``rng.choice`` and the ``touch`` action with its strings, through
``Device.act``): over a kiosk fortnight with the touchscreen's faults coming and going, every
byte on every session (the touch packets too) with its time, the device logs, the application's
log, stats and random state must agree. And the controller's side alone: whatever the order of
taps, faults, sessions opened and attached, each host gets the packets of the touches reported,
whether it was attached then or got them kept in its outbox. And a raw point remembered
(``devices.touch_points``) is the one worked out afresh, wherever the drift has got to."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Generator
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from wire_tap import outcome, tap_wire

from devices import touch_points as tp
from devices import usage
from devices.catalog import default_catalog
from devices.profiles import load_profile
from devices.protocols import touch as t
from devices.protocols.hosts.touch import TouchHost
from devices.terminal import Terminal
from devices.touchscreen import (
    DEAD_ZONE,
    DRIFT,
    UNRESPONSIVE,
    Touchscreen,
    TouchscreenSettings,
    TouchSession,
)
from devices.usage import BUTTONS, KioskApp
from workbench.clock import DAY, HOUR
from workbench.errors import DeviceError


class GeneralApp(KioskApp):
    """The application's touches as they were written before the short way: every draw and tap
    through the general calls."""

    def _touches(self) -> Generator[simpy.Event, Any, bool]:
        rng, stats, screen = self.rng, self.stats, self.devices["touchscreen"]

        def tap(where: tuple[int, int]) -> bool:
            seen = stats.touches_seen
            screen.act("touch", str(where[0]), str(where[1]))
            return stats.touches_seen > seen

        for _ in range(self.settings.touches):
            think = rng.uniform(0.5, 1.5) * self.settings.think_s
            if (wait := self._wait(think)) is not None:
                yield wait
            if not tap(rng.choice(BUTTONS)) and not tap(BUTTONS[-1]):
                return False
        return True


def _troubles(env: simpy.Environment, screen: Touchscreen) -> Generator[simpy.Event, Any, None]:
    """The touchscreen's faults coming and going (in opening hours, so customers meet them)."""
    for day in range(10):
        yield env.timeout(day * DAY + 9 * HOUR - env.now)
        fault = (DEAD_ZONE, UNRESPONSIVE, DRIFT)[day % 3]
        screen.inject(fault)
        yield env.timeout(5 * HOUR)
        screen.clear(fault)


def _fortnight(app: type[KioskApp], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    profile = load_profile("bill_payment")
    assert profile.usage is not None
    usage = profile.usage.model_copy(update={"enabled": True, "repair_faults": True})
    faults = profile.faults.model_copy(update={"mtbf": True, "mtbf_scale": 40.0})
    profile = dataclasses.replace(profile, usage=usage, faults=faults)
    monkeypatch.setattr("devices.terminal.KioskApp", app)
    env = simpy.Environment()
    terminal = Terminal(env, "KSK-0001", profile, default_catalog(), seed=5)
    terminal.start()
    kiosk = terminal.app
    assert type(kiosk) is app
    wire = tap_wire(env, kiosk)
    screen = terminal.devices["touchscreen"]
    assert isinstance(screen, Touchscreen)
    env.process(_troubles(env, screen))
    env.run(until=14 * DAY)
    return {
        **outcome(terminal, kiosk, wire),
        "random": kiosk.rng.getstate(),
    }


def test_a_customers_touches_the_short_way_are_the_general_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    general = _fortnight(GeneralApp, monkeypatch)
    short = _fortnight(KioskApp, monkeypatch)
    lost = [e for _, e in general["devices"]["touchscreen"] if e.startswith("touch_lost")]
    assert {e.split()[-1] for e in lost} == {"reason=dead_zone", "reason=unresponsive"}
    assert general["stats"]["touches_seen"] > 1000
    assert sum(e.startswith("walked_away reason=screen") for _, e in general["app"]) > 10
    for key in ("wire", "devices", "status", "app", "stats", "random"):
        assert short[key] == general[key], key


xs = st.one_of(st.integers(-2, 1921), st.sampled_from([0, 1900, 1919, 1920]))  # edges too
ys = st.one_of(st.integers(-2, 1081), st.sampled_from([0, 1070, 1079, 1080]))
steps = st.one_of(
    st.tuples(st.just("tap"), xs, ys, st.sampled_from([0, 1])),
    st.tuples(st.just("wait"), st.sampled_from([60.0, 3 * DAY, 20 * DAY])),
    st.tuples(st.just("fault"), st.sampled_from([DEAD_ZONE, UNRESPONSIVE, DRIFT]), st.booleans()),
    st.tuples(st.just("open"), st.booleans()),  # a host session, attached at once or not
    st.tuples(st.just("attach"), st.integers(0, 3)),
    st.tuples(st.just("feed"), st.integers(0, 3)),  # an unattached session gets what was kept
    st.tuples(st.just("recalibrate"), st.none()),
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([0, 60]), st.lists(steps, max_size=40))
def test_every_host_gets_the_packets_of_the_touches_reported(margin: int, story: list[Any]) -> None:
    # no margin under the bezel: a drifted touch near an edge is held at the end of the range
    env = simpy.Environment()
    modes = default_catalog().for_device("touchscreen")
    screen = Touchscreen(env, TouchscreenSettings(drift_px_per_day=1.0, edge_margin=margin), modes)
    screen.start()
    sessions: list[tuple[TouchSession, bytearray]] = []
    reported: list[list[tuple[int, int]]] = []  # per session: the raw points it must get

    def open_session(attach: bool) -> None:
        got = bytearray()
        session = screen.new_session()
        if attach:
            session.attach(got.extend)
        sessions.append((session, got))
        reported.append([])

    open_session(True)
    for kind, *args in story:
        if kind == "tap":
            x, y, by_action = args
            on_screen = 0 <= x < 1920 and 0 <= y < 1080
            try:
                if by_action:
                    said: Any = screen.act("touch", str(x), str(y))
                else:
                    said = screen.tap(x, y)
            except DeviceError as e:
                said_so = "1920x1080 screen, 0 to" if by_action else "is off the 1920x1080 screen"
                assert not on_screen and said_so in str(e)  # act: in the declared words
                continue
            assert on_screen
            lost = screen.has(UNRESPONSIVE) or (
                screen.has(DEAD_ZONE) and 760 <= x <= 1160 and 390 <= y <= 690
            )
            raw = screen.raw_of(x, y)  # the same instant: what the tap must have reported
            if lost:
                assert said in ("the controller reports nothing", "the touch fell in the dead zone")
            else:
                assert said == (f"touch reported at raw {raw}" if by_action else raw)
                for points in reported:
                    points.append(raw)
        elif kind == "wait":
            env.run(until=env.now + args[0])
        elif kind == "fault":
            fault, on = args
            screen.inject(fault) if on else screen.clear(fault)
        elif kind == "open":
            open_session(args[0])
        elif kind in ("attach", "feed") and args[0] < len(sessions):
            session, got = sessions[args[0]]
            if kind == "attach":
                session.attach(got.extend)
            else:
                got += session.feed(b"")
        elif kind == "recalibrate":
            screen.act("recalibrate")
    for (session, got), points in zip(sessions, reported, strict=True):
        got += session.feed(b"")  # what an unattached session kept comes with a reply
        packets = t.PacketReader().feed(bytes(got))
        expected = [t.TouchPacket(x, y, down) for x, y in points for down in (True, False)]
        assert packets == expected
    touches = [e for _, e in screen.log if e.startswith("touch ")]
    assert len(touches) == len(reported[0]) == screen.state.touches


pixels = st.tuples(
    st.one_of(st.integers(0, 1919), st.sampled_from([0, 1, 480, 960, 1440, 1918, 1919])),
    st.one_of(st.integers(0, 1079), st.sampled_from([0, 1, 300, 540, 780, 1078, 1079])),
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([0, 60]),
    st.floats(-40.0, 40.0),  # the drift at the calibration's base: off the range at either end
    pixels,
    st.floats(0.0, 30.0),
    st.lists(st.floats(0.0, 1.0), max_size=20),
)
def test_a_raw_point_holds_over_the_drift_it_is_remembered_for(
    margin: int, shift: float, pixel: tuple[int, int], d: float, within: list[float]
) -> None:
    # devices.touch_points.Point: the raw point worked out at drift d holds from d to hi (the
    # sums never decrease as the drift grows, and they were worked out at hi too)
    s = TouchscreenSettings(edge_margin=margin)
    top = (1 << s.raw_bits) - 1
    base = (margin + shift, top - margin + shift, margin + shift, top - margin + shift)
    space = tp.axes(base, s)
    at = tp.point(space, *pixel, d, s.raw_bits)
    assert at.lo == d and at.raw == tp.raw_point(space, *pixel, d)
    assert at.values == (*pixel, *at.raw)
    assert at.packets == tp.tap_packets(*at.raw, s.raw_bits)
    if at.hi == float("inf"):  # held at the top of the range for ever after
        assert top in at.raw
        ends = [d + 10.0**k for k in range(7)]
    else:
        ends = [at.hi, math.nextafter(at.hi, d)]
    for u in within:
        ends.append(d + u * (min(at.hi, d + 1e6) - d))
    for e in ends:
        assert tp.raw_point(space, *pixel, e) == at.raw, e


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([0, 60]),
    st.floats(0.0, 100.0),  # pixels of drift a day: raw units crossed every few minutes
    st.lists(st.tuples(pixels, st.floats(0.0, 600.0), st.booleans()), max_size=60),
)
def test_a_tap_at_a_remembered_point_reports_what_raw_of_works_out(
    margin: int, per_day: float, story: list[tuple[tuple[int, int], float, bool]]
) -> None:
    env = simpy.Environment()
    modes = default_catalog().for_device("touchscreen")
    screen = Touchscreen(
        env, TouchscreenSettings(drift_px_per_day=per_day, edge_margin=margin), modes
    )
    got = bytearray()
    screen.new_session().attach(got.extend)
    expected = bytearray()
    for (x, y), gap, recalibrate in story:
        if env.now + gap > env.now:
            env.run(until=env.now + gap)
        if recalibrate:
            screen.act("recalibrate")
        raw = screen.raw_of(x, y)
        assert screen.tap(x, y) == raw
        expected += t.TouchPacket(*raw, True).encode() + t.TouchPacket(*raw, False).encode()
    assert got == expected
    touches = [e for _, e in screen.log if e.startswith("touch ")]
    assert len(touches) == len(story)


packet_bytes = st.lists(
    st.tuples(st.integers(0, 2047), st.integers(0, 2047), st.booleans()), max_size=4
).map(lambda taps: b"".join(t.TouchPacket(x, y, down).encode() for x, y, down in taps))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(packet_bytes, st.binary(max_size=12)), max_size=30))
def test_the_taps_read_from_the_memo_are_the_hosts(pushed: list[bytes]) -> None:
    # devices.usage._TAPS (the application's memo of TouchHost.taps by the bytes pushed)
    for data in pushed:
        assert usage._TAPS[data] == TouchHost.taps(data)
    assert all(usage._TAPS[data] == TouchHost.taps(data) for data in pushed)  # read again
