"""One accepted TCP connection seen through a device's wire: what the port's handler reads has
come up the wire (``upstream`` toxics), what it writes goes down it (``downstream`` toxics), and
its hang-up waits for the bytes before it, or for ever while a stall holds the line.

It also bounds what a connection holds for a client that does not read, whatever the handler
does: ``drain()`` waits while more than :data:`HIGH_WATER` bytes are in flight on the wire, and
bytes written past :data:`OUT_LIMIT` (in the socket's buffer and on the wire) are dropped, as a
pty drops them at the same limit.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any

from devices.transports.wire import Pipe, Wire

log = logging.getLogger(__name__)

OUT_LIMIT = 1 << 20
"""Bytes a connection holds for a client that does not read; past it, writes are dropped."""
HIGH_WATER = 1 << 16
"""Bytes in flight on a toxic wire past which ``drain()`` waits (a throttled link pushes back)."""

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class WiredTransport(asyncio.Transport):
    """The handler's view of the socket: writes, end of stream and close go down the wire."""

    def __init__(self, real: asyncio.Transport, protocol: WiredProtocol) -> None:
        super().__init__()
        self._real = real
        self._protocol = protocol
        self._closing = False
        self.dropped = 0
        """Bytes refused because the client had :data:`OUT_LIMIT` unread."""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or self._real.is_closing():
            return
        if self._protocol.held + len(data) > OUT_LIMIT:
            if not self.dropped:
                log.warning("%s: client not reading; writes dropped", self._protocol.name)
            self.dropped += len(data)
            return
        self._protocol.down.send(bytes(data))
        self._protocol.flow()

    def can_write_eof(self) -> bool:
        return self._real.can_write_eof()

    def write_eof(self) -> None:
        self._protocol.down.after(self._real.write_eof)

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._protocol.down.after(self._real.close)

    def abort(self) -> None:
        self._closing = True
        self._real.abort()

    def is_closing(self) -> bool:
        return self._closing or self._real.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._real.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._real.pause_reading()

    def resume_reading(self) -> None:
        self._real.resume_reading()

    def is_reading(self) -> bool:
        return self._real.is_reading()

    def get_write_buffer_size(self) -> int:
        return self._protocol.held

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._real.set_write_buffer_limits(high, low)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._real.get_write_buffer_limits()


class WiredProtocol(asyncio.StreamReaderProtocol):
    """A stream protocol whose bytes, both ways, cross ``wire`` (None: a clean wire)."""

    def __init__(
        self,
        handler: Handler,
        wire: Wire | None,
        *,
        limit: int,
        name: str,
        loop: asyncio.AbstractEventLoop,
        on_lost: Callable[[WiredProtocol], None] = lambda _: None,
    ) -> None:
        self._stream = asyncio.StreamReader(limit=limit, loop=loop)
        super().__init__(self._stream, handler, loop=loop)
        self.wire = wire
        self.name = name
        self.real: asyncio.Transport | None = None
        self.up = Pipe(wire, "upstream", self._up_data, self._hang_up, reset=self._reset)
        self.down = Pipe(wire, "downstream", self._down_data, self._hang_up, reset=self._reset)
        self._on_lost = on_lost
        self._lost = False
        self._socket_paused = False
        self._drain_paused = False

    # -- the socket's side -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.real = transport
        super().connection_made(WiredTransport(transport, self))

    def data_received(self, data: bytes) -> None:
        self.up.send(data)

    def eof_received(self) -> bool:
        self.up.after(self._up_eof)
        return True  # keep the socket open for the replies

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True  # bytes still on the wire to or from this client are lost with it
        self._on_lost(self)
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        self._socket_paused = True
        self.flow()

    def resume_writing(self) -> None:
        self._socket_paused = False
        self.flow()

    # -- the wire's side ---------------------------------------------------------------------
    def _up_data(self, data: bytes) -> None:
        if not self._lost:
            super().data_received(data)

    def _up_eof(self) -> None:
        if not self._lost:
            super().eof_received()

    def _down_data(self, data: bytes) -> None:
        if self.real is not None and not self.real.is_closing():
            self.real.write(data)
        self.flow()

    def _hang_up(self) -> None:
        if self.real is not None:
            self.real.close()

    def _reset(self) -> None:
        if self.real is None:
            return
        sock = self.real.get_extra_info("socket")
        if sock is not None:  # linger 0: the close sends RST, not FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.real.abort()  # the client reads "connection reset by peer"

    @property
    def held(self) -> int:
        """Bytes written for the client and not yet taken by it (socket buffer and wire)."""
        socket = self.real.get_write_buffer_size() if self.real is not None else 0
        return socket + self.down.pending

    def flow(self) -> None:
        """Pause ``drain()`` while the socket or the wire holds too much; resume when neither."""
        paused = self._socket_paused or self.down.pending > HIGH_WATER
        if paused and not self._drain_paused:
            self._drain_paused = True
            super().pause_writing()
        elif not paused and self._drain_paused:
            self._drain_paused = False
            super().resume_writing()

    def drop(self, abort: bool) -> None:
        """Close the socket now, whatever is on the wire (the port is closing or going down)."""
        if self.real is not None:
            self.real.abort() if abort else self.real.close()
