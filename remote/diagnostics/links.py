"""The ways diagnostics reach devices, asyncio-friendly: a serial port opened with pyserial and
read through the event loop (``loop.add_reader`` on its file descriptor, never a blocking read),
a Modbus TCP client, one-shot HTTP GETs, and byte streams on a TCP port.

Diagnostics never construct these themselves: they ask the :class:`LinkFactory` in their
context (``ctx.links.serial(path)``...), so tests can hand them in-memory links and a real
terminal the real ones (:class:`Links`).

Each wait raises :class:`LinkTimeout` when a healthy device would have answered, counting only
the time this host could wait (:func:`wait_for_device`); a port that cannot be opened or
connected at all raises :class:`PortUnreachable` (an error of the test, not a device fault).
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

import serial
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from remote.diagnostics.base import LinkTimeout, PortUnreachable, wait_for_device
from workbench.errors import ProtocolError, TransportError

log = logging.getLogger(__name__)

T = TypeVar("T")
PATIENCE_BACKSTOP = 30.0


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` -> ``(host, port)``."""
    host, _, port = address.rpartition(":")
    if not host or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise PortUnreachable(f"bad address {address!r}; expected host:port")
    return host, int(port)


class SerialLink:
    """A serial port (a real tty or a simulated kiosk's pty) opened with pyserial, read through
    the event loop. ``async with SerialLink(path) as link: link.write(...); await link.until(...)``."""

    def __init__(self, path: str, baudrate: int = 9600) -> None:
        self.path = path
        self.baudrate = baudrate
        self._ser: serial.Serial | None = None
        self._buf = bytearray()
        self._arrived = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> SerialLink:
        try:
            self._ser = serial.Serial(self.path, self.baudrate, timeout=0, write_timeout=0)
        except (serial.SerialException, OSError) as exc:
            raise PortUnreachable(f"{self.path}: cannot open serial port: {exc}") from None
        fd = self._ser.fileno()
        os.set_blocking(fd, False)
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(fd, self._readable)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ser is not None:
            if self._loop is not None:
                self._loop.remove_reader(self._ser.fileno())
            self._ser.close()
            self._ser = None

    def _readable(self) -> None:
        assert self._ser is not None
        try:
            data = os.read(self._ser.fileno(), 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.warning("%s: read failed: %s", self.path, exc)
            return
        if data:
            self._buf += data
            self._arrived.set()

    def write(self, data: bytes, timeout: float = 1.0) -> None:
        """Send bytes, waiting (at most ``timeout``) while the port's buffer is full.

        Written with ``os.write`` and ``poll`` rather than pyserial's ``write``, whose wait uses
        ``select()``: that fails for descriptors past 1024, which a process hosting an agent per
        kiosk for a fleet reaches."""
        assert self._ser is not None, "link not open"
        fd = self._ser.fileno()
        view = memoryview(data)
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        deadline = time.monotonic() + timeout
        while view:
            try:
                view = view[os.write(fd, view) :]
                continue
            except BlockingIOError:
                pass
            except OSError as exc:
                raise TransportError(f"{self.path}: write failed: {exc.strerror}") from None
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                raise TransportError(f"{self.path}: write timed out ({len(view)} bytes not taken)")

    def drain_input(self) -> bytes:
        """Take whatever has arrived so far (stale bytes before a new exchange)."""
        data = bytes(self._buf)
        self._buf.clear()
        self._arrived.clear()
        return data

    async def _chunk(self) -> bytes:
        while not self._buf:
            self._arrived.clear()
            await self._arrived.wait()
        return self.drain_input()

    async def until(self, feed: Callable[[bytes], T | None], timeout: float) -> T:
        """Feed arriving bytes to ``feed`` until it returns something (or time runs out)."""
        return await _until(self._chunk, feed, timeout, f"no reply on {self.path}")


async def _until(
    chunk: Callable[[], Any], feed: Callable[[bytes], T | None], timeout: float, silent: str
) -> T:
    async def collect() -> T:
        while True:
            got = feed(await chunk())
            if got is not None:
                return got

    try:
        return await wait_for_device(collect(), timeout)
    except TimeoutError:
        raise LinkTimeout(silent) from None


class TcpLink:
    """A raw TCP byte stream (a port-9100 printer) with :class:`SerialLink`'s methods."""

    def __init__(self, address: str) -> None:
        self.path = address
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending = b""

    async def __aenter__(self) -> TcpLink:
        host, port = split_address(self.path)
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), 5.0
            )
        except (OSError, TimeoutError) as exc:
            raise PortUnreachable(f"{self.path}: cannot connect: {exc}") from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def write(self, data: bytes) -> None:
        """Send bytes (buffered by the transport)."""
        assert self._writer is not None, "link not open"
        self._writer.write(data)

    def drain_input(self) -> bytes:
        """Take what has been read ahead (TCP keeps the rest in the socket)."""
        data, self._pending = self._pending, b""
        return data

    async def _chunk(self) -> bytes:
        assert self._reader is not None
        if self._pending:
            return self.drain_input()
        data = await self._reader.read(65536)
        if not data:
            raise TransportError(f"{self.path}: connection closed")
        return data

    async def until(self, feed: Callable[[bytes], T | None], timeout: float) -> T:
        """Feed arriving bytes to ``feed`` until it returns something (or time runs out)."""
        return await _until(self._chunk, feed, timeout, f"no reply from {self.path}")


