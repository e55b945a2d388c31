"""A minimal asyncio HTTP/1.1 server for a device's JSON endpoints (health, sensors): GET only,
one request per connection, ``Content-Length`` always set, loopback and an ephemeral port by default.

Routes map a path to a function returning a JSON-able body. A route may return
:data:`HANG` to model an application that accepted the connection but never answers: the
connection is held, silent, until the client gives up or the port closes. A port can stop
and resume listening on the same port (:meth:`HttpPort.set_listening`), which clients see
as *connection refused*, the way a downed link or a stopped service looks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from workbench.errors import TransportError

log = logging.getLogger(__name__)

HANG: Any = object()
"""Returned by a route to leave the request unanswered."""

Route = Callable[[], Any]
MAX_HEAD = 8192
READ_TIMEOUT = 10.0
_REQUEST_LINE = re.compile(rb"^([A-Z]+) (/[^ ]*) HTTP/1\.[01]$")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
}


def render(status: int, body: Any, extra: Mapping[str, str] | None = None) -> bytes:
    """One complete HTTP/1.1 response with a JSON body and ``Connection: close``."""
    payload = (json.dumps(body, separators=(",", ":"), sort_keys=True) + "\n").encode()
    head = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in (extra or {}).items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + payload


def parse_head(head: bytes) -> tuple[str, str]:
    """``(method, path)`` of a request head (query string dropped); ValueError when malformed."""
    lines = head.split(b"\r\n")
    m = _REQUEST_LINE.match(lines[0])
    if m is None:
        raise ValueError("bad request line")
    for line in lines[1:]:
        if line and b":" not in line:
            raise ValueError("bad header line")
    path = m.group(2).decode("ascii", "replace").split("?", 1)[0]
    return m.group(1).decode("ascii"), path


class HttpPort:
    """Serve ``routes`` (path -> body function) as JSON over HTTP/1.1 on ``host:port``."""

    kind = "http"

    def __init__(
        self,
        routes: Mapping[str, Route],
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "http",
    ) -> None:
        self.routes = dict(routes)
        self.host = host
        self.port = port
        self.name = name
        self.listening = False
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._pending: asyncio.Task[None] | None = None

    @property
    def endpoint(self) -> str:
        """``host:port`` as clients should dial it."""
        return f"{self.host}:{self.port}"

    @property
    def open_connections(self) -> int:
        """Connections being served now (hung ones included)."""
        return len(self._tasks)

    def url(self, path: str = "/") -> str:
        """The full URL of a path on this port."""
        return f"http://{self.endpoint}{path}"

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind (the first time on ``port``, later on the port first bound) and accept."""
        try:
            self._server = await asyncio.start_server(
                self._serve, self.host, self.port, reuse_address=True, limit=MAX_HEAD
            )
        except OSError as exc:
            raise TransportError(
                f"{self.name}: cannot listen on {self.endpoint}: {exc.strerror}"
            ) from None
        self.port = self._server.sockets[0].getsockname()[1]
        self.listening = True
        log.info("%s serving HTTP on %s", self.name, self.endpoint)

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._writers):
                w.close()
            await self._server.wait_closed()
            self._server = None
        self.listening = False

    async def close(self) -> None:
        """Stop listening and drop open connections."""
        if self._pending is not None:
            await asyncio.gather(self._pending, return_exceptions=True)
        await self._stop_listening()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def set_listening(self, on: bool) -> None:
        """Stop accepting (clients get *connection refused*) or listen again on the same port."""
        if on and self._server is None:
            await self.start()
        elif not on and self._server is not None:
            await self._stop_listening()

    def request_listening(self, on: bool) -> None:
        """:meth:`set_listening` from synchronous code (a device model) on the running loop."""
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

    async def __aenter__(self) -> HttpPort:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- one request -------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            writer.write(await self._answer(reader))
            await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader) -> bytes:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
            method, path = parse_head(head[:-4])
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            return render(400, {"error": "bad request"})
        if method != "GET":
            return render(405, {"error": f"method {method} not allowed"}, {"Allow": "GET"})
        route = self.routes.get(path)
        if route is None:
            return render(404, {"error": f"no such path {path}", "paths": sorted(self.routes)})
        try:
            body = route()
        except Exception:
            log.exception("%s: route %s failed", self.name, path)
            return render(500, {"error": "internal error"})
        if body is HANG:
            await reader.read()  # silent until the client hangs up
            raise ConnectionError("client gave up")
        return render(200, body)
