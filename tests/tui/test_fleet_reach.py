"""The fleet's ``reach`` column as an engineer sees it, from the real backend probing real TCP
servers: an agent that accepts but sends its SSH identification late (an overloaded machine)
shows ``slow`` in yellow and its open faults are still read; a refused port shows ``down``."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest
from fleet_helpers import until

from remote import endpoint
from tui.app import WorkbenchApp
from tui.live import LiveBackend

pytestmark = pytest.mark.timeout(30)


def manifest(state_dir: Path, terminal: str, port: int) -> None:
    (state_dir / terminal).mkdir()
    doc = {"terminal": terminal, "profile": "bill_payment", "agent": f"127.0.0.1:{port}"}
    (state_dir / terminal / "endpoints.json").write_text(json.dumps(doc))


async def test_a_slow_agent_is_slow_in_yellow_and_a_refused_one_down(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(endpoint, "IDENT_S", 0.3)
    accepted, release = asyncio.Event(), asyncio.Event()

    async def overloaded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        await release.wait()
        writer.close()

    with socket.socket() as closed:  # a port that was free a moment ago: refused
        closed.bind(("127.0.0.1", 0))
        refused = closed.getsockname()[1]
    srv = await asyncio.start_server(overloaded, "127.0.0.1", 0)
    async with srv:
        manifest(state_dir, "KSK-0001", refused)
        manifest(state_dir, "KSK-0002", srv.sockets[0].getsockname()[1])
        app = WorkbenchApp(LiveBackend(state_dir), reason="INC-2041")
        async with app.run_test(size=(130, 20)) as pilot:
            table = app.fleet.table
            await until(pilot, lambda: [r.reachable for r in table.rows] == ["down", "slow"])
            assert accepted.is_set()
            strip = table.render_line(2)  # KSK-0002's line (the cursor is on KSK-0001)
            cell = next(s for s in strip if s.text.strip() == "slow")
            assert cell.style is not None and cell.style.color is not None
            assert cell.style.color.name == "yellow"
        release.set()
