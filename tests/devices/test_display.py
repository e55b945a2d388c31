"""The DDC/CI display in virtual time and on a real pty: brightness and power through MCCS VCP
codes, the backlight wearing down with its hours, and every catalog fault injected, seen in the
VCP replies a host reads, and cleared."""

from __future__ import annotations

import asyncio

import pytest
import serial
import simpy
from hypothesis import given
from hypothesis import strategies as st

from devices.catalog import default_catalog
from devices.display import Display, DisplaySettings
from devices.protocols import mccs as m
from devices.transports import PtyPort
from workbench.clock import HOUR, LiveClock

MODES = default_catalog().for_device("display")


def make(**settings: object) -> Display:
    display = Display(simpy.Environment(), DisplaySettings(**settings), MODES)  # type: ignore[arg-type]
    display.start()
    return display


class Host:
    """ddcutil's part, on a session: Get VCP, Set VCP, capabilities."""

    def __init__(self, display: Display) -> None:
        self.session = display.new_session()

    def get(self, code: int) -> m.VcpReply:
        out = self.session.feed(m.encode_request(m.GetVcp(code).payload()))
        (payload,) = m.PacketReader(reply=True).feed(out)
        assert isinstance(payload, bytes)
        reply = m.parse_reply(payload)
        assert isinstance(reply, m.VcpReply)
        return reply

    def value(self, code: int) -> tuple[int, int]:
        reply = self.get(code)
        assert reply.result == m.RESULT_OK and reply.code == code
        return reply.maximum, reply.current

    def set(self, code: int, value: int) -> None:
        assert self.session.feed(m.encode_request(m.SetVcp(code, value).payload())) == b""


def test_get_and_set_brightness() -> None:
    host = Host(make())
    assert host.value(m.VCP_LUMINANCE) == (100, 80)
    host.set(m.VCP_LUMINANCE, 55)
    assert host.value(m.VCP_LUMINANCE) == (100, 55)
    host.set(m.VCP_LUMINANCE, 101)  # out of range: ignored, as a real monitor does
    assert host.value(m.VCP_LUMINANCE) == (100, 55)
    assert host.value(m.VCP_POWER_MODE)[1] == m.POWER_ON
    assert host.get(0x14).result == m.RESULT_UNSUPPORTED


def test_capabilities_read_in_fragments_and_junk_requests() -> None:
    display = make()
    host = Host(display)
    text, offset = b"", 0
    while True:
        out = host.session.feed(m.encode_request(m.CapabilitiesRequest(offset).payload()))
        (payload,) = m.PacketReader(reply=True).feed(out)
        assert isinstance(payload, bytes)
        frag = m.parse_reply(payload)
        assert isinstance(frag, m.CapabilitiesReply) and frag.offset == offset
        if not frag.text:
            break
        text, offset = text + frag.text, offset + len(frag.text)
    assert (
        text
        == b"(prot(monitor)type(LCD)model(KSK-D215)cmds(01 02 03 F3)vcp(10 60 C0 D6 DF E1)mccs_ver(2.2))"
    )
    assert host.session.feed(m.encode_request(b"\x07")) == m.NULL_REPLY
    assert host.session.feed(bytes.fromhex("6e51820110ad")) == b""  # bad checksum: ignored


def test_backlight_hours_count_only_while_lit_and_wear_raises_the_fault() -> None:
    display = make(half_life_hours=1000.0, degraded_fraction=0.5, brightness=100)
    env, host = display.env, Host(display)
    env.run(until=100 * HOUR)
    host.set(m.VCP_POWER_MODE, m.POWER_OFF)
    assert host.value(m.VCP_MEASURED_LUMINANCE) == (300, 0)
    env.run(until=300 * HOUR)
    host.set(m.VCP_POWER_MODE, m.POWER_ON)
    env.run(until=800 * HOUR)
    assert host.value(m.VCP_USAGE_HOURS) == (0, 600)
    assert host.value(m.VCP_MEASURED_LUMINANCE) == (300, round(300 * 0.5**0.6))
    env.run(until=2000 * HOUR)
    assert display.log == [
        (100 * HOUR, "vcp_set code=0xD6 value=4"),
        (300 * HOUR, "vcp_set code=0xD6 value=1"),
        (1200 * HOUR, "fault id=display.backlight_degraded"),
    ]
    assert host.value(m.VCP_USAGE_HOURS) == (0, 1800)


