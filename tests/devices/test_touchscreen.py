"""The touch controller in virtual time and on a real pty: touches reported in raw space,
calibration drifting over days until the fault raises itself, and every catalog fault injected,
seen (or not seen) in the packets a host gets, and cleared."""

from __future__ import annotations

import asyncio

import pytest
import serial
import simpy
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from devices.catalog import default_catalog
from devices.protocols import touch as t
from devices.touchscreen import Touchscreen, TouchscreenSettings, calibration_error
from devices.transports import PtyPort
from workbench.clock import DAY, LiveClock
from workbench.errors import DeviceError

MODES = default_catalog().for_device("touchscreen")


def make(**settings: object) -> tuple[Touchscreen, bytearray]:
    """A started touchscreen and the bytes its attached host session receives unsolicited."""
    screen = Touchscreen(simpy.Environment(), TouchscreenSettings(**settings), MODES)  # type: ignore[arg-type]
    screen.start()
    return screen, bytearray()


def attached(screen: Touchscreen, wire: bytearray):
    session = screen.new_session()
    session.attach(wire.extend)
    return session


def command(session: object, payload: bytes) -> list[t.Item]:
    out = session.feed(t.CommandPacket(payload).encode())  # type: ignore[attr-defined]
    return t.PacketReader().feed(out)


def test_a_touch_is_a_pen_down_and_a_pen_up_packet_in_raw_space() -> None:
    screen, wire = make()
    attached(screen, wire)
    screen.act("touch", "960", "540")
    assert t.PacketReader().feed(bytes(wire)) == [
        t.TouchPacket(1024, 1024, True),
        t.TouchPacket(1024, 1024, False),
    ]
    with pytest.raises(DeviceError):
        screen.act("touch", "1920", "0")


def test_a_touch_drifted_past_the_raw_range_reports_the_end_of_the_range() -> None:
    """With no margin under the bezel, a panel drifted by 15 pixels maps the bottom-right corner
    past 2047 on both axes (held at 2047), the top-left corner inside the range, as it is."""
    screen, wire = make(edge_margin=0)
    attached(screen, wire)
    screen.state.extra_px = 15.0
    screen.act("touch", "1919", "1079")
    screen.act("touch", "0", "0")
    assert t.PacketReader().feed(bytes(wire))[::2] == [
        t.TouchPacket(2047, 2047, True),
        t.TouchPacket(13, 17, True),
    ]
    assert screen.raw_of(1919, 1079) == (2047, 2047)


def test_an_action_given_the_wrong_arguments_says_its_usage() -> None:
    """``kiosk act touch`` with no coordinates said ``wrong arguments []``; it says the usage, as
    a scenario's act step does, and nothing is touched."""
    screen, wire = make()
    attached(screen, wire)
    with pytest.raises(DeviceError) as none:
        screen.act("touch")
    assert str(none.value) == "touchscreen touch takes X Y; given: none"
    with pytest.raises(DeviceError) as extra:
        screen.act("recalibrate", "now")
    assert str(extra.value) == "touchscreen recalibrate takes no arguments; given: now"
    assert wire == bytearray() and screen.log == []


def test_settings_refuse_a_margin_that_eats_the_raw_range() -> None:
    with pytest.raises(ValidationError, match="edge_margin"):
        TouchscreenSettings(edge_margin=1024)


def test_calibration_drifts_over_days_until_the_fault_raises_itself() -> None:
    screen, _ = make(drift_px_per_day=1.0, tolerance_px=10.0)
    env = screen.env
    errors = []
    for day in (0, 5, 9.5):
        if day:
            env.run(until=day * DAY)
        screen.act("touch", "960", "540")
        errors.append(round(calibration_error(screen, 960, 540), 1))
    assert errors == [0.6, 5.4, 9.5]  # the slow drift, within one raw step of quantisation
    env.run(until=12 * DAY)
    screen.act("recalibrate")
    env.run(until=30 * DAY)
    assert screen.log == [
        (0, "touch x=960 y=540 raw_x=1024 raw_y=1024"),
        (5 * DAY, "touch x=960 y=540 raw_x=1028 raw_y=1029"),
        (9.5 * DAY, "touch x=960 y=540 raw_x=1031 raw_y=1034"),
        (10 * DAY, "fault id=touchscreen.calibration_drift"),
        (12 * DAY, "calibrated edges=70,1997,73,2000"),
        (12 * DAY, "clear id=touchscreen.calibration_drift"),
        (22 * DAY, "fault id=touchscreen.calibration_drift"),
    ]


