"""The adapter that serves a simulated kiosk through the remote agent. ``remote`` knows no
simulator and ``devices`` no agent; this module, in ``scenarios`` (which may import both), joins
them, importing both lazily, for ``kiosk up --ca``, the demo and tests:

    async with KioskHost(state, profile, ids, extras=[kiosk_extra(ca_dir)]) as host: ...

Each simulated terminal gets a host certificate and an agent whose backend is the terminal's
manifest, with the terminal itself as the trainer (fault list/inject/clear for trainer grants).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devices.kiosk import KioskHost
    from devices.terminal import Terminal
    from remote.backend import Backend
    from remote.terminal_backend import TerminalBackend

BackendFactory = Callable[["KioskHost", "Terminal"], "Backend"]
"""Builds a simulated terminal's backend from its kiosk host and the terminal."""
Extra = Callable[
    ["KioskHost", "Terminal", dict[str, Any]], Awaitable[Callable[[], Awaitable[None]]]
]


def kiosk_backend(kiosk: KioskHost, terminal: Terminal) -> TerminalBackend:
    """The backend of a simulated terminal: its manifest (read when first needed: it is completed
    after the agent starts) and the terminal as the trainer."""
    from remote.terminal_backend import TerminalBackend

    tid = str(terminal.id)
    return TerminalBackend(lambda: kiosk.endpoints[tid], trainer=terminal, simulated=True)


def kiosk_extra(
    ca_dir: str | Path,
    backend_factory: BackendFactory = kiosk_backend,
    *,
    host: str = "127.0.0.1",
    class_id: str | None = None,
) -> Extra:
    """A ``KioskHost`` extra: give each simulated terminal a host certificate and an agent.

    The agent's address goes into the endpoints manifest as ``"agent": "host:port"``; its audit
    log and transcripts go under ``STATE/ID/agent/``. Returns the agent's closer to the host.
    ``class_id``: the class the agents serve (they admit only certificates naming it).
    """
    from remote.agent import Agent, AgentConfig
    from remote.window import issue_host_identity

    async def extra(
        kiosk: KioskHost, terminal: Terminal, manifest: dict[str, Any]
    ) -> Callable[[], Awaitable[None]]:
        tid = str(manifest["terminal"])
        base = Path(kiosk.state_dir) / tid
        key, cert = issue_host_identity(ca_dir, tid, base / "ssh")
        config = AgentConfig(
            terminal=tid,
            user_ca=Path(ca_dir) / "user_ca.pub",
            host_key=key,
            host_cert=cert,
            state_dir=base / "agent",
            host=host,
            class_id=class_id,
        )
        agent = Agent(config, backend_factory(kiosk, terminal))
        await agent.start()
        manifest["agent"] = agent.address
        return agent.close

    return extra
