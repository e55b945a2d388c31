"""The device contract: every simulator is exactly one of a stream device (answers byte sessions)
or a served device (serves its own ports), built through the one base constructor, with its
faults named by module constants; and the transports, not the devices, bring a stream device up
to the live clock around every chunk of a host's bytes."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import urllib.request
from pathlib import Path

import pytest
import serial
import simpy
from click.testing import CliRunner

from devices.base import Device, ServedDevice, StreamDevice
from devices.catalog import default_catalog
from devices.display import Display, DisplaySettings
from devices.host_pc import HostPc, HostPcSettings
from devices.kiosk import KioskHost
from devices.printer import PrinterSettings
from devices.protocols import mccs as m
from devices.registry import KINDS
from devices.transports import PtyPort
from workbench.cli import cli
from workbench.clock import HOUR, LiveClock

BASE_PARAMETERS = list(inspect.signature(Device.__init__).parameters)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_kind_is_one_shape_built_through_the_base_constructor(name: str) -> None:
    kind = KINDS[name]
    cls = kind.device_class
    assert issubclass(cls, StreamDevice) != issubclass(cls, ServedDevice)
    if issubclass(cls, StreamDevice):
        assert set(kind.transports) <= {"serial", "tcp"}
    else:
        assert "serial" not in kind.transports
    assert list(inspect.signature(cls.__init__).parameters) == BASE_PARAMETERS
    catalog = default_catalog()
    modes = [mode for d in kind.catalog_devices for mode in catalog.for_device(d)]
    device = cls(simpy.Environment(), kind.settings_model(), modes, name=f"the-{name}")
    assert device.name == f"the-{name}" and isinstance(device.settings, kind.settings_model)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_fault_a_model_implements_is_a_module_constant(name: str) -> None:
    kind = KINDS[name]
    module = importlib.import_module(kind.module)
    constants = {v for k, v in vars(module).items() if k.isupper() and isinstance(v, str)}
    catalog = default_catalog()
    ids = {mode.id for d in kind.catalog_devices for mode in catalog.for_device(d)}
    assert ids <= constants, sorted(ids - constants)


def get_usage_hours(port: serial.Serial) -> int:
    port.write(m.encode_request(m.GetVcp(m.VCP_USAGE_HOURS).payload()))
    reply = m.parse_reply(m.decode_packet(port.read(12), reply=True))
    assert isinstance(reply, m.VcpReply)
    return reply.maximum << 16 | reply.current


@pytest.mark.timeout(10)
async def test_the_pty_brings_the_model_up_to_the_clock_before_the_session_answers() -> None:
    """A display (its session does nothing about time) at 36,000x, ten simulated hours a wall
    second: its only SimPy event is far away, so the clock's stepper sleeps, and only the
    port's catch-up makes the backlight hours a host reads follow the wall clock."""
    env = simpy.Environment()
    display = Display(env, DisplaySettings(), default_catalog().for_device("display"))
    display.start()
    async with LiveClock(env, speed=36_000.0, max_sleep=60.0) as clock:
        display.attach_clock(clock)
        async with PtyPort(display.new_session, name="display", clock=display) as port:
            with serial.Serial(port.path, 115200, timeout=2) as host:
                start = clock.sim_target()
                await asyncio.sleep(0.5)  # five simulated hours pass in the wall clock
                hours = await asyncio.to_thread(get_usage_hours, host)
                now = clock.sim_target()
    assert (start + 4.5 * HOUR) / HOUR <= hours <= now / HOUR


def test_a_timer_armed_again_or_disarmed_never_runs_its_old_action() -> None:
    env = simpy.Environment()
    device = Device(env, PrinterSettings(), [])
    fired: list[tuple[str, float]] = []
    device.arm("watch", 5.0, lambda: fired.append(("first", env.now)))
    env.run(until=2.0)
    device.arm("watch", 5.0, lambda: fired.append(("second", env.now)))  # re-armed: due at 7
    env.run(until=10.0)
    device.arm("watch", 1.0, lambda: fired.append(("third", env.now)))
    device.arm("watch", None, lambda: None)  # disarmed
    env.run(until=20.0)
    assert fired == [("second", 7.0)]


