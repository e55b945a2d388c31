"""A minimal asyncio HTTP/1.1 server for a device's JSON endpoints (health, sensors): GET only,
one request per connection, ``Content-Length`` always set, loopback and an ephemeral port by default.

Routes map a path to a function returning a JSON-able body; in live time the device is brought
up to the clock before each route runs. A route may return
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

from devices.transports.listener import Listener
from workbench.clock import VIRTUAL, Timebase

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


class HttpPort(Listener):
    """Serve ``routes`` (path -> body function) as JSON over HTTP/1.1 on ``host:port``."""

    kind = "http"

    def __init__(
        self,
        routes: Mapping[str, Route],
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "http",
        clock: Timebase = VIRTUAL,
    ) -> None:
        super().__init__(host, port, name, limit=MAX_HEAD)
        self.routes = dict(routes)
        self.clock = clock
        """Brings the model up to 'now' around each route call (the device, or a clock)."""

    def url(self, path: str = "/") -> str:
        """The full URL of a path on this port."""
        return f"http://{self.endpoint}{path}"

    async def __aenter__(self) -> HttpPort:
        await self.start()
        return self

    # -- one request -------------------------------------------------------------------------
    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        response = await self._answer(reader)
        self.record("out", response)
        writer.write(response)
        await writer.drain()

    async def _answer(self, reader: asyncio.StreamReader) -> bytes:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
        except asyncio.IncompleteReadError as exc:
            self.record("in", exc.partial)
            return render(400, {"error": "bad request"})
        except (asyncio.LimitOverrunError, TimeoutError):
            return render(400, {"error": "bad request"})
        self.record("in", head)
        try:
            method, path = parse_head(head[:-4])
        except ValueError:
            return render(400, {"error": "bad request"})
        if method != "GET":
            return render(405, {"error": f"method {method} not allowed"}, {"Allow": "GET"})
        route = self.routes.get(path)
        if route is None:
            return render(404, {"error": f"no such path {path}", "paths": sorted(self.routes)})
        self.clock.catch_up()
        try:
            body = route()
        except Exception:
            log.exception("%s: route %s failed", self.name, path)
            return render(500, {"error": "internal error"})
        finally:
            self.clock.wake()
        if body is HANG:
            await reader.read()  # silent until the client hangs up
            raise ConnectionError("client gave up")
        return render(200, body)
