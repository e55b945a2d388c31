"""The fleet against real SSH agents on loopback, through the live backend, as an engineer starts
it with a window certificate: the fleet is loaded once (each agent probed once, its status read
once), and an agent that stops shows ``down`` and, started again on its port, ``up`` with no key
pressed (a down row is probed again on its own, less often each time)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fleet_helpers import row, until

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "remote"))
from remote_testkit import Keys, agent_config, make_keys
from static_backend import StaticBackend

from remote.agent import Agent
from tui.app import WorkbenchApp
from tui.backend import TerminalRow
from tui.live import LiveBackend
from tui.screens import fleet_follow

pytestmark = pytest.mark.timeout(45)
SIZE = (130, 20)
FIRST, CAP = 0.05, 0.2


class Counted(LiveBackend):
    """The live backend, counting what the fleet asks of it: fleet loads (the records store and
    the state directory read), probes and status reads (connections to each agent)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loads = 0
        self.probes: dict[str, int] = {}
        self.reads: dict[str, int] = {}

    def terminals(self) -> list[TerminalRow]:
        self.loads += 1
        return super().terminals()

    async def probe(self, terminal: str) -> str:
        self.probes[terminal] = self.probes.get(terminal, 0) + 1
        return await super().probe(terminal)

    async def status(self, terminal: str) -> dict[str, Any]:
        self.reads[terminal] = self.reads.get(terminal, 0) + 1
        return await super().status(terminal)


def manifest(state_dir: Path, agent: Agent) -> None:
    """The endpoints manifest a kiosk writes for its agent."""
    terminal = agent.config.terminal
    doc = {"terminal": terminal, "profile": "bill_payment", "agent": agent.address}
    (state_dir / terminal / "endpoints.json").write_text(json.dumps(doc))


def started_with_certificate(keys: Keys, terminals: Sequence[str]) -> Counted:
    """``workbench tui --ca CA --key alice --cert alice-cert.pub``: the certificate is read once
    the app is up (after its first frame)."""
    cert = keys.cert(list(terminals), name="alice")
    return Counted(keys.dir, ca=keys.ca.dir, key=keys.key_path, cert=cert)


@pytest.fixture
def keys(state_dir: Path) -> Keys:
    return make_keys(state_dir)


async def test_started_with_a_certificate_the_fleet_is_loaded_once(keys: Keys) -> None:
    terminals = ["KSK-0001", "KSK-0002"]
    async with (
        Agent(agent_config(keys, terminals[0]), StaticBackend()) as one,
        Agent(agent_config(keys, terminals[1]), StaticBackend()) as two,
    ):
        manifest(keys.dir, one)
        manifest(keys.dir, two)
        backend = started_with_certificate(keys, terminals)
        app = WorkbenchApp(backend, reason="INC-8")
        async with app.run_test(size=SIZE) as pilot:
            table = app.fleet.table
            # settled: the window is in, both rows probed and their status read, nothing running
            await until(
                pilot,
                lambda: (
                    app.window_until is not None
                    and len(table.rows) == 2
                    and all(r.reachable == "up" and r.faults_live for r in table.rows)
                ),
            )
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert all(r.window_until == app.window_until for r in table.rows)  # its column
            assert backend.loads == 1
            assert backend.probes == {t: 1 for t in terminals}
            assert backend.reads == {t: 1 for t in terminals}


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waits of tens of milliseconds instead of seconds (the rule is the same)."""
    monkeypatch.setattr(fleet_follow, "REPROBE_FIRST_S", FIRST)
    monkeypatch.setattr(fleet_follow, "REPROBE_MAX_S", CAP)


@pytest.mark.usefixtures("quick")
async def test_a_down_terminal_goes_up_when_its_agent_is_back_with_no_reload(keys: Keys) -> None:
    tid = "KSK-0001"
    async with Agent(agent_config(keys, tid), StaticBackend()) as agent:
        port = agent.port
        manifest(keys.dir, agent)
    # the agent stopped (its manifest left behind, as a kiosk killed leaves it): the port refuses
    backend = started_with_certificate(keys, [tid])
    app = WorkbenchApp(backend, reason="INC-8")
    async with app.run_test(size=SIZE) as pilot:
        table = app.fleet.table
        await until(pilot, lambda: len(table.rows) == 1 and row(table, tid).reachable == "down")
        # down, it is probed again on its own, ever less often, up to the cap
        await until(pilot, lambda: app.fleet.reprobes.get(tid, (None, 0.0))[1] == CAP)
        assert backend.probes[tid] >= 3  # the first probe, then after FIRST, 2 * FIRST...
        assert row(table, tid).reachable == "down"

        async with Agent(agent_config(keys, tid, port=port), StaticBackend()):
            await until(pilot, lambda: row(table, tid).reachable == "up")  # back, no key pressed
            assert backend.loads == 1  # nothing reloaded the fleet
            assert tid not in app.fleet.reprobes  # up: no longer followed
