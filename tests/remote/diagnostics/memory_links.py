"""In-memory links for the diagnostics: a terminal built from a profile in virtual time, its
stream devices reached through their byte sessions (no pty, no socket), and a stimulus that acts
on the devices directly. Each request advances simulated time a little, so a note being read
and stacked moves on while the diagnostic polls. (Helpers; imported by name.)"""

from __future__ import annotations

import asyncio
from typing import Any

import simpy

from devices.base import StreamDevice
from devices.catalog import default_catalog
from devices.profiles import load_profile
from devices.terminal import Terminal
from remote.diagnostics.base import PortUnreachable
from remote.diagnostics.links import ByteLink, LinkFactory, RegisterLink

STEP_S = 0.2
"""Simulated seconds that pass with every request a diagnostic sends."""
SCHEME = "mem:"


class MemoryLink:
    """A :class:`~remote.diagnostics.links.ByteLink` to one device's byte session."""

    def __init__(self, path: str, device: StreamDevice[Any], env: simpy.Environment) -> None:
        self.path = path
        self.device = device
        self.env = env
        self._buf = bytearray()
        self._arrived = asyncio.Event()

    async def __aenter__(self) -> MemoryLink:
        self.session = self.device.new_session()
        self.session.attach(self._pushed)
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def _pushed(self, data: bytes) -> None:
        self._buf += data
        self._arrived.set()

    def write(self, data: bytes) -> None:
        self._pushed(self.session.feed(data))
        self.env.run(until=self.env.now + STEP_S)

    def drain_input(self) -> bytes:
        data = bytes(self._buf)
        self._buf.clear()
        return data

    async def until(self, feed: Any, timeout: float) -> Any:
        from remote.diagnostics.links import _until

        async def chunk() -> bytes:
            while not self._buf:
                self._arrived.clear()
                await self._arrived.wait()
            return self.drain_input()

        return await _until(chunk, feed, timeout, f"no reply on {self.path}")


class MemoryLinks:
    """A :class:`~remote.diagnostics.links.LinkFactory` over a virtual-time terminal."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal

    def serial(self, path: str) -> ByteLink:
        device = self.terminal.devices.get(path.removeprefix(SCHEME))
        if not path.startswith(SCHEME) or not isinstance(device, StreamDevice):
            raise PortUnreachable(f"{path}: no such in-memory port")
        return MemoryLink(path, device, self.terminal.env)

    def tcp(self, address: str) -> ByteLink:
        return self.serial(address)

    def modbus(self, address: str, timeout: float) -> RegisterLink:
        raise PortUnreachable(f"{address}: no Modbus in memory")

    async def http_get(self, address: str, path: str, timeout: float) -> tuple[int, bytes]:
        raise PortUnreachable(f"{address}: no HTTP in memory")

    async def connect(
        self, address: str, timeout: float
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        raise PortUnreachable(f"{address}: no TCP streams in memory")


class DirectStimulus:
    """Physical stimuli performed on the devices themselves (a test card, a test note)."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal

    async def act(self, device: str, action: str, *args: str) -> str:
        return self.terminal.act(action, *args, device=device)


def memory_terminal(
    profile: str = "bill_payment", seed: int = 0
) -> tuple[Terminal, dict[str, Any]]:
    """A terminal in virtual time and its manifest of in-memory serial ports."""
    env = simpy.Environment()
    terminal = Terminal(env, "KSK-MEM", load_profile(profile), default_catalog(), seed=seed)
    devices = {
        name: {"serial": SCHEME + name}
        for name, device in terminal.devices.items()
        if isinstance(device, StreamDevice)
    }
    _: LinkFactory = MemoryLinks(terminal)  # the type checker holds the factory to the protocol
    return terminal, {"terminal": terminal.id, "devices": devices}
