"""A serial port as a pseudo-terminal: kiosk software opens the slave path (``/dev/pts/N``)
exactly as it would open ``/dev/ttyS0``; the device reads and answers on the master side.

The slave is put in raw mode and kept open by us, so a client closing and reopening the
port never makes the master read fail with EIO. In live time the port brings the device up to
the clock before the session sees each chunk of bytes, and wakes the clock after.

Bytes read wait in a backlog that the session is fed from in slices, a turn at a time
(:mod:`devices.transports.pacing`); while a backlog waits the port stops reading the pty, so a
host flooding the line fills the pty's buffer and is held back there (its writes block) while the
kiosk's other ports keep answering.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tty
from collections.abc import Callable

from devices.base import ByteSession, Session
from devices.transports.pacing import Turn
from devices.transports.wire import Pipe, Wire
from workbench.clock import VIRTUAL, Timebase
from workbench.errors import TransportError

log = logging.getLogger(__name__)

OUT_LIMIT = 1 << 20
"""Bytes a port holds for a client that does not read (unsolicited touches, status pushes)."""


class PtyPort:
    """Serve one byte session on a fresh pseudo-terminal pair; ``path`` is what clients open."""

    kind = "serial"

    def __init__(
        self,
        session_factory: Callable[[], ByteSession],
        name: str = "pty",
        wire: Wire | None = None,
        clock: Timebase = VIRTUAL,
    ) -> None:
        self._factory = session_factory
        self.wire = wire
        self.clock = clock
        """Brings the model up to 'now' around each session's bytes (the device, or a clock)."""
        self.name = name
        self.path = ""
        self._master = -1
        self._slave = -1
        self._session: ByteSession | None = None
        self._out = bytearray()
        self._backlog = bytearray()
        """Bytes read from the host (through the wire) that the session has not been fed yet."""
        self._turn = Turn()
        self._reading = False
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def endpoint(self) -> str:
        """The slave path kiosk software opens."""
        return self.path

    async def start(self) -> None:
        """Create the pty and start answering on it."""
        try:
            self._master, self._slave = os.openpty()
        except OSError as exc:
            raise TransportError(
                f"{self.name}: cannot create a pseudo-terminal: {exc.strerror}"
            ) from None
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self._session = self._factory()
        # A pty cannot hang up on its client: a disconnect toxic leaves the line dead instead.
        self._up = Pipe(self.wire, "upstream", self._to_device, lambda: None)
        self._down = Pipe(self.wire, "downstream", self.write, lambda: None)
        if isinstance(self._session, Session):  # unsolicited bytes (touches, status back)
            self._session.attach(self._down.send)
        self._loop = asyncio.get_running_loop()
        self._read(True)
        log.info("%s listening on %s", self.name, self.path)

    def _readable(self) -> None:
        try:
            data = os.read(self._master, 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.warning("%s: read failed: %s", self.name, exc)
            return
        if data:
            self._up.send(data)

    def _read(self, on: bool) -> None:
        """Start or stop reading the host's bytes off the pty."""
        if self._loop is None or self._master < 0 or on == self._reading:
            return
        if on:
            self._loop.add_reader(self._master, self._readable)
        else:
            self._loop.remove_reader(self._master)
        self._reading = on

    def _to_device(self, data: bytes) -> None:
        if self._session is None:
            return
        busy = bool(self._backlog)
        self._backlog += data
        if not busy:
            self._work()

    def _work(self) -> None:
        """Feed the session from the backlog for one turn; if bytes remain, stop reading the pty
        and come back after the loop has run everything else that is ready."""
        session = self._session
        if session is None or self._master < 0:
            self._backlog.clear()
            return
        turn = self._turn
        while self._backlog and not turn.over():
            piece, n = turn.cut(self._backlog)
            del self._backlog[:n]
            with turn.feeding(n):
                self.clock.catch_up()
                try:
                    reply = session.feed(piece)
                finally:
                    self.clock.wake()
            if reply:
                self._down.send(reply)
        if turn.over():
            turn.passed()
        if self._backlog:
            self._read(False)
            assert self._loop is not None
            self._loop.call_soon(self._work)
        else:
            self._read(True)

    def write(self, data: bytes) -> None:
        """Send bytes to the client, buffering what the pty cannot take right now."""
        if self._master < 0:
            return
        if len(self._out) + len(data) > OUT_LIMIT:
            # Nobody reads the port: like a UART's overrun, what does not fit is lost.
            log.warning("%s: client not reading; %d bytes dropped", self.name, len(data))
            return
        pending = not self._out
        self._out += data
        if pending:
            self._flush()

    def _flush(self) -> None:
        assert self._loop is not None
        try:
            n = os.write(self._master, self._out)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError as exc:
            log.warning("%s: write failed: %s", self.name, exc)
            self._out.clear()
            return
        del self._out[:n]
        self._loop.remove_writer(self._master)
        if self._out:
            self._loop.add_writer(self._master, self._flush)

    async def close(self) -> None:
        """Stop answering and release both ends of the pty."""
        if self._loop is not None and self._master >= 0:
            self._read(False)
            self._loop.remove_writer(self._master)
        self._backlog.clear()
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1

    async def __aenter__(self) -> PtyPort:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
