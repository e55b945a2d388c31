"""The adapter that serves a simulated kiosk through the remote agent. ``remote`` knows no
simulator and ``devices`` no agent; this module, in ``scenarios`` (which may import both), joins
them, importing both lazily, for ``kiosk up --ca``, the demo and tests:

    async with KioskHost(state, profile, ids, extras=[kiosk_extra(ca_dir)]) as host: ...

Each simulated terminal gets a host certificate and an agent whose backend is the terminal's
manifest, with the terminal's control plane as the trainer (fault list/inject/clear for trainer grants).
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


class ControlTrainer:
    """A simulated terminal's fault operations through its control plane, in this process, so
    that an injection over SSH is told to whoever listens there as one by hand is (a scenario
    playing on the kiosk writes it to its log, naming the window's engineer)."""

    def __init__(self, kiosk: KioskHost, terminal: Terminal) -> None:
        self.kiosk = kiosk
        self.terminal = terminal

    def _change(self, op: str, fault_id: str, by: str | None) -> None:
        control = self.kiosk.controls.get(str(self.terminal.id))
        if control is None:  # no control plane (yet): the terminal itself
            (self.terminal.inject if op == "fault.inject" else self.terminal.clear)(fault_id)
            return
        control.request({"op": op, "id": fault_id, **({"by": by} if by else {})})

    def faults(self) -> list[dict[str, Any]]:
        return self.terminal.faults()

    def inject(self, fault_id: str, by: str | None = None) -> None:
        self._change("fault.inject", fault_id, by)

    def clear(self, fault_id: str, by: str | None = None) -> None:
        self._change("fault.clear", fault_id, by)

    def active_faults(self) -> list[str]:
        return self.terminal.active_faults()


def kiosk_backend(kiosk: KioskHost, terminal: Terminal) -> TerminalBackend:
    """The backend of a simulated terminal: its manifest (read when first needed: it is completed
    after the agent starts) and its control plane as the trainer."""
    from remote.terminal_backend import TerminalBackend

    tid = str(terminal.id)
    trainer = ControlTrainer(kiosk, terminal)
    return TerminalBackend(lambda: kiosk.endpoints[tid], trainer=trainer, simulated=True)


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
