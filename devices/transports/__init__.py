"""Transports that put a device on real ports: pseudo-terminals, raw TCP, and (per device) Modbus
TCP or HTTP. Every port has the same small lifecycle so a terminal can start and list them alike.

Importing the package loads no port: :mod:`devices.transports.control_client` (which a real
terminal's agent uses) must not drag in the pty and TCP servers, the wire-fault layer or the
device kernel behind them. ``PtyPort`` and ``TcpPort`` are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from devices.transports.pty import PtyPort
    from devices.transports.tcp import TcpPort
    from devices.transports.wire import Wire


class Port(Protocol):
    """A started port of a device: ``kind`` is the key in endpoints.json, ``endpoint`` its value."""

    kind: str
    """``serial`` (a pty path), ``tcp``, ``modbus`` or ``http`` (``host:port``)."""
    wire: Wire | None
    """The device's wire faults, which every byte to and from the port crosses."""

    @property
    def endpoint(self) -> str: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


_LAZY = {"PtyPort": "devices.transports.pty", "TcpPort": "devices.transports.tcp"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Port", "PtyPort", "TcpPort"]
