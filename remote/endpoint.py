"""Where a terminal's agent listens, read from the endpoints manifest a running kiosk writes
(``STATE/ID/endpoints.json``), finding those manifests under a state directory, and whether an
agent answers there.

Kept apart from :mod:`remote.client` so that listing and probing a fleet does not import
asyncssh: the TUI's first frame and a state directory's listing need only these few lines.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ConfigError
from workbench.ids import check_terminal_id


def discover(state_dir: str | Path) -> list[Path]:
    """Every ``*/endpoints.json`` under a state directory, sorted by terminal id."""
    return sorted(Path(state_dir).glob("*/endpoints.json"))


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a terminal's agent listens; the terminal id is also the login name and host alias."""

    terminal: str
    host: str
    port: int

    @classmethod
    def from_manifest(cls, path: str | Path) -> Endpoint:
        """Read ``DIR/ID/endpoints.json`` (its ``"agent": "host:port"`` key)."""
        p = Path(path)
        try:
            manifest = json.loads(p.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{p}: no such file (is the kiosk running?)") from None
        except (OSError, ValueError, RecursionError) as exc:
            raise ConfigError(f"{p}: not an endpoints manifest: {exc}") from None
        agent = manifest.get("agent") if isinstance(manifest, dict) else None
        if not agent:
            raise ConfigError(f"{p}: no 'agent' address (was the kiosk started with --ca?)")
        host, _, port = str(agent).rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"{p}: agent(={agent!r}) must be host:port")
        terminal = str(manifest.get("terminal") or p.parent.name)
        try:
            check_terminal_id(terminal)
        except ConfigError as exc:
            raise ConfigError(f"{p}: {exc}") from None
        return cls(terminal, host, int(port))


PROBE_S = 2.0
"""How long a reachability probe waits for the agent's port to accept the connection."""
IDENT_S = 2.0
"""How long it then waits for the agent's SSH identification line before it says ``slow``."""


async def probe(
    host: str, port: int, timeout: float = PROBE_S, ident_s: float | None = None
) -> str:
    """Whether an agent answers on ``host:port``, cheaply: one TCP connection, one line read,
    nothing sent, held for at most ``timeout`` + ``ident_s`` (default :data:`IDENT_S`).

    - ``up``: it sent its SSH identification line within ``ident_s``;
    - ``slow``: it accepted the connection (the port is up) but its line did not come within
      ``ident_s``: an agent on an overloaded machine, not a terminal that is down;
    - ``down``: refused, unreachable or not accepted within ``timeout``, or what answered is not
      an SSH agent (it hung up without a line, or its line is not SSH).

    The probe never starts an SSH session: the agent audits it as a ``port_check`` (as sshd logs
    "Did not receive identification string"), and having read the line it closes with a FIN,
    not a reset."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return "down"
    banner: bytes | None
    try:
        banner = await asyncio.wait_for(reader.readline(), IDENT_S if ident_s is None else ident_s)
    except TimeoutError:
        banner = None  # accepted, no line yet
    except (OSError, ValueError):
        banner = b""
    finally:
        writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    if banner is None:
        return "slow"
    return "up" if banner.startswith(b"SSH-") else "down"
