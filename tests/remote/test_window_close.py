"""The remote window is the certificate's validity: at valid_before the agent ends the session,
even mid-command, after a last JSON line saying so."""

from __future__ import annotations

import asyncio
import time

import pytest
from remote_testkit import Keys, next_event

from remote.agent import Agent
from remote.audit import verify
from remote.client import AgentClient, Endpoint
from remote.window import read_certificate_info


@pytest.mark.timeout(15)
async def test_session_running_at_valid_before_is_cut_within_one_second(
    agent: Agent, endpoint: Endpoint, keys: Keys
) -> None:
    cert = keys.cert(hours=3 / 3600)  # a 3-second window, opened now (whole seconds)
    valid_before = read_certificate_info(cert).valid_before
    # the baseline: a bare timer on the same event loop, due at valid_before too; how late it
    # runs is how late this loaded process runs anything, the agent's close included
    loop = asyncio.get_running_loop()
    bare: asyncio.Future[float] = loop.create_future()
    loop.call_at(loop.time() + valid_before - time.time(), lambda: bare.set_result(time.time()))
    lines = []
    async with AgentClient(endpoint, keys.identity(cert)) as client:
        async for line in client.stream("diag run slow"):  # would take 30 s
            lines.append(line)
        ended = time.time()
        exit_status = client.exit_status
    assert lines[0] == {"event": "result", "test": "slow", "status": "pass", "progress": "started"}
    assert lines[-1]["event"] == "window_closed" and lines[-1]["valid_before"] == valid_before
    assert exit_status is None  # cut off, not a normal exit
    late = max(0.0, await bare - valid_before)
    assert valid_before - 0.05 <= ended <= valid_before + late + 1.0, (ended - valid_before, late)
    closed = await next_event(agent, "window_closed")
    assert closed["valid_before"] == valid_before and len(closed["sessions"]) == 1
    result = await next_event(agent, "result", command="diag run slow")
    assert result["exit_status"] == -1 and result["error"] == "cut off: window closed"
    await next_event(agent, "disconnect", reason="window closed")
    assert verify(agent.audit.path).ok


@pytest.mark.timeout(15)
async def test_an_idle_connection_is_also_closed_and_cannot_be_reused(
    agent: Agent, endpoint: Endpoint, keys: Keys
) -> None:
    cert = keys.cert(hours=2 / 3600)
    async with AgentClient(endpoint, keys.identity(cert)) as client:
        _, status = await client.run("status")
        assert status == 0
        conn = client._conn
        assert conn is not None
        await conn.wait_closed()  # the agent drops it at valid_before
        assert time.time() >= read_certificate_info(cert).valid_before - 0.05
    await next_event(agent, "window_closed")