def test_the_packets_of_one_button_follow_the_drift_and_the_recalibration() -> None:
    # A kiosk taps the same few buttons all day, so a tap's packets are remembered: what the host
    # decodes must still move with the drift, and map back onto the button once recalibrated.
    screen, wire = make(drift_px_per_day=1.0, tolerance_px=10.0)
    attached(screen, wire)
    seen, errors = [], []
    for day, act in ((0, ""), (5, ""), (9.5, ""), (12, "recalibrate"), (12, ""), (14, "")):
        if day * DAY > screen.env.now:
            screen.env.run(until=day * DAY)
        wire.clear()
        if act:
            screen.act(act)
            continue
        screen.act("touch", "960", "540")
        down, up = t.PacketReader().feed(bytes(wire))
        assert isinstance(down, t.TouchPacket) and isinstance(up, t.TouchPacket)
        assert (down.down, up.down) == (True, False) and (down.x, down.y) == (up.x, up.y)
        seen.append((down.x, down.y))
        sx, sy = screen.state.calibration.to_screen(down.x, down.y, 1920, 1080)
        errors.append(round(((sx - 960) ** 2 + (sy - 540) ** 2) ** 0.5))
    assert seen == [(1024, 1024), (1028, 1029), (1031, 1034), (1033, 1036), (1035, 1038)]
    assert errors == [1, 5, 10, 1, 2]  # the stored calibration: off by the drift, then right
    assert seen == [
        tuple(int(v.split("=")[1]) for v in text.split()[3:]) for _, text in screen.log
        if text.startswith("touch ")
    ]  # fmt: skip


def test_controller_commands_answer_in_touchkit_framing() -> None:
    screen, wire = make()
    session = attached(screen, wire)
    assert session.feed(b"\x0a\x01A") == b"\x0a\x01A"
    assert command(session, b"D") == [t.CommandPacket(b"D2.00.1")]
    assert command(session, b"E") == [t.CommandPacket(b"EEXC3000-SIM")]
    assert command(session, b"K") == [
        t.CommandPacket(b"K" + t.Calibration(60, 1987, 60, 1987).encode())
    ]
    new = t.Calibration(50, 2000, 40, 2010)
    assert command(session, b"k" + new.encode()) == [t.CommandPacket(b"k")]
    assert command(session, b"K") == [t.CommandPacket(b"K" + new.encode())]
    assert command(session, b"R") == [t.CommandPacket(b"R")]


def test_a_packet_left_open_by_line_noise_is_abandoned_after_a_pause() -> None:
    # noise ending in 0x0A 0x40 announced a 64-byte payload: the host's next commands were
    # taken as its bytes, one after another, until 64 had come
    screen, wire = make()
    session = attached(screen, wire)
    assert session.feed(b"\x13\x0a\x40noise") == b""
    assert command(session, b"A") == []  # within the packet's inter-byte time: still its payload
    screen.env.run(until=screen.env.now + 0.3)  # the host waits for its answer, then asks again
    assert command(session, b"A") == [t.CommandPacket(b"A")]
    assert screen.log[-1][1] == "frame_abandoned bytes=10"  # 0A 40 "noise" and the first ask


