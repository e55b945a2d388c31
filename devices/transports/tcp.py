"""A raw TCP port (port-9100 style) that gives each connection its own byte session."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from devices.base import ByteSession
from devices.transports.wire import Pipe, Wire
from workbench.errors import TransportError

log = logging.getLogger(__name__)


class TcpPort:
    """Listen on ``host:port`` (loopback and an ephemeral port by default)."""

    kind = "tcp"

    def __init__(
        self,
        session_factory: Callable[[], ByteSession],
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "tcp",
        wire: Wire | None = None,
    ) -> None:
        self._factory = session_factory
        self.wire = wire
        self.host = host
        self.port = port
        self.name = name
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def endpoint(self) -> str:
        """``host:port`` as clients should dial it."""
        return self.address

    @property
    def address(self) -> str:
        """``host:port`` as clients should dial it."""
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        """Bind and start accepting connections."""
        try:
            self._server = await asyncio.start_server(self._serve, self.host, self.port)
        except OSError as exc:
            raise TransportError(
                f"{self.name}: cannot listen on {self.host}:{self.port}: {exc.strerror}"
            ) from None
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("%s listening on %s", self.name, self.address)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = self._factory()
        self._writers.add(writer)
        down = Pipe(self.wire, "downstream", writer.write, writer.close)

        def to_device(data: bytes) -> None:
            reply = session.feed(data)
            if reply:
                down.send(reply)

        up = Pipe(self.wire, "upstream", to_device, writer.close)
        try:
            while data := await reader.read(65536):
                up.send(data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def close(self) -> None:
        """Stop listening and drop open connections."""
        if self._server is not None:
            self._server.close()
            for w in list(self._writers):
                w.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> TcpPort:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
