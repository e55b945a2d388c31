"""Helpers for remote tests (imported by name; ``conftest`` is not importable reliably when
several test folders have one): the engineer's keys, agent configs, audit watching."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import asyncssh

from remote.agent import Agent, AgentConfig
from remote.client import Identity
from remote.window import CertificateAuthority, issue_host_identity

TERMINAL = "KSK-0001"


@dataclass
class Keys:
    ca: CertificateAuthority
    dir: Path
    key_path: Path
    pub: asyncssh.SSHKey

    def cert(
        self,
        terminals: list[str] | None = None,
        *,
        hours: float = 1.0,
        allow: tuple[str, ...] = ("diag", "remedy"),
        now: float | None = None,
        name: str = "cert",
    ) -> Path:
        """Sign the engineer key and write ``<name>-cert.pub``; returns the path."""
        grant = self.ca.grant(terminals or [TERMINAL], self.pub, hours=hours, allow=allow, now=now)
        path = self.dir / f"{name}-cert.pub"
        path.write_bytes(grant.certificate)
        return path

    def identity(self, cert: Path) -> Identity:
        return Identity.load(self.key_path, cert, self.ca.dir / "known_hosts")


def make_keys(state_dir: Path) -> Keys:
    """A fresh CA and an engineer key (alice@support) under ``state_dir``."""
    ca = CertificateAuthority.init(state_dir / "ca")
    key = asyncssh.generate_private_key("ssh-ed25519", comment="alice@support")
    key_path = state_dir / "alice"
    key.write_private_key(str(key_path))
    key_path.chmod(0o600)
    key.write_public_key(str(key_path) + ".pub")
    return Keys(ca, state_dir, key_path, key.convert_to_public())


def agent_config(keys: Keys, terminal: str = TERMINAL, **extra: object) -> AgentConfig:
    host_key, host_cert = issue_host_identity(keys.ca.dir, terminal, keys.dir / terminal / "ssh")
    return AgentConfig(
        terminal=terminal,
        user_ca=keys.ca.dir / "user_ca.pub",
        host_key=host_key,
        host_cert=host_cert,
        state_dir=keys.dir / terminal / "agent",
        fsync=True,
        **extra,
    )


def audit_events(agent: Agent) -> list[dict]:
    from remote.audit import read

    return read(agent.audit.path)


async def next_event(agent: Agent, event: str, timeout: float = 5.0, **match: object) -> dict:
    """Await the first audit record of ``event`` (already written, or the next one) matching ``match``."""
    import asyncio

    def fits(rec: dict) -> bool:
        return rec["event"] == event and all(rec.get(k) == v for k, v in match.items())

    for rec in audit_events(agent):
        if fits(rec):
            return rec
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[dict] = loop.create_future()

    def listener(rec: dict) -> None:
        if fits(rec) and not fut.done():
            fut.set_result(rec)

    agent.audit.listeners.append(listener)
    try:
        return await asyncio.wait_for(fut, timeout)
    finally:
        agent.audit.listeners.remove(listener)
