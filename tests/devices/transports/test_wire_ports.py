"""Every toxic on every kind of port, as that port's own client sees it: a pty through pyserial,
raw TCP and the echo port through a socket, Modbus TCP through pymodbus's client, HTTP through
urllib. Each case asks once on a clean wire (the baseline), once with the toxic, and once after
it is removed (the port answers again: no toxic wedges a port)."""

from __future__ import annotations

import asyncio
import http.client
import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import serial
import simpy
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from devices.network import EchoPort, Network, NetworkSettings
from devices.transports import PtyPort, TcpPort
from devices.transports.http import HttpPort, render
from devices.transports.modbus import ModbusPort, Table
from devices.transports.wire import Wire

PATIENCE = 1.2
"""Seconds a client waits for an answer before it calls the port silent."""

OK, WRONG, SILENT, CLOSED = "answer", "wrong answer", "silence", "hung up"


@dataclass
class Seen:
    """What one request met, as the client saw it."""

    outcome: str
    seconds: float


Ask = Callable[[], Awaitable[Seen]]


class Echo:
    def feed(self, data: bytes) -> bytes:
        return data


class Bank:
    sizes = {Table.INPUT: 4}

    def snapshot(self, table: Table) -> Sequence[int]:
        return [1, 2, 3, 4]

    def write(self, address: int, values: Sequence[int]) -> int | None:
        return None

    def answering(self) -> bool:
        return True


def _clock() -> float:
    return asyncio.get_running_loop().time()


# -- one client per port kind ---------------------------------------------------------------
@asynccontextmanager
async def pty_client(wire: Wire) -> AsyncIterator[tuple[Ask, int]]:
    async with PtyPort(Echo, wire=wire) as port:
        client = serial.Serial(port.path, timeout=0)

        async def ask() -> Seen:
            client.reset_input_buffer()
            t0 = _clock()
            client.write(b"hello")
            got = b""
            while len(got) < 5 and _clock() - t0 < PATIENCE:
                got += client.read(5 - len(got))
                await asyncio.sleep(0.005)  # polling a non-blocking port, not waiting for a server
            outcome = OK if got == b"hello" else SILENT if not got else WRONG
            return Seen(outcome, _clock() - t0)

        try:
            yield ask, 5
        finally:
            client.close()


async def _socket_ask(host: str, port: int, request: bytes, answer: bytes) -> Seen:
    t0 = _clock()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        got = b""
        try:
            async with asyncio.timeout(PATIENCE):
                while len(got) < len(answer):
                    chunk = await reader.read(len(answer) - len(got))
                    if not chunk:
                        return Seen(CLOSED if not got else WRONG, _clock() - t0)
                    got += chunk
        except TimeoutError:
            return Seen(SILENT if not got else WRONG, _clock() - t0)
        except ConnectionResetError:
            return Seen(CLOSED, _clock() - t0)
        return Seen(OK if got == answer else WRONG, _clock() - t0)
    finally:
        writer.close()


@asynccontextmanager
async def tcp_client(wire: Wire) -> AsyncIterator[tuple[Ask, int]]:
    async with TcpPort(Echo, wire=wire) as port:
        yield (lambda: _socket_ask(port.host, port.port, b"hello", b"hello")), 5


@asynccontextmanager
async def echo_client(wire: Wire) -> AsyncIterator[tuple[Ask, int]]:
    network = Network(simpy.Environment(), NetworkSettings(jitter_ms=0), [])
    port = EchoPort(network)
    port.wire = wire
    async with port:
        yield (lambda: _socket_ask(port.host, port.port, b"PING 1\n", b"PONG 1\n")), 7


@asynccontextmanager
async def modbus_client(wire: Wire) -> AsyncIterator[tuple[Ask, int]]:
    port = ModbusPort(Bank())
    port.wire = wire

    async def ask() -> Seen:
        t0 = _clock()
        links: list[bool] = []  # pymodbus reports a hang-up as no response, and reconnects
        client = AsyncModbusTcpClient(
            port.host, port=port.port, timeout=PATIENCE, retries=0, trace_connect=links.append
        )
        try:
            await client.connect()
            rr = await client.read_input_registers(0, count=4)
        except ModbusException:
            return Seen(CLOSED if False in links else SILENT, _clock() - t0)
        finally:
            client.close()
        right = not rr.isError() and rr.registers == [1, 2, 3, 4]
        return Seen(OK if right else WRONG, _clock() - t0)

    async with port:
        yield ask, 7 + 2 + 8


