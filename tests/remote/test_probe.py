"""The reachability probe against real TCP servers on loopback: an agent that sends its SSH
identification at once is ``up``; one that accepts the connection but sends its line late (an
overloaded machine) is ``slow``, never ``down``; only a refused port, or something that is not an
SSH agent, is ``down``. The probe sends nothing and holds one connection for at most its waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from remote.endpoint import probe

pytestmark = pytest.mark.timeout(20)
IDENT = b"SSH-2.0-AsyncSSH_2.24.1\r\n"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def server(handler: Handler) -> AsyncIterator[int]:
    """A TCP server on 127.0.0.1 (listening before this yields: the probe can connect at once)."""
    srv = await asyncio.start_server(handler, "127.0.0.1", 0)
    async with srv:
        yield srv.sockets[0].getsockname()[1]


async def test_an_agent_that_sends_its_identification_late_is_slow_not_down() -> None:
    accepted, release = asyncio.Event(), asyncio.Event()

    async def overloaded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        await release.wait()  # its line comes after the probe has stopped waiting
        writer.write(IDENT)
        writer.close()

    async with server(overloaded) as port:
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await probe("127.0.0.1", port, ident_s=0.3) == "slow"
        assert accepted.is_set() and loop.time() - started >= 0.3  # it waited for the line
        release.set()
        assert await probe("127.0.0.1", port, ident_s=5.0) == "up"  # once it answers in time


async def test_an_identification_late_but_within_the_wait_is_up() -> None:
    async def busy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.2)  # the agent's own delay (a busy machine), not a wait for it
        writer.write(IDENT)
        writer.close()

    async with server(busy) as port:
        assert await probe("127.0.0.1", port, ident_s=5.0) == "up"


async def test_refused_closed_at_once_and_not_ssh_are_down() -> None:
    async def hangs_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()  # accepted, then closed with no line: no agent behind it

    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\n")
        writer.close()

    async with server(hangs_up) as port:
        assert await probe("127.0.0.1", port, ident_s=5.0) == "down"
    assert await probe("127.0.0.1", port) == "down"  # closed now: refused at once
    async with server(http) as port:
        assert await probe("127.0.0.1", port, ident_s=5.0) == "down"
