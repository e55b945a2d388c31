"""Wire faults (toxics) between a device session and its pty and TCP ports, seen by a client."""

from __future__ import annotations

import asyncio
import random

import pytest
import serial
import simpy

from devices.network import EchoPort, Network, NetworkSettings
from devices.transports import PtyPort, TcpPort
from devices.transports.listener import Listener
from devices.transports.wire import Wire
from workbench.errors import ConfigError


class Echo:
    """A device session that answers every chunk with the same bytes."""

    def feed(self, data: bytes) -> bytes:
        return data


def test_unknown_toxic_and_attribute_are_refused_with_the_valid_ones() -> None:
    wire = Wire()
    with pytest.raises(ConfigError, match=r"unknown toxic type 'lag'; types: latency, bandwidth"):
        wire.add("lag")
    with pytest.raises(
        ConfigError, match=r"toxic 'latency' has no attribute 'delay'; attributes: latency, jitter"
    ):
        wire.add("latency", attributes={"delay": 5})


@pytest.mark.parametrize("value", [float("inf"), float("nan"), -1.0, "abc", None])
def test_attribute_values_that_are_not_finite_non_negative_numbers_are_refused(
    value: object,
) -> None:
    # an infinite slicer size used to be accepted, then raise OverflowError on every chunk
    # and drop the client's connection with a traceback in the kiosk's log
    wire = Wire()
    with pytest.raises(ConfigError, match=r"toxic 'slicer' average_size\(=.*\) must be a"):
        wire.add("slicer", attributes={"average_size": value})  # type: ignore[dict-item]
    assert wire.toxics == {}


def test_drop_and_corrupt_change_bytes_at_their_rate() -> None:
    wire = Wire(random.Random(1))
    wire.add("drop", attributes={"rate": 0.5})
    data = bytes(range(256)) * 8
    kept = b"".join(p for _, p in wire.carry(data, "downstream").pieces)
    assert 0.4 * len(data) < len(kept) < 0.6 * len(data)
    assert wire.carry(data, "upstream").pieces == [(0.0, data)]  # other stream untouched
    wire.clear()
    wire.add("corrupt", attributes={"rate": 1.0})
    ((_, bad),) = wire.carry(b"\x00" * 100, "downstream").pieces
    assert all(bin(b).count("1") == 1 for b in bad)  # exactly one bit flipped per byte


@pytest.mark.timeout(10)
async def test_latency_toxic_delays_tcp_replies_and_clears() -> None:
    wire = Wire()
    async with TcpPort(Echo, wire=wire) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port.port)
        loop = asyncio.get_running_loop()

        async def round_trip() -> float:
            t0 = loop.time()
            writer.write(b"ping")
            assert await reader.readexactly(4) == b"ping"
            return loop.time() - t0

        assert await round_trip() < 0.1
        wire.add("latency", attributes={"latency": 300})
        assert await round_trip() >= 0.29
        wire.remove("latency_downstream")
        assert await round_trip() < 0.1
        writer.close()


@pytest.mark.timeout(10)
async def test_reset_peer_resets_a_tcp_client_and_timeout_closes_it() -> None:
    wire = Wire()
    wire.add("reset_peer")
    async with TcpPort(Echo, wire=wire) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port.port)
        writer.write(b"hello")
        with pytest.raises(ConnectionResetError):  # toxiproxy's reset_peer: a TCP RST
            await reader.read(100)
        writer.close()
        wire.clear()
        wire.add("timeout", attributes={"timeout": 50})
        reader, writer = await asyncio.open_connection("127.0.0.1", port.port)
        writer.write(b"hello")
        assert await reader.read(100) == b""  # stalled, then an orderly close (EOF)
        writer.close()


@pytest.mark.timeout(10)
async def test_stalled_serial_line_answers_nothing_until_cleared() -> None:
    wire = Wire()
    async with PtyPort(Echo, wire=wire) as port:
        client = serial.Serial(port.path, timeout=0)
        loop = asyncio.get_running_loop()

        async def read_n(n: int, within: float) -> bytes:
            got = b""
            deadline = loop.time() + within
            while len(got) < n and loop.time() < deadline:
                got += client.read(n - len(got))
                await asyncio.sleep(0.005)  # polling a non-blocking port, not waiting for readiness
            return got

        client.write(b"abc")
        assert await read_n(3, 2.0) == b"abc"
        wire.add("modem_loss")
        client.write(b"def")
        assert await read_n(3, 0.3) == b""
        wire.clear()
        client.write(b"ghi")
        assert await read_n(3, 2.0) == b"ghi"
        client.close()


@pytest.mark.timeout(10)
async def test_a_port_nobody_reads_holds_a_bounded_backlog() -> None:
    from devices.transports.pty import OUT_LIMIT

    async with PtyPort(Echo) as port:
        chunk = b"x" * 65536
        for _ in range(4 * OUT_LIMIT // len(chunk)):
            port.write(chunk)  # a device pushing to a client that never reads
        assert len(port._out) <= OUT_LIMIT


class Chatty(Listener):
    """A port whose handler writes 32 MiB at once and never waits for the client."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(512):  # more than loopback's socket buffers take
            writer.write(b"x" * 65536)
        self.done.set()
        await reader.read()

    done = asyncio.Event()


@pytest.mark.timeout(10)
async def test_a_tcp_port_nobody_reads_holds_at_most_a_mebibyte_whatever_its_handler_does() -> None:
    from devices.transports.wired import OUT_LIMIT

    Chatty.done = asyncio.Event()
    async with Chatty() as port:
        _, writer = await asyncio.open_connection(port.host, port.port)  # and never read
        await asyncio.wait_for(Chatty.done.wait(), 5)
        assert 0 < port.backlog <= OUT_LIMIT
        writer.close()


@pytest.mark.timeout(15)
async def test_the_echo_port_pushes_back_on_a_newline_flood_it_cannot_send_back() -> None:
    # every empty line is answered "ERR ..."; a client that never reads made the port hold
    # every reply (about 4 MiB/s of growth)
    from devices.transports.wired import OUT_LIMIT

    network = Network(simpy.Environment(), NetworkSettings(), [])
    async with EchoPort(network) as port:
        _, writer = await asyncio.open_connection(port.host, port.port)
        chunk = b"\n" * 65536

        async def flood() -> None:
            while True:
                writer.write(chunk)
                await writer.drain()

        with pytest.raises(TimeoutError):
            await asyncio.wait_for(flood(), 2.5)
        assert port.backlog <= OUT_LIMIT
        reader2, writer2 = await asyncio.open_connection(port.host, port.port)
        writer2.write(b"PING 1\n")
        assert await asyncio.wait_for(reader2.readline(), 5) == b"PONG 1\n"
        writer.transport.abort()
        writer2.close()
