"""Wire faults through a running kiosk's control plane reach every port its devices serve (the
UPS's and the cabinet's Modbus, the network's echo and health ports, the host PC's and the
application's HTTP), and a device that serves no port refuses them in one line."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import simpy
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from devices.catalog import default_catalog
from devices.control import request_async
from devices.kiosk import KioskHost
from devices.profiles import load_profile
from devices.terminal import Terminal
from workbench.errors import ConfigError, DeviceError

PROFILE = Path(__file__).parents[2] / "devices" / "profiles" / "bill_payment.yaml"
PATIENCE = 1.5


def split(endpoint: str) -> tuple[str, int]:
    host, port = endpoint.rsplit(":", 1)
    return host, int(port)


async def modbus_ask(endpoint: str) -> str:
    host, port = split(endpoint)
    links: list[bool] = []
    client = AsyncModbusTcpClient(
        host, port=port, timeout=PATIENCE, retries=0, trace_connect=links.append
    )
    try:
        await client.connect()
        await client.read_input_registers(0, count=1)
    except ModbusException:
        return "hung up" if False in links else "silence"
    finally:
        client.close()
    return "answer"


async def echo_ask(endpoint: str) -> str:
    reader, writer = await asyncio.open_connection(*split(endpoint))
    try:
        writer.write(b"PING 7\n")
        line = await asyncio.wait_for(reader.readline(), PATIENCE)
        return "answer" if line == b"PONG 7\n" else "hung up" if not line else "wrong answer"
    except TimeoutError:
        return "silence"
    finally:
        writer.close()


def http_ask(path: str) -> Callable[[str], Awaitable[str]]:
    async def ask(endpoint: str) -> str:
        def get() -> str:
            try:
                with urllib.request.urlopen(f"http://{endpoint}{path}", timeout=PATIENCE) as r:
                    json.loads(r.read())
                    return "answer"
            except TimeoutError:
                return "silence"
            except OSError:
                return "hung up"

        return await asyncio.to_thread(get)

    return ask


CASES = [
    # device, port kind, client, toxic type, attributes, what the client sees
    ("ups", "modbus", modbus_ask, "latency", {"latency": 500}, "slower"),
    ("exterior", "modbus", modbus_ask, "reset_peer", {}, "hung up"),
    ("network", "tcp", echo_ask, "timeout", {"timeout": 0}, "silence"),
    ("network", "http", http_ask("/health"), "latency", {"latency": 500}, "slower"),
    ("host_pc", "http", http_ask("/sensors"), "timeout", {"timeout": 0}, "silence"),
    ("system_software", "http", http_ask("/health"), "reset_peer", {}, "hung up"),
]


@pytest.mark.timeout(40)
async def test_toxics_on_served_ports_change_what_their_clients_see(state_dir: Path) -> None:
    async with KioskHost(state_dir, PROFILE, ["KSK-0009"], speed=1):
        manifest = json.loads((state_dir / "KSK-0009" / "endpoints.json").read_text())
        sock = Path(manifest["control"])
        loop = asyncio.get_running_loop()
        for device, kind, ask, type_, attributes, expected in CASES:
            endpoint = manifest["devices"][device][kind]
            await ask(endpoint)  # warm up
            t0 = loop.time()
            assert await ask(endpoint) == "answer", (device, kind)
            clean = loop.time() - t0
            await request_async(sock, "wire.add", device=device, type=type_, attributes=attributes)
            listed = await request_async(sock, "wire.list")
            assert [t["type"] for t in listed[device]] == [type_]
            t0 = loop.time()
            seen = await ask(endpoint)
            took = loop.time() - t0
            if expected == "slower":
                assert seen == "answer" and took >= clean + 0.3, (device, kind, clean, took)
            else:
                assert seen == expected, (device, kind, type_)
            await request_async(sock, "wire.remove", device=device)
            assert await ask(endpoint) == "answer", (device, kind, "after removal")


PORTLESS = """\
name: dark_ups
devices:
  ups:
    transports: []
  printer:
    transports: [serial]
"""


@pytest.mark.timeout(20)
async def test_a_device_that_serves_no_port_refuses_a_toxic_in_one_line(state_dir: Path) -> None:
    profile = state_dir / "dark_ups.yaml"
    profile.write_text(PORTLESS)
    async with KioskHost(state_dir, profile, ["KSK-0010"]):
        manifest = json.loads((state_dir / "KSK-0010" / "endpoints.json").read_text())
        sock = Path(manifest["control"])
        with pytest.raises(DeviceError) as refused:
            await request_async(sock, "wire.add", device="ups", type="latency")
        assert str(refused.value) == (
            "ups of terminal KSK-0010 serves no port (profile dark_ups: transports: []), "
            "so a wire fault on it would change nothing"
        )
        assert await request_async(sock, "wire.list") == {}
        await request_async(sock, "wire.add", device="printer", type="latency")


def test_a_scheduled_toxic_on_a_device_without_ports_is_refused_at_load(state_dir: Path) -> None:
    profile = state_dir / "dark_ups.yaml"
    profile.write_text(
        PORTLESS + "faults:\n  schedule:\n    - {at: 1m, toxic: {device: ups, type: latency}}\n"
    )
    with pytest.raises(ConfigError, match=r"faults.schedule.0: ups of terminal T serves no port"):
        Terminal(simpy.Environment(), "T", load_profile(profile), default_catalog())