class Recorder(Device[PrinterSettings]):
    """Records whether each applied fault came from wear."""

    def __init__(self) -> None:
        modes = [m for m in default_catalog().for_device("printer") if m.id == "printer.head_dirty"]
        super().__init__(simpy.Environment(), PrinterSettings(), modes)
        self.applied: list[tuple[str, bool, bool]] = []

    def _apply(self, fault_id: str, active: bool) -> None:
        self.applied.append((fault_id, active, self.by_wear))


def test_wear_raises_and_clears_only_faults_the_model_implements_marked_as_wear() -> None:
    device = Recorder()
    device.worn("printer.head_dirty")
    device.worn("printer.head_dirty")  # already raised: nothing more
    device.worn("printer.paper_out")  # not one of this device's faults: nothing
    device.clear("printer.head_dirty")
    device.inject("printer.head_dirty")
    device.worn("printer.head_dirty", on=False)
    assert device.applied == [
        ("printer.head_dirty", True, True),
        ("printer.head_dirty", False, False),
        ("printer.head_dirty", True, False),
        ("printer.head_dirty", False, True),
    ]
    assert not device.by_wear


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_model_s_actions_are_exactly_the_ones_it_declares(name: str) -> None:
    kind = KINDS[name]
    cls = kind.device_class
    device = cls(simpy.Environment(), kind.settings_model(), [])
    assert sorted(device.actions) == [a.name for a in cls.describe_actions()]
    for info in cls.describe_actions():
        assert info.help and info.help[0].isupper(), info


def test_kiosk_act_help_lists_every_action_of_every_model() -> None:
    result = CliRunner().invoke(cli, ["kiosk", "act", "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    listed = [line.split()[0] for line in result.output.splitlines() if line.startswith("  ")]
    declared = [a.name for k in KINDS.values() for a in k.device_class.describe_actions()]
    assert len(declared) == 38
    for action_name in declared:
        assert action_name in listed
    assert "insert-note VALUE" in result.output and "touch X Y" in result.output
    assert "insert-unknown-note VALUE" in result.output


@pytest.mark.timeout(10)
async def test_the_http_port_brings_the_model_up_to_the_clock_before_each_request() -> None:
    """A host PC at 36,000x: the uptime its sensor endpoint reports follows the wall clock
    although the clock's stepper sleeps, because the port catches the model up."""
    env = simpy.Environment()
    pc = HostPc(env, HostPcSettings(), default_catalog().for_device("host_pc"))
    pc.start()
    async with LiveClock(env, speed=36_000.0, max_sleep=60.0) as clock:
        pc.attach_clock(clock)
        async with pc.open_port("http", "127.0.0.1") as port:
            start = clock.sim_target()
            await asyncio.sleep(0.5)  # five simulated hours pass in the wall clock
            url = f"http://{port.endpoint}/sensors"
            body = await asyncio.to_thread(
                lambda: json.load(urllib.request.urlopen(url, timeout=2))
            )
            now = clock.sim_target()
    assert start + 4.5 * HOUR <= body["uptime_s"] <= now


@pytest.mark.timeout(20)
async def test_a_recording_kiosk_still_pushes_unprompted_bytes_to_the_host(
    state_dir: Path,
) -> None:
    """The transcript recorder wraps each session: it is a Session too, so the pty attaches its
    writer and a touch reaches the host (and the transcript)."""
    transcript = state_dir / "wire.jsonl"
    async with KioskHost(state_dir, "bill_payment", ["KSK-0070"], transcript=transcript) as kiosk:
        path = kiosk.endpoints["KSK-0070"]["devices"]["touchscreen"]["serial"]
        with serial.Serial(path, 9600, timeout=2) as host:
            kiosk.terminals["KSK-0070"].act("touch", "960", "540")
            packets = await asyncio.to_thread(host.read, 10)
    assert len(packets) == 10 and packets[0] & 0x80  # pen down and pen up, sync bit set
    assert transcript.read_text().count('"touchscreen"') >= 1
