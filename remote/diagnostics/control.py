"""A client of a simulated kiosk's control plane (the JSON-lines Unix socket named ``control`` in
its endpoints manifest): trainer fault operations, and the physical stimuli and actions a real
terminal's people or host hardware would perform (a touch, a test card, a relay power cycle).

The wire side is :mod:`devices.transports.control_client`; ``remote`` never imports the
simulators.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from devices.transports.control_client import request_async
from remote.diagnostics.base import TestError
from workbench.errors import TransportError

log = logging.getLogger(__name__)


class ControlClient:
    """One request per connection to ``path``; also a :class:`~remote.diagnostics.base.Stimulus`."""

    def __init__(self, path: str | Path, timeout: float = 5.0) -> None:
        self.path = str(path)
        self.timeout = timeout

    async def request(self, op: str, **fields: Any) -> Any:
        """Send one request; returns its result or raises the error the kiosk names."""
        return await request_async(self.path, op, timeout=self.timeout, **fields)

    async def act(self, device: str, action: str, *args: str) -> str:
        """Perform a stimulus or a physical action on one device; returns its message.

        A control plane that cannot be reached raises :class:`TestError`: the test could not
        be carried out, which says nothing about the device."""
        try:
            result = await self.request("act", action=action, args=list(args), device=device)
        except TransportError as exc:
            raise TestError(f"{action} on the {device}: {exc}") from None
        return str(result.get("message", "")) if isinstance(result, dict) else str(result)

    async def status(self) -> dict[str, Any]:
        """The kiosk's own view of itself (devices and active faults)."""
        result: dict[str, Any] = await self.request("status")
        return result