def test_usage_hours_beyond_16_bits_use_the_third_byte() -> None:
    host = Host(make(backlight_hours=70000.0))
    assert host.value(m.VCP_USAGE_HOURS) == (70000 >> 16, 70000 & 0xFFFF)


def test_backlight_degraded_shows_low_measured_luminance_until_replaced() -> None:
    display = make()
    host = Host(display)
    host.set(m.VCP_LUMINANCE, 100)
    display.inject("display.backlight_degraded")
    nominal, measured = host.value(m.VCP_MEASURED_LUMINANCE)
    assert measured < 0.6 * nominal
    display.clear("display.backlight_degraded")
    assert host.value(m.VCP_MEASURED_LUMINANCE) == (300, 300)
    assert host.value(m.VCP_USAGE_HOURS) == (0, 0)


def test_no_signal_reports_standby_while_ddc_still_answers() -> None:
    display = make()
    host = Host(display)
    display.inject("display.no_signal")
    assert host.value(m.VCP_POWER_MODE)[1] == m.POWER_STANDBY
    assert host.value(m.VCP_INPUT_SOURCE)[1] == 0x0F
    assert host.value(m.VCP_MEASURED_LUMINANCE)[1] == 0
    host.set(m.VCP_POWER_MODE, m.POWER_ON)  # no video: still standby
    assert host.value(m.VCP_POWER_MODE)[1] == m.POWER_STANDBY
    display.clear("display.no_signal")
    assert host.value(m.VCP_POWER_MODE)[1] == m.POWER_ON


def test_panel_off_reports_power_mode_4_and_the_host_switches_it_on() -> None:
    display = make()
    host = Host(display)
    display.inject("display.panel_off")
    assert host.value(m.VCP_POWER_MODE) == (5, m.POWER_OFF)
    host.set(m.VCP_POWER_MODE, m.POWER_ON)  # the remote remedy
    assert not display.has("display.panel_off")
    assert host.value(m.VCP_POWER_MODE)[1] == m.POWER_ON
    display.inject("display.panel_off")
    display.clear("display.panel_off")
    assert host.value(m.VCP_POWER_MODE)[1] == m.POWER_ON


def test_brightness_low_shows_below_30_and_clears_by_restoring_or_by_the_host() -> None:
    display = make()
    host = Host(display)
    display.inject("display.brightness_low")
    assert host.value(m.VCP_LUMINANCE) == (100, 15)
    display.clear("display.brightness_low")
    assert host.value(m.VCP_LUMINANCE) == (100, 80)
    display.inject("display.brightness_low")
    host.set(m.VCP_LUMINANCE, 70)  # the remote remedy
    assert not display.has("display.brightness_low")
    assert host.value(m.VCP_LUMINANCE) == (100, 70)


def get_vcp(port: serial.Serial, code: int) -> m.VcpReply:
    port.write(m.encode_request(m.GetVcp(code).payload()))
    raw = port.read(12)
    reply = m.parse_reply(m.decode_packet(raw, reply=True))
    assert isinstance(reply, m.VcpReply)
    return reply


@pytest.mark.timeout(10)
async def test_pyserial_host_gets_and_sets_brightness_over_a_real_pty() -> None:
    display = make()
    async with (
        LiveClock(display.env, speed=1.0),
        PtyPort(display.new_session, name="display") as port,
    ):
        with serial.Serial(port.path, 115200, timeout=2) as client:
            before = await asyncio.to_thread(get_vcp, client, m.VCP_LUMINANCE)
            client.write(m.encode_request(m.SetVcp(m.VCP_LUMINANCE, 42).payload()))
            after = await asyncio.to_thread(get_vcp, client, m.VCP_LUMINANCE)
    assert (before.maximum, before.current) == (100, 80)
    assert (after.maximum, after.current) == (100, 42)


@given(st.lists(st.binary(max_size=40), max_size=8))
def test_any_bytes_from_the_host_get_bytes_back_never_an_exception(chunks: list[bytes]) -> None:
    session = make().new_session()
    for chunk in chunks:
        assert isinstance(session.feed(b"\x6e\x51" + chunk), bytes)
        if 1 <= len(chunk) <= m.MAX_PAYLOAD:
            assert isinstance(session.feed(m.encode_request(chunk)), bytes)
