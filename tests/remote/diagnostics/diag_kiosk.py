"""A running simulated bill-payment kiosk for the diagnostics tests (helpers; the fixture is in conftest.py).

The profile is ``bill_payment`` with a quicker note mechanism in the validator (read, reject and
reset in a fifth of a second), so the validator test's two dozen test notes cost little wall
time; everything else, reject rates included, is the shipped profile.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devices.kiosk import KioskHost
from devices.profiles import PROFILE_DIR
from remote.diagnostics.control import ControlClient

TERMINAL = "KSK-0042"
SPEED = 50.0
FAST_NOTES = {"read_s": 0.1, "credit_s": 0.05, "stack_s": 0.1, "reject_s": 0.1, "reset_s": 0.2}


def fast_profile(directory: Path) -> Path:
    """bill_payment with the fast note mechanism, written under ``directory``."""
    data: dict[str, Any] = yaml.safe_load((PROFILE_DIR / "bill_payment.yaml").read_text())
    data["name"] = "bill_payment_fast_notes"
    data["devices"]["bill_validator"] = {**data["devices"]["bill_validator"], **FAST_NOTES}
    path = directory / "bill_payment_fast_notes.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@dataclass
class Kiosk:
    host: KioskHost
    endpoints: dict[str, Any]
    control: ControlClient

    @property
    def terminal(self) -> Any:
        return self.host.terminals[TERMINAL]

    def devices(self) -> set[str]:
        return set(self.endpoints["devices"])


async def running_kiosk(profile: str | Path | None = None) -> AsyncIterator[Kiosk]:
    with tempfile.TemporaryDirectory(prefix="wb-", dir="/tmp") as d:
        path = profile or fast_profile(Path(d))
        async with KioskHost(Path(d) / "state", path, [TERMINAL], speed=SPEED) as host:
            endpoints = host.endpoints[TERMINAL]
            yield Kiosk(host, endpoints, ControlClient(endpoints["control"]))


@asynccontextmanager
async def fault(kiosk: Kiosk, fault_id: str) -> AsyncIterator[None]:
    """The fault ``fault_id`` injected for the body, cleared after it whatever happens."""
    await kiosk.control.request("fault.inject", id=fault_id)
    try:
        yield
    finally:
        await kiosk.control.request("fault.clear", id=fault_id)


@asynccontextmanager
async def busy(kiosk: Kiosk, device: str, latency_ms: int) -> AsyncIterator[None]:
    """Every byte the device sends comes ``latency_ms`` late for the body (a latency toxic named
    ``busy`` on its wire), removed after it whatever happens."""
    kiosk.terminal.add_toxic(device, "latency", name="busy", attributes={"latency": latency_ms})
    try:
        yield
    finally:
        kiosk.terminal.remove_toxic(device, "busy")
