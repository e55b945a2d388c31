"""Fixtures for remote tests: a CA, an engineer key, certificates on demand and a running agent
on 127.0.0.1 port 0 with the in-memory backend. Helpers live in ``remote_testkit``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from remote_testkit import TERMINAL, Keys, agent_config, make_keys
from static_backend import StaticBackend

from remote.agent import Agent
from remote.client import Endpoint


@pytest.fixture
def keys(state_dir: Path) -> Keys:
    return make_keys(state_dir)


@pytest.fixture
async def agent(keys: Keys) -> AsyncIterator[Agent]:
    async with Agent(agent_config(keys), StaticBackend(slow_s=30.0)) as running:
        yield running


@pytest.fixture
def endpoint(agent: Agent) -> Endpoint:
    return Endpoint(TERMINAL, "127.0.0.1", agent.port)
