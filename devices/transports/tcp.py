"""A raw TCP port (port-9100 style) that gives each connection its own byte session, through the
device's wire-fault layer; in live time the device is brought up to the clock around each chunk.

A connection's bytes are fed to its session in slices and its handler gives the event loop up
after each turn (:mod:`devices.transports.pacing`); meanwhile the bytes it has not taken wait in
its ``StreamReader``, which stops reading the socket past twice the port's limit, so a client
flooding the port is pushed back by TCP and the kiosk's other ports keep answering."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from devices.base import ByteSession
from devices.transports.listener import Listener
from devices.transports.pacing import Turn
from devices.transports.wire import Wire
from workbench.clock import VIRTUAL, Timebase


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
        clock: Timebase = VIRTUAL,
    ) -> None:
        super().__init__(host, port, name)
        self._factory = session_factory
        self.wire = wire
        self.clock = clock

    async def __aenter__(self) -> TcpPort:
        await self.start()
        return self

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = self._factory()
        turn = Turn()
        while data := await reader.read(65536):
            view = memoryview(data)
            while view:
                piece, n = turn.cut(view)
                view = view[n:]
                with turn.feeding(n):
                    self.clock.catch_up()
                    try:
                        reply = session.feed(piece)
                    finally:
                        self.clock.wake()
                if reply:
                    writer.write(reply)
                    await writer.drain()
                await turn.pass_if_over()
