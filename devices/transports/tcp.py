"""A raw TCP port (port-9100 style) that gives each connection its own byte session, through the
device's wire-fault layer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from devices.base import ByteSession
from devices.transports.listener import Listener
from devices.transports.wire import Wire


class TcpPort(Listener):
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
        super().__init__(host, port, name)
        self._factory = session_factory
        self.wire = wire

    async def __aenter__(self) -> TcpPort:
        await self.start()
        return self

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = self._factory()
        while data := await reader.read(65536):
            reply = session.feed(data)
            if reply:
                writer.write(reply)
                await writer.drain()
