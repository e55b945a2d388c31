"""Helpers for tests that drive a running kiosk as its users do (imported by name: ``tests`` is
on the path through its ``conftest``): the ``workbench`` command line run in this process, and a
login to a kiosk's agent with a key and its certificate."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncssh

from workbench.cli import main


async def workbench_cli(*argv: str) -> int:
    """Run ``workbench ARGV`` through its entry point on a thread of its own, off the event loop
    the kiosks and agents run on: its exit code."""

    def call() -> int:
        try:
            main(list(argv))
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    return await asyncio.to_thread(call)


async def agent_login(
    state: Path, terminal: str, key: Path, cert: asyncssh.SSHCertificate
) -> asyncssh.SSHClientConnection:
    """Log in to ``terminal``'s agent (its address from its ``endpoints.json``) with ``key`` and
    ``cert``, as plain ``ssh`` would, with no known hosts, agent or ssh config of the machine's."""
    agent = json.loads((state / terminal / "endpoints.json").read_text())["agent"]
    host, _, port = agent.rpartition(":")
    return await asyncssh.connect(
        host,
        int(port),
        username=terminal,
        client_keys=[(asyncssh.read_private_key(str(key)), cert)],
        known_hosts=None,
        agent_path=None,
        config=None,
    )
