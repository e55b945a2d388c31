"""A TCP listener that model code can switch off and on again on the same port (a link going
down, an application crashing): clients then get *connection refused*, as from a dead service.
It tracks its connections so that stopping and closing drop them. The HTTP and echo ports are
listeners with their own :meth:`Listener.handle`.

Every connection crosses the port's :class:`~devices.transports.wire.Wire` (when it has one) and
holds a bounded backlog for a client that does not read (:mod:`devices.transports.wired`). A port
that serves requests tells its :attr:`Listener.tap` (a wire-transcript recorder) each request
and reply, with the number of the connection it came on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextvars import ContextVar

from devices.transports.wire import Wire
from devices.transports.wired import WiredProtocol
from workbench.errors import TransportError

log = logging.getLogger(__name__)

Tap = Callable[[int, str, bytes], None]
"""Told ``(connection, direction, data)``: ``in`` a request, ``out`` a reply."""

_CONNECTION: ContextVar[int] = ContextVar("connection", default=0)
"""The number of the connection the current task serves (1 for a port's first)."""


class Listener:
    """Serve :meth:`handle` for each connection on ``host:port`` (loopback, ephemeral port)."""

    kind = "tcp"
    abort_on_stop = False
    """Drop connections without an orderly goodbye when listening stops (a link going down)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, name: str = "tcp", limit: int = 2**16
    ) -> None:
        self.host = host
        self.port = port
        self.name = name
        self.limit = limit
        self.listening = False
        self.wire: Wire | None = None
        """The device's wire faults, crossed by every connection (None: a clean wire)."""
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._connections: set[WiredProtocol] = set()
        self._pending: asyncio.Task[None] | None = None
        self._served = 0
        self.tap: Tap | None = None
        """Told each request and reply (:meth:`record`); None: nobody listens."""

    @property
    def endpoint(self) -> str:
        """``host:port`` as clients should dial it."""
        return f"{self.host}:{self.port}"

    @property
    def open_connections(self) -> int:
        """Connections being served now (hung ones included)."""
        return len(self._tasks)

    @property
    def backlog(self) -> int:
        """Bytes written to clients that they have not taken yet (at most 1 MiB a connection)."""
        return sum(c.held for c in self._connections)

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind (the first time on ``port``, later on the port first bound) and accept."""
        loop = asyncio.get_running_loop()

        def connection() -> WiredProtocol:
            protocol = WiredProtocol(
                self._serve,
                self.wire,
                limit=self.limit,
                name=self.name,
                loop=loop,
                on_lost=self._connections.discard,
            )
            self._connections.add(protocol)
            return protocol

        try:
            self._server = await loop.create_server(
                connection, self.host, self.port, reuse_address=True
            )
        except OSError as exc:
            raise TransportError(
                f"{self.name}: cannot listen on {self.endpoint}: {exc.strerror}"
            ) from None
        self.port = self._server.sockets[0].getsockname()[1]
        self.listening = True
        log.info("%s listening on %s", self.name, self.endpoint)

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            for connection in list(self._connections):
                connection.drop(abort=self.abort_on_stop)
            await self._server.wait_closed()
            self._server = None
        self.listening = False

    async def set_listening(self, on: bool) -> None:
        """Stop accepting (clients get *connection refused*) or listen again on the same port."""
        if on and self._server is None:
            await self.start()
        elif not on and self._server is not None:
            await self._stop_listening()

    def request_listening(self, on: bool) -> None:
        """:meth:`set_listening` from synchronous code (a device model) on the running loop;
        requests are applied in order."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        previous = self._pending

        async def run() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            await self.set_listening(on)

        self._pending = loop.create_task(run())

    async def settled(self) -> None:
        """Wait until the port follows the latest :meth:`request_listening`."""
        if self._pending is not None:
            await asyncio.gather(self._pending, return_exceptions=True)

    async def close(self) -> None:
        """Stop listening and drop open connections."""
        await self.settled()
        await self._stop_listening()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> Listener:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- connections -----------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._served += 1
        _CONNECTION.set(self._served)
        try:
            await self.handle(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one connection (subclasses)."""
        raise NotImplementedError

    def record(self, direction: str, data: bytes) -> None:
        """Tell the :attr:`tap` a request (``in``) or reply (``out``) of this connection."""
        if self.tap is not None and data:
            self.tap(_CONNECTION.get(), direction, data)
