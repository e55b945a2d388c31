"""A flood on one port does not stall the others: a port feeds its device in slices, gives the
event loop up after each turn, and stops reading a client whose backlog it has not worked off."""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import time
from pathlib import Path

import pytest
import simpy

from devices.base import ByteSession
from devices.kiosk import KioskHost
from devices.printer import Printer, PrinterSettings
from devices.transports import PtyPort, TcpPort
from devices.transports.pacing import MAX_SLICE

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

import port_fuzz

MIB = 1 << 20


class Chunks:
    """A session that keeps what it is fed, chunk by chunk (passing it on to ``device``), and
    says when it has been fed ``expect`` bytes."""

    def __init__(self, expect: int, device: ByteSession | None = None) -> None:
        self.chunks: list[bytes] = []
        self.fed = 0
        self.expect = expect
        self.done = asyncio.Event()
        self.device = device

    def feed(self, data: bytes) -> bytes:
        self.chunks.append(data)
        self.fed += len(data)
        if self.fed >= self.expect:
            self.done.set()
        return self.device.feed(data) if self.device is not None else b""


def noisy_printer() -> Printer:
    return Printer(simpy.Environment(), PrinterSettings(), [])


def one_read_of_noise_s(noise: bytes) -> float:
    """How long the printer takes to parse one 64 KiB read of ``noise`` (the best of 3 fresh
    printers): how long a port held the event loop for each read before it fed in slices."""
    times = []
    for _ in range(3):
        session = noisy_printer().new_session()
        started = time.perf_counter()
        session.feed(noise[: 64 * 1024])
        times.append(time.perf_counter() - started)
    return min(times)


@pytest.mark.timeout(20)
async def test_a_tcp_port_feeds_its_session_in_slices_in_order() -> None:
    data = random.Random(1).randbytes(MIB)
    chunks = Chunks(len(data))
    async with TcpPort(lambda: chunks) as port:
        _, writer = await asyncio.open_connection("127.0.0.1", port.port)
        writer.write(data)
        await chunks.done.wait()
        writer.close()
    assert b"".join(chunks.chunks) == data
    assert max(len(c) for c in chunks.chunks) == MAX_SLICE  # a session this fast: the most


@pytest.mark.timeout(20)
async def test_a_pty_port_feeds_its_session_in_slices_in_order() -> None:
    data = random.Random(2).randbytes(256 * 1024)
    chunks = Chunks(len(data))
    loop = asyncio.get_running_loop()
    async with PtyPort(lambda: chunks) as port:
        fd = os.open(port.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            view = memoryview(data)
            while view:
                try:
                    view = view[os.write(fd, view) :]
                except BlockingIOError:  # the pty is full: wait until the port reads again
                    writable = loop.create_future()
                    loop.add_writer(fd, writable.set_result, None)
                    await writable
                    loop.remove_writer(fd)
            await chunks.done.wait()
        finally:
            os.close(fd)
    assert b"".join(chunks.chunks) == data
    assert max(len(c) for c in chunks.chunks) <= MAX_SLICE


@pytest.mark.timeout(30)
async def test_a_client_flooding_a_slow_device_is_pushed_back_not_buffered() -> None:
    # the printer parses random bytes at a few MB/s; 32 MiB written at once would sit in the
    # kiosk's memory if the port kept reading, and stays in the client's instead
    noise = random.Random(3).randbytes(MIB)
    printer = noisy_printer()
    chunks = Chunks(2 * MIB, printer.new_session())
    async with TcpPort(lambda: chunks) as port:
        _, writer = await asyncio.open_connection("127.0.0.1", port.port)
        for _ in range(32):
            writer.write(noise)
        await chunks.done.wait()  # the printer has parsed 2 MiB of it
        held_by_client = writer.transport.get_write_buffer_size()
        writer.transport.abort()
    # the rest is in the client, bar what the kernel's socket buffers hold (a few MiB)
    assert held_by_client > 20 * MIB
    # and the printer, slow at parsing noise, was fed it in slices smaller than a fast session's
    assert statistics.median(len(c) for c in chunks.chunks) < MAX_SLICE


@pytest.mark.timeout(50)
async def test_a_flood_on_the_printers_port_9100_leaves_the_ups_answering(
    state_dir: Path,
) -> None:
    noise = random.Random(0).randbytes(MIB)  # what the flooder sends (seed 0)
    held_per_read = one_read_of_noise_s(noise)
    async with KioskHost(state_dir, "bill_payment", ["KSK-0001"], speed=1) as host:
        devices = host.endpoints["KSK-0001"]["devices"]
        ups = devices["ups"]["modbus"]
        idle = await port_fuzz.modbus_latencies(ups, 30)
        async with port_fuzz.flooding(devices["printer"]["tcp"], seed=0) as flood:
            during = await port_fuzz.modbus_latencies(ups, 60)
            still_flooding = flood.running
    assert still_flooding  # every read was made while the flood went on
    assert flood.sent > 2 * MIB
    # Before, each 64 KiB the port read was parsed in one go (and its noise written to the
    # store one row a message): the UPS waited 0.35 s at the median, 3.6 s at the 90th
    # percentile. Now it waits for a few turns of the flooded port at most.
    bound = max(4 * held_per_read, 20 * statistics.median(idle))
    median = statistics.median(during)
    assert median < bound, (
        f"UPS read median {median * 1e3:.1f} ms during the flood, {statistics.median(idle) * 1e3:.2f}"
        f" ms idle; the printer parses 64 KiB of the noise in {held_per_read * 1e3:.1f} ms"
    )
