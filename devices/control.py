"""The control plane of a running simulated kiosk: a Unix socket (mode 0600, in a 0700
directory, peer uid checked) speaking one JSON object per line, for trainers and tests.

Requests: ``{"op": "status"}``, ``{"op": "fault.list"}``, ``{"op": "fault.inject", "id": ...}``,
``{"op": "fault.clear", "id": ...}``, ``{"op": "act", "action": ..., "args": [...], "device": ...}``,
``{"op": "wire.add", "device": ..., "type": "latency", "attributes": {...}}``, ``wire.list``,
``wire.remove``, ``{"op": "receipts"}``; a plug-in adds its own ops to :attr:`ControlServer.ops`
(the scenarios add ``scenario.start|status|stop``). The client side is
:mod:`devices.transports.control_client` (re-exported here as ``request``/``request_async``). Replies: ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devices.terminal import Terminal
from devices.transports.control_client import answers, request, request_async
from workbench.errors import DeviceError, WorkbenchError

log = logging.getLogger(__name__)


def _peer_uid(sock: socket.socket) -> int | None:
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (OSError, AttributeError):
        return None
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


BASE_OPS = (
    "status",
    "fault.list",
    "fault.inject",
    "fault.clear",
    "act",
    "wire.list",
    "wire.add",
    "wire.remove",
    "receipts",
)

Op = Callable[[dict[str, Any]], Any]
"""A plug-in's op: the request in, a JSON-able result out (a :class:`WorkbenchError` is the
one-line error the client sees)."""


class ControlServer:
    """Serve one terminal's control plane on ``path``."""

    def __init__(self, terminal: Terminal, path: Path) -> None:
        self.terminal = terminal
        self.path = path
        self.ops: dict[str, Op] = {}
        """Ops added by plug-ins, by name (they cannot replace the base ops)."""
        self.changed: list[Callable[[dict[str, Any]], None]] = []
        """Told each ``fault.inject``, ``fault.clear`` and ``act`` request done (a scenario
        playing here writes a trainer's injection by hand to its log)."""
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        """Bind the socket, owner-only."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        if self.path.exists():
            if answers(self.path):
                raise DeviceError(
                    f"terminal {self.terminal.id} is already running: {self.path} answers; "
                    "stop it first or use another --id or --state-dir"
                )
            self.path.unlink()  # left behind by a kiosk that was killed
        old = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)

    async def close(self) -> None:
        """Stop serving and remove the socket file."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.path.unlink(missing_ok=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        uid = None if sock is None else _peer_uid(sock)
        if uid != os.getuid():  # unknown or another user: deny by default
            log.warning("%s: control client refused (peer uid %s)", self.terminal.id, uid)
            writer.close()
            return
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:  # longer than the stream's limit: answer, then hang up
                    reply = {"ok": False, "error": "bad request: line too long"}
                    writer.write(json.dumps(reply).encode() + b"\n")
                    await writer.drain()
                    break
                if not line:
                    break
                reply = self.handle(line)
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def handle(self, line: bytes) -> dict[str, Any]:
        """Answer one request line."""
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("op"), str):
                raise ValueError("a request is a JSON object with an 'op'")
        except ValueError as exc:
            return {"ok": False, "error": f"bad request: {exc}"}
        except RecursionError:  # json's decoder recurses once per level of nesting
            return {"ok": False, "error": "bad request: nested too deeply"}
        try:
            return {"ok": True, "result": self._dispatch(request)}
        except WorkbenchError as exc:
            return {"ok": False, "error": str(exc)}
        except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as exc:
            return {"ok": False, "error": f"bad request for {request['op']!r}: {exc}"}

    def request(self, req: dict[str, Any]) -> Any:
        """Do one request in this process, as over the socket (listeners are told), for an agent
        beside the kiosk (its event loop is the kiosk's: the socket would deadlock); a
        :class:`WorkbenchError` is raised, not answered."""
        return self._dispatch(req)

    def _change(self, req: dict[str, Any]) -> dict[str, Any]:
        t, op = self.terminal, req["op"]
        if op == "fault.inject":
            t.inject(str(req["id"]))
            return {"active": t.active_faults()}
        if op == "fault.clear":
            t.clear(str(req["id"]))
            return {"active": t.active_faults()}
        args = [str(a) for a in req.get("args", [])]
        return {"message": t.act(str(req["action"]), *args, device=req.get("device"))}

    def _dispatch(self, req: dict[str, Any]) -> Any:
        t = self.terminal
        op = req["op"]
        if op == "status":
            return t.status() | {"active_faults": t.active_faults()}
        if op == "fault.list":
            return t.faults()
        if op in ("fault.inject", "fault.clear", "act"):
            result = self._change(req)
            for told in self.changed:
                told(req | result)
            return result
        if op == "wire.list":
            return t.toxics()
        if op == "wire.add":
            options = {k: req[k] for k in ("name", "stream", "toxicity", "attributes") if k in req}
            if "name" in options:
                options["name"] = str(options["name"])  # names are strings, as wire.remove sends
            return t.add_toxic(str(req["device"]), str(req["type"]), **options).as_dict()
        if op == "wire.remove":
            name = req.get("name")
            t.remove_toxic(str(req["device"]), None if name is None else str(name))
            return t.toxics()
        if op == "receipts":
            printer = t.devices.get("printer")
            return list(getattr(printer, "receipts", []))
        if op in self.ops:
            return self.ops[op](req)
        raise KeyError(f"unknown op; ops: {', '.join([*BASE_OPS, *self.ops])} (got {op!r})")


__all__ = ["ControlServer", "request", "request_async"]