@asynccontextmanager
async def http_client(wire: Wire) -> AsyncIterator[tuple[Ask, int]]:
    port = HttpPort({"/health": lambda: {"ok": True}})
    port.wire = wire

    def get() -> str:
        try:
            with urllib.request.urlopen(port.url("/health"), timeout=PATIENCE) as response:
                return OK if json.loads(response.read()) == {"ok": True} else WRONG
        except TimeoutError:
            return SILENT
        except urllib.error.URLError as exc:
            return SILENT if isinstance(exc.reason, TimeoutError) else CLOSED
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return CLOSED
        except (http.client.HTTPException, ValueError):
            return WRONG

    async def ask() -> Seen:
        t0 = _clock()
        outcome = await asyncio.to_thread(get)
        return Seen(outcome, _clock() - t0)

    async with port:
        yield ask, len(render(200, {"ok": True}))


CLIENTS: dict[str, Callable[[Wire], Any]] = {
    "pty": pty_client,
    "raw tcp": tcp_client,
    "echo": echo_client,
    "modbus tcp": modbus_client,
    "http": http_client,
}

# -- what each toxic does, as a client sees it ----------------------------------------------
SLOWER = "slower"
"""An answer, at least 0.3 s later than on the clean wire (the toxic adds 0.5 s), whose time is
the fastest of three clean asks."""

TOXICS: dict[str, tuple[str, dict[str, float], str, str]] = {
    # name: (type, attributes, stream, what the client sees)
    "latency": ("latency", {"latency": 500}, "downstream", SLOWER),
    "latency upstream": ("latency", {"latency": 500}, "upstream", SLOWER),
    "bandwidth": ("bandwidth", {}, "downstream", SLOWER),  # rate set per port: 0.5 s a reply
    "slicer": ("slicer", {"average_size": 1, "delay": 1000}, "downstream", OK),
    "stall": ("timeout", {"timeout": 0}, "downstream", SILENT),
    "stall then hang up": ("timeout", {"timeout": 100}, "downstream", CLOSED),
    "reset_peer": ("reset_peer", {}, "downstream", CLOSED),
    "limit_data": ("limit_data", {"bytes": 0}, "downstream", CLOSED),
    "drop": ("drop", {"rate": 1}, "downstream", SILENT),
    "corrupt": ("corrupt", {"rate": 1}, "downstream", WRONG),
    "noise": ("noise", {"rate": 1}, "downstream", WRONG),
    "modem_loss": ("modem_loss", {}, "downstream", SILENT),
}

EXCEPT: dict[tuple[str, str], str] = {
    # A pty cannot hang up on its client: a disconnect leaves the line dead.
    **{("pty", t): SILENT for t in ("stall then hang up", "reset_peer", "limit_data")},
    # HTTP closes after its reply: a dropped reply is a connection closed with nothing in it.
    ("http", "drop"): CLOSED,
    # pymodbus's client waits for a frame it can read: a garbled header is no answer at all.
    ("modbus tcp", "corrupt"): SILENT,
    ("modbus tcp", "noise"): SILENT,
}


@pytest.mark.timeout(20)
@pytest.mark.parametrize("toxic", list(TOXICS))
@pytest.mark.parametrize("kind", list(CLIENTS))
async def test_each_toxic_as_the_ports_client_sees_it(kind: str, toxic: str) -> None:
    type_, attributes, stream, expected = TOXICS[toxic]
    expected = EXCEPT.get((kind, toxic), expected)
    wire = Wire()
    async with CLIENTS[kind](wire) as (ask, reply_size):
        await ask()  # the first connection of a client warms up (imports, threads)
        cleans = [await ask() for _ in range(3)]
        assert all(c.outcome == OK for c in cleans), cleans
        # the clean wire's time is its fastest ask's: a pause of the machine (a busy core, a
        # collection) adds to an ask's time, but not to a toxic's delay it falls within
        clean = min(cleans, key=lambda c: c.seconds)
        if type_ == "bandwidth":
            attributes = {"rate": reply_size / 0.5 / 1024}
        wire.add(type_, stream=stream, attributes=attributes)
        seen = await ask()
        if expected == SLOWER:
            assert seen.outcome == OK, seen
            assert seen.seconds >= clean.seconds + 0.3, (clean, seen)
        else:
            assert seen.outcome == expected, seen
        wire.clear()
        again = await ask()
        assert again.outcome == OK, again
