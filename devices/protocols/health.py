"""The documents a kiosk's local health endpoints serve (host PC sensors, the application's health,
the network agent's health) and the line protocol of the uplink echo port.

Simulators build these models and serve ``model_dump(mode="json")``; diagnostics parse the
bytes they read with the ``parse_*`` functions, which raise only
:class:`~workbench.errors.ProtocolError`. ``docs/registers.md`` shows an example of each.
"""

from __future__ import annotations

import json
from typing import Final, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from workbench.config import Strict
from workbench.errors import ProtocolError

SENSORS_FORMAT: Final = "kiosk-sensors/1"
APP_HEALTH_FORMAT: Final = "kiosk-app-health/1"
NETWORK_HEALTH_FORMAT: Final = "kiosk-network-health/1"


class HostSensors(Strict):
    """``GET /sensors`` of the host PC. ``None`` means the source cannot measure that value."""

    format: Literal["kiosk-sensors/1"] = SENSORS_FORMAT
    source: Literal["simulated", "psutil"]
    cpu_temp_c: float | None
    fan_rpm: int | None
    disk_smart_ok: bool | None
    disk_reallocated_sectors: int | None
    disk_free_pct: float | None
    memory_errors_corrected: int | None
    uptime_s: float
    clock_offset_s: float | None


ServiceState = Literal["running", "crashed", "stopped"]


class ServiceHealth(Strict):
    """One service of the kiosk application."""

    name: str
    state: ServiceState
    version: str
    restarts: int = 0


class AppHealth(Strict):
    """``GET /health`` of the kiosk application (times are simulated seconds since start)."""

    format: Literal["kiosk-app-health/1"] = APP_HEALTH_FORMAT
    app: str
    responsive: bool
    release: str
    """The release the terminal should run (its manifest)."""
    services: list[ServiceHealth]
    manifest: dict[str, str]
    """Expected version of each service in ``release``."""
    mismatched: list[str]
    """Services whose running version differs from the manifest."""
    uptime_s: float
    last_transaction_s: float | None
    seconds_since_transaction: float | None
    transactions: int


class DnsStatus(Strict):
    """Resolution of the service host by the terminal's resolver."""

    host: str
    status: Literal["ok", "fail"]
    address: str | None


class NetworkHealth(Strict):
    """``GET /health`` of the terminal's network agent."""

    format: Literal["kiosk-network-health/1"] = NETWORK_HEALTH_FORMAT
    interface: str
    link: Literal["up", "down"]
    dns: DnsStatus
    echo_port: int | None
    """The TCP echo port diagnostics probe (see :func:`ping_line`)."""


M = TypeVar("M", bound=BaseModel)


def _parse(data: bytes | str, model: type[M]) -> M:
    try:
        return model.model_validate(json.loads(data))
    except (ValueError, RecursionError) as exc:  # JSON and validation errors are ValueErrors
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "document"
            raise ProtocolError(f"{model.__name__}: {where}: {first['msg']}") from None
        raise ProtocolError(f"{model.__name__}: not JSON: {exc}") from None


def parse_sensors(data: bytes | str) -> HostSensors:
    """A ``/sensors`` document."""
    return _parse(data, HostSensors)


def parse_app_health(data: bytes | str) -> AppHealth:
    """An application ``/health`` document."""
    return _parse(data, AppHealth)


def parse_network_health(data: bytes | str) -> NetworkHealth:
    """A network agent ``/health`` document."""
    return _parse(data, NetworkHealth)


# -- the echo port: one command per line, ASCII, LF-terminated ------------------------------------

MAX_LINE = 256
MAX_BULK = 16 * 1024 * 1024


def ping_line(token: str) -> bytes:
    """A probe: ``PING <token>\\n``; the answer is ``PONG <token>\\n`` after the round trip."""
    if not token or not token.isascii() or not token.isalnum() or len(token) > 64:
        raise ProtocolError(f"ping token {token!r} must be 1-64 ASCII letters or digits")
    return f"PING {token}\n".encode()


def bulk_line(size: int) -> bytes:
    """A throughput probe: ``BULK <n>\\n``; the answer is ``n`` bytes of ``x`` at the link's rate."""
    if not 0 < size <= MAX_BULK:
        raise ProtocolError(f"bulk size {size} must be 1..{MAX_BULK}")
    return f"BULK {size}\n".encode()


def parse_pong(line: bytes) -> str:
    """The token of a ``PONG`` answer."""
    parts = line.rstrip(b"\n").split(b" ")
    if len(parts) != 2 or parts[0] != b"PONG" or not parts[1]:
        raise ProtocolError(f"not a PONG line: {line[:40]!r}")
    return parts[1].decode("ascii", "replace")


def parse_command(line: bytes) -> tuple[Literal["ping", "bulk"], str]:
    """What the device is asked on its echo port: ``("ping", token)`` or ``("bulk", "n")``."""
    if len(line) > MAX_LINE or not line.endswith(b"\n"):
        raise ProtocolError("echo command must be one LF-terminated line of at most 256 bytes")
    try:
        verb, arg = line[:-1].rstrip(b"\r").decode("ascii").split(" ")
    except (UnicodeDecodeError, ValueError):
        raise ProtocolError(f"bad echo command {line[:40]!r}") from None
    if verb == "PING":
        ping_line(arg)
        return "ping", arg
    if verb == "BULK" and arg.isdigit():
        bulk_line(int(arg))
        return "bulk", arg
    raise ProtocolError(f"unknown echo command {verb!r}")
