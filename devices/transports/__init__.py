"""Transports that put a device on real ports: pseudo-terminals, raw TCP, and (per device) Modbus
TCP or HTTP. Every port has the same small lifecycle so a terminal can start and list them alike.
"""

from __future__ import annotations

from typing import Protocol

from devices.transports.pty import PtyPort
from devices.transports.tcp import TcpPort


class Port(Protocol):
    """A started port of a device: ``kind`` is the key in endpoints.json, ``endpoint`` its value."""

    kind: str
    """``serial`` (a pty path), ``tcp``, ``modbus`` or ``http`` (``host:port``)."""

    @property
    def endpoint(self) -> str: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


__all__ = ["Port", "PtyPort", "TcpPort"]
