"""The uplink: a TCP echo port that applies the modelled round trip, loss and bandwidth, and the
network agent's ``/health``; every catalog fault injected, measured on the wire, cleared."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import simpy

from devices.catalog import default_catalog
from devices.network import EchoPort, Network, NetworkSettings
from devices.protocols.health import (
    NetworkHealth,
    bulk_line,
    parse_network_health,
    parse_pong,
    ping_line,
)
from devices.transports.http import HttpPort
from workbench.clock import LiveClock
from workbench.errors import DeviceError

MODES = default_catalog().for_device("network")


def make() -> tuple[simpy.Environment, Network]:
    env = simpy.Environment()
    net = Network(env, NetworkSettings(), MODES)
    net.start()
    return env, net


def test_faults_change_the_modelled_link() -> None:
    env, net = make()
    net.inject("network.high_latency")
    net.inject("network.bandwidth_low")
    env.run(until=60)
    net.inject("network.dns_failure")
    assert net.health().dns.status == "fail"
    env.run(until=90)
    net.act("flush-dns")
    net.clear("network.high_latency")
    assert net.status()["latency_ms"] == 25.0 and net.status()["bandwidth_mbps"] == 0.5
    assert net.log == [
        (0, "fault id=network.high_latency"),
        (0, "fault id=network.bandwidth_low"),
        (60, "fault id=network.dns_failure"),
        (90, "dns_flushed"),
        (90, "clear id=network.dns_failure"),
        (90, "clear id=network.high_latency"),
    ]
    with pytest.raises(DeviceError, match="tcp \\(echo\\) and http"):
        net.open_port("modbus", "127.0.0.1")


def test_loss_is_drawn_per_probe() -> None:
    _, net = make()
    net.inject("network.packet_loss")
    results = [net.round_trip_s() for _ in range(1000)]
    lost = results.count(None)
    assert 150 < lost < 250  # 20 %
    assert net.status()["lost"] == lost and net.status()["probes"] == 1000


@dataclass
class Served:
    net: Network
    echo: EchoPort
    health: HttpPort

    def read_health(self) -> NetworkHealth:
        with urllib.request.urlopen(self.health.url("/health"), timeout=2) as resp:
            return parse_network_health(resp.read())

    async def probes(self, count: int, budget: float = 1.0) -> list[float]:
        """Round trips (wall s) of ``count`` pings sent one after the other; lost ones absent."""
        reader, writer = await asyncio.open_connection(self.echo.host, self.echo.port)
        loop = asyncio.get_running_loop()
        sent: dict[str, float] = {}
        rtts: list[float] = []
        for i in range(count):
            sent[f"p{i}"] = loop.time()
            writer.write(ping_line(f"p{i}"))
        await writer.drain()
        try:
            while len(rtts) < count:
                token = parse_pong(await asyncio.wait_for(reader.readline(), budget))
                rtts.append(loop.time() - sent[token])
        except TimeoutError:
            pass
        writer.close()
        return rtts

    async def bulk_mbps(self, size: int) -> float:
        reader, writer = await asyncio.open_connection(self.echo.host, self.echo.port)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        writer.write(bulk_line(size))
        await reader.readexactly(size)
        elapsed = loop.time() - t0
        writer.close()
        return size * 8 / elapsed / 1e6


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    env, net = make()
    echo = net.open_port("tcp", "127.0.0.1")
    health = net.open_port("http", "127.0.0.1")
    assert isinstance(echo, EchoPort) and isinstance(health, HttpPort)
    async with LiveClock(env, speed=100.0):
        await echo.start()
        await health.start()
        yield Served(net, echo, health)
        await echo.close()
        await health.close()


@pytest.mark.timeout(10)
async def test_healthy_link(served: Served) -> None:
    h = await asyncio.to_thread(served.read_health)
    assert h.link == "up" and h.dns.status == "ok" and h.dns.address == "203.0.113.10"
    assert h.echo_port == served.echo.port
    rtts = await served.probes(10, budget=0.3)
    assert len(rtts) == 10 and all(0.015 <= r < 0.2 for r in rtts)
    assert await served.bulk_mbps(64 * 1024) > 1.0


@pytest.mark.timeout(10)
async def test_bad_commands_get_an_error_line(served: Served) -> None:
    reader, writer = await asyncio.open_connection(served.echo.host, served.echo.port)
    writer.write(b"HELLO there\n")
    assert (await reader.readline()).startswith(b"ERR ")
    writer.close()


@pytest.mark.timeout(10)
async def test_link_down_refuses_the_echo_port_and_health_says_down(served: Served) -> None:
    number = served.echo.port
    reader, writer = await asyncio.open_connection(served.echo.host, number)
    served.net.inject("network.link_down")
    await served.echo.settled()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(served.echo.host, number)
    try:  # an open connection is dropped too
        assert await asyncio.wait_for(reader.read(), 2) == b""
    except ConnectionResetError:
        pass
    h = await asyncio.to_thread(served.read_health)
    assert h.link == "down" and h.dns.status == "fail"
    served.net.clear("network.link_down")
    await served.echo.settled()
    assert len(await served.probes(1)) == 1 and served.echo.port == number
    writer.close()


@pytest.mark.timeout(10)
async def test_high_latency_shows_in_the_round_trip(served: Served) -> None:
    served.net.inject("network.high_latency")
    rtts = await served.probes(3)
    assert len(rtts) == 3 and min(rtts) > 0.3
    served.net.clear("network.high_latency")
    assert max(await served.probes(3)) < 0.3


@pytest.mark.timeout(10)
async def test_packet_loss_loses_more_than_5_percent(served: Served) -> None:
    served.net.inject("network.packet_loss")
    rtts = await served.probes(60, budget=0.3)
    assert len(rtts) < 57
    served.net.clear("network.packet_loss")
    assert len(await served.probes(60, budget=0.3)) == 60


@pytest.mark.timeout(10)
async def test_dns_failure_shows_in_health_and_flush_clears(served: Served) -> None:
    served.net.inject("network.dns_failure")
    h = await asyncio.to_thread(served.read_health)
    assert h.link == "up" and h.dns.status == "fail" and h.dns.address is None
    served.net.act("flush-dns")
    assert (await asyncio.to_thread(served.read_health)).dns.status == "ok"


@pytest.mark.timeout(10)
async def test_low_bandwidth_measures_below_1_mbit(served: Served) -> None:
    served.net.inject("network.bandwidth_low")
    assert await served.bulk_mbps(32 * 1024) < 1.0
    served.net.clear("network.bandwidth_low")
    assert await served.bulk_mbps(64 * 1024) > 1.0


def test_every_catalog_fault_has_a_live_test() -> None:
    covered = {
        "network.link_down",
        "network.high_latency",
        "network.packet_loss",
        "network.dns_failure",
        "network.bandwidth_low",
    }
    assert covered == {m.id for m in MODES}