class ModbusLink:
    """A Modbus TCP client with a short timeout and no retries: a silent unit fails fast."""

    def __init__(self, address: str, timeout: float) -> None:
        host, port = split_address(address)
        self.address = address
        self.timeout = timeout
        # pymodbus's own timeout is only a backstop: waits are judged by wait_for_device
        self.client = AsyncModbusTcpClient(
            host, port=port, timeout=timeout * PATIENCE_BACKSTOP, retries=0
        )

    async def __aenter__(self) -> ModbusLink:
        if not await self.client.connect():
            raise PortUnreachable(f"{self.address}: Modbus TCP connection refused")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.client.close()

    async def _call(self, what: str, request: Any) -> Any:
        try:
            rr = await wait_for_device(request, self.timeout)
        except TimeoutError:
            raise LinkTimeout(f"{self.address}: {what}: no answer") from None
        except ModbusException as exc:
            raise LinkTimeout(f"{self.address}: {what}: {exc}") from None
        if rr.isError():
            raise ProtocolError(
                f"{self.address}: {what}: exception {getattr(rr, 'exception_code', '?')}"
            )
        return rr

    async def inputs(self, address: int, count: int) -> list[int]:
        """Input registers (function 4)."""
        rr = await self._call(
            "read input registers", self.client.read_input_registers(address, count=count)
        )
        return list(rr.registers[:count])

    async def holding(self, address: int, count: int) -> list[int]:
        """Holding registers (function 3)."""
        rr = await self._call(
            "read holding registers", self.client.read_holding_registers(address, count=count)
        )
        return list(rr.registers[:count])

    async def discrete(self, address: int, count: int) -> list[bool]:
        """Discrete inputs (function 2)."""
        rr = await self._call(
            "read discrete inputs", self.client.read_discrete_inputs(address, count=count)
        )
        return [bool(b) for b in rr.bits[:count]]

    async def write(self, address: int, value: int) -> None:
        """Write one holding register (function 6)."""
        await self._call("write register", self.client.write_register(address, value))


async def http_get(address: str, path: str, timeout: float) -> tuple[int, bytes]:
    """GET ``http://address/path``; returns ``(status, body)``.

    Connection refused raises :class:`PortUnreachable`; no complete answer in time raises
    :class:`LinkTimeout`; something that is not HTTP raises :class:`ProtocolError`.
    """
    host, port = split_address(address)
    try:
        reader, writer = await wait_for_device(asyncio.open_connection(host, port), timeout)
    except TimeoutError:
        raise LinkTimeout(f"{address}: connect timed out") from None
    except OSError as exc:
        raise PortUnreachable(f"{address}: cannot connect: {exc.strerror or exc}") from None
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        raw = await wait_for_device(reader.read(), timeout)
    except TimeoutError:
        raise LinkTimeout(f"{address}{path}: no answer within {timeout:g} s") from None
    except OSError as exc:
        raise TransportError(f"{address}{path}: {exc}") from None
    finally:
        writer.close()
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ProtocolError(f"{address}{path}: not an HTTP response")
    try:
        return int(head.split(b" ", 2)[1]), body
    except (IndexError, ValueError):
        raise ProtocolError(f"{address}{path}: bad HTTP response {head[:60]!r}") from None


async def connect(
    address: str, timeout: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP byte stream to ``host:port`` (the uplink's echo port)."""
    host, port = split_address(address)
    try:
        return await wait_for_device(asyncio.open_connection(host, port), timeout)
    except TimeoutError:
        raise LinkTimeout(f"{address}: connect timed out") from None
    except OSError as exc:
        raise PortUnreachable(f"{address}: cannot connect: {exc.strerror or exc}") from None


# -- the seam ------------------------------------------------------------------------------------
class ByteLink(Protocol):
    """A byte stream to one device (a serial port, a raw TCP port, or an in-memory double)."""

    path: str

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def write(self, data: bytes) -> None:
        """Send bytes."""
        ...

    def drain_input(self) -> bytes:
        """Take (and forget) whatever has arrived unasked."""
        ...

    async def until(self, feed: Callable[[bytes], T | None], timeout: float) -> T:
        """Feed arriving bytes to ``feed`` until it returns something; :class:`LinkTimeout`
        when the device stays silent."""
        ...


class RegisterLink(Protocol):
    """A Modbus unit's registers (a Modbus TCP client, or an in-memory double)."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def inputs(self, address: int, count: int) -> list[int]: ...

    async def holding(self, address: int, count: int) -> list[int]: ...

    async def discrete(self, address: int, count: int) -> list[bool]: ...

    async def write(self, address: int, value: int) -> None: ...


class LinkFactory(Protocol):
    """Where diagnostics and remedies get their links (``Context.links``)."""

    def serial(self, path: str) -> ByteLink: ...

    def tcp(self, address: str) -> ByteLink: ...

    def modbus(self, address: str, timeout: float) -> RegisterLink: ...

    async def http_get(self, address: str, path: str, timeout: float) -> tuple[int, bytes]: ...

    async def connect(
        self, address: str, timeout: float
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]: ...


class Links:
    """The real links: serial ports, TCP, Modbus TCP and HTTP on this machine."""

    def serial(self, path: str) -> ByteLink:
        return SerialLink(path)

    def tcp(self, address: str) -> ByteLink:
        return TcpLink(address)

    def modbus(self, address: str, timeout: float) -> RegisterLink:
        return ModbusLink(address, timeout)

    async def http_get(self, address: str, path: str, timeout: float) -> tuple[int, bytes]:
        return await http_get(address, path, timeout)

    async def connect(
        self, address: str, timeout: float
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await connect(address, timeout)


REAL_LINKS: LinkFactory = Links()