def test_calibration_drift_injected_shows_beyond_tolerance_and_recalibration_clears_it() -> None:
    screen, wire = make()
    session = attached(screen, wire)
    screen.inject("touchscreen.calibration_drift")
    screen.act("touch", "400", "300")
    (down, _up) = t.PacketReader().feed(bytes(wire))
    assert isinstance(down, t.TouchPacket)
    (cal_reply,) = command(session, b"K")
    assert isinstance(cal_reply, t.CommandPacket)
    cal = t.Calibration.decode(cal_reply.payload[1:])
    sx, sy = cal.to_screen(down.x, down.y, 1920, 1080)
    assert ((sx - 400) ** 2 + (sy - 300) ** 2) ** 0.5 > 10
    assert command(session, b"C") == [t.CommandPacket(b"C")]  # the controller recalibrates
    assert not screen.has("touchscreen.calibration_drift")
    assert calibration_error(screen, 400, 300) < 1


def test_dead_zone_swallows_touches_inside_the_rectangle_only() -> None:
    screen, wire = make(dead_zone=(100, 100, 300, 200))
    attached(screen, wire)
    screen.inject("touchscreen.dead_zone")
    screen.act("touch", "200", "150")
    assert wire == b""
    screen.act("touch", "400", "150")
    assert len(wire) == 10
    screen.clear("touchscreen.dead_zone")
    screen.act("touch", "200", "150")
    assert len(wire) == 20
    assert [e for _, e in screen.log if e.startswith("touch_lost")] == [
        "touch_lost x=200 y=150 reason=dead_zone"
    ]


def test_unresponsive_controller_answers_nothing_until_reset() -> None:
    screen, wire = make()
    session = attached(screen, wire)
    screen.inject("touchscreen.unresponsive")
    assert session.feed(b"\x0a\x01A") == b""
    screen.act("touch", "10", "10")
    assert wire == b""
    screen.act("reset")
    assert not screen.has("touchscreen.unresponsive")
    assert session.feed(b"\x0a\x01A") == b"\x0a\x01A"


def test_an_unattached_session_gets_the_touches_with_its_next_reply() -> None:
    screen, _ = make()
    session = screen.new_session()
    screen.act("touch", "960", "540")
    out = t.PacketReader().feed(session.feed(b"\x0a\x01A"))
    assert [type(i).__name__ for i in out] == ["TouchPacket", "TouchPacket", "CommandPacket"]


def read_touch(port: serial.Serial) -> tuple[t.TouchPacket, t.TouchPacket]:
    items = t.PacketReader().feed(port.read(10))
    down, up = items
    assert isinstance(down, t.TouchPacket) and isinstance(up, t.TouchPacket)
    return down, up


def read_calibration(port: serial.Serial) -> t.Calibration:
    port.write(t.CommandPacket(b"K").encode())
    (reply,) = t.PacketReader().feed(port.read(11))
    assert isinstance(reply, t.CommandPacket) and reply.code == ord("K")
    return t.Calibration.decode(reply.payload[1:])


@pytest.mark.timeout(10)
async def test_pyserial_host_maps_a_touch_through_the_calibration() -> None:
    screen, _ = make()
    async with LiveClock(screen.env, speed=1.0), PtyPort(screen.new_session, name="touch") as port:
        with serial.Serial(port.path, 9600, timeout=2) as client:
            cal = await asyncio.to_thread(read_calibration, client)
            screen.act("touch", "1500", "200")
            down, up = await asyncio.to_thread(read_touch, client)
    assert down.down and not up.down
    sx, sy = cal.to_screen(down.x, down.y, 1920, 1080)
    assert abs(sx - 1500) <= 1.5 and abs(sy - 200) <= 1.5


@given(st.lists(st.binary(max_size=40), max_size=8))
def test_any_bytes_from_the_host_get_bytes_back_never_an_exception(chunks: list[bytes]) -> None:
    screen, wire = make()
    session = attached(screen, wire)
    for chunk in chunks:
        assert isinstance(session.feed(b"\x0a" + chunk), bytes)
        if chunk:
            assert isinstance(session.feed(t.CommandPacket(chunk).encode()), bytes)
