"""The client side of a simulated kiosk's control plane: one JSON request line to its Unix
socket, one reply line back (``{"ok": true, "result": ...}`` or ``{"ok": false, "error": ...}``).

Used by the CLI, by the remote diagnostics (physical stimuli, trainer faults) and by the agent's
backend; it lives with the transports so that ``remote`` can use it without the simulators.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from pathlib import Path
from typing import Any

from workbench.errors import DeviceError, TransportError


def answers(path: str | Path) -> bool:
    """Whether a live kiosk is serving this control socket (a connect, nothing sent)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def server_pid(path: str | Path) -> int | None:
    """The id of the process serving this control socket (its ``SO_PEERCRED``), or None when
    nothing answers there: who to signal to stop a kiosk, never a stale pid file's guess."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(path))
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        except OSError:
            return None
    pid, _uid, _gid = struct.unpack("3i", creds)
    return int(pid)


def _unreachable(path: str | Path, exc: OSError) -> TransportError:
    why = exc.strerror or str(exc) or type(exc).__name__
    return TransportError(f"{path}: kiosk control socket not reachable ({why}); is the kiosk up?")


def _result(path: str | Path, line: bytes) -> Any:
    if not line:
        raise TransportError(f"{path}: the kiosk closed the control connection without answering")
    reply = json.loads(line)
    if not reply.get("ok"):
        raise DeviceError(str(reply.get("error", "unknown control-plane error")))
    return reply["result"]


async def request_async(path: str | Path, op: str, *, timeout: float = 10.0, **fields: Any) -> Any:
    """Send one request from asyncio code; returns the result or raises the error it names."""
    try:
        reader, writer = await asyncio.open_unix_connection(str(path))
    except OSError as exc:
        raise _unreachable(path, exc) from None
    try:
        writer.write(json.dumps({"op": op, **fields}).encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
    except TimeoutError:
        raise TransportError(f"{path}: no answer to {op!r} within {timeout:g} s") from None
    except OSError as exc:  # reset: the kiosk refused this client (another user) or went down
        why = exc.strerror or type(exc).__name__
        raise TransportError(f"{path}: the kiosk closed the control connection ({why})") from None
    finally:
        writer.close()
    return _result(path, line)


def request(path: str | Path, op: str, *, timeout: float = 10.0, **fields: Any) -> Any:
    """Send one request from blocking code (the CLI; an agent serving a kiosk in another process)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(json.dumps({"op": op, **fields}).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError as exc:
        raise _unreachable(path, exc) from None
    return _result(path, data)
