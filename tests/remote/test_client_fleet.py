"""The engineer client: host certificates pinned to the terminal id, suite runs stored as
maintenance records, fleet fan-out with bounded concurrency where one failure stops nothing."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from remote_testkit import Keys, agent_config
from static_backend import StaticBackend

from remote.agent import Agent
from remote.client import AgentClient, Endpoint, record_run, run_suite
from remote.endpoint import discover
from remote.fleet import fleet
from workbench.errors import AuthError, ConfigError, TransportError
from workbench.store import RecordStore

ROOT = Path(__file__).resolve().parents[2]


class CountingBackend(StaticBackend):
    """Counts how many suites run at the same time across every terminal."""

    running = 0
    peak = 0

    async def diag_run(self, names: list[str]) -> AsyncIterator[dict[str, Any]]:
        cls = CountingBackend
        cls.running += 1
        cls.peak = max(cls.peak, cls.running)
        try:
            # Hold the slot until another run joins (or 3 s pass: with a limit of 1 none
            # would), however slowly a loaded machine connects the next terminal.
            for _ in range(60):
                if cls.peak >= 2:
                    break
                await asyncio.sleep(0.05)
            async for result in super().diag_run(names):
                yield result
        finally:
            cls.running -= 1


async def start_fleet(
    stack: AsyncExitStack, keys: Keys, ids: list[str], state: Path
) -> dict[str, Agent]:
    agents = {}
    for tid in ids:
        agent = await stack.enter_async_context(Agent(agent_config(keys, tid), CountingBackend()))
        (state / tid).mkdir(parents=True, exist_ok=True)
        (state / tid / "endpoints.json").write_text(
            json.dumps({"terminal": tid, "agent": agent.address})
        )
        agents[tid] = agent
    return agents


@pytest.mark.timeout(20)
async def test_host_certificate_is_pinned_to_the_terminal_id(keys: Keys) -> None:
    async with Agent(agent_config(keys, "KSK-0002"), StaticBackend()) as other:
        impostor = Endpoint("KSK-0001", "127.0.0.1", other.port)  # KSK-0002 answering as KSK-0001
        with pytest.raises(AuthError, match="host certificate not trusted"):
            async with AgentClient(impostor, keys.identity(keys.cert(["KSK-0001", "KSK-0002"]))):
                pass


@pytest.mark.timeout(20)
async def test_unreachable_agent_and_bad_manifest_are_one_line_errors(
    keys: Keys, tmp_path: Path
) -> None:
    ident = keys.identity(keys.cert())
    async with Agent(agent_config(keys), StaticBackend()) as gone:
        port = gone.port
    with pytest.raises(TransportError, match=f"KSK-0001 at 127.0.0.1:{port}: cannot connect"):
        async with AgentClient(Endpoint("KSK-0001", "127.0.0.1", port), ident):
            pass
    (tmp_path / "endpoints.json").write_text(json.dumps({"terminal": "KSK-0001", "devices": {}}))
    with pytest.raises(ConfigError, match="no 'agent' address"):
        Endpoint.from_manifest(tmp_path / "endpoints.json")


@pytest.mark.timeout(20)
async def test_run_suite_is_stored_as_a_maintenance_record(keys: Keys, tmp_path: Path) -> None:
    backend = StaticBackend()
    backend.fault_inject("bill_validator.acceptor_jam")
    async with Agent(agent_config(keys), backend) as agent:
        report = await run_suite(
            Endpoint("KSK-0001", "127.0.0.1", agent.port), keys.identity(keys.cert()), "inspection"
        )
    assert report.outcome == "fail" and report.counts() == {"pass": 1, "warn": 0, "fail": 1}
    with RecordStore(tmp_path / "records.sqlite") as store:
        run_id = record_run(store, report)
        run = store.run(run_id)
    assert run is not None
    results = [(r.test, r.status, r.suspect) for r in run.results]
    assert (run.terminal, run.suite, run.engineer, run.outcome) == (
        "KSK-0001",
        "inspection",
        "alice@support",
        "fail",
    )
    assert results == [
        ("printer", "pass", None),
        ("validator", "fail", "bill_validator.acceptor_jam"),
    ]
    # the live report says what went wrong in the words its stored record does
    assert report.what_went_wrong() == run.what_went_wrong()
    assert run.what_went_wrong() == "validator fail: bill_validator.acceptor_jam"


@pytest.mark.timeout(30)
async def test_fleet_fans_out_with_bounded_concurrency_and_survives_failures(keys: Keys) -> None:
    state = keys.dir / "state"
    ids = [f"KSK-{i:04d}" for i in range(1, 7)]
    CountingBackend.running = CountingBackend.peak = 0
    async with AsyncExitStack() as stack:
        agents = await start_fleet(stack, keys, ids[:5], state)
        agents["KSK-0002"].backend.fault_inject("printer.paper_out")  # type: ignore[attr-defined]
        (state / ids[5]).mkdir()
        (state / ids[5] / "endpoints.json").write_text("{not json")  # a broken terminal
        ident = keys.identity(keys.cert(ids[:4]))  # KSK-0005 is not in this certificate
        done: list[str] = []
        reports = await fleet(
            discover(state),
            ident,
            "inspection",
            concurrency=2,
            on_done=lambda r: done.append(r.terminal),
        )
    outcome = {r.terminal: r.outcome for r in reports}
    assert outcome == {
        "KSK-0001": "pass",
        "KSK-0002": "fail",
        "KSK-0003": "pass",
        "KSK-0004": "pass",
        "KSK-0005": "error",
        "KSK-0006": "error",
    }
    assert CountingBackend.peak == 2
    assert sorted(done) == ids
    errors = {r.terminal: r.error for r in reports if r.error}
    assert "refused this certificate" in errors["KSK-0005"]
    assert "not an endpoints manifest" in errors["KSK-0006"]
    wrong = {r.terminal: r.what_went_wrong() for r in reports}
    assert wrong["KSK-0002"].startswith("printer fail: printer.paper_out")
    assert wrong["KSK-0001"] == "" and wrong["KSK-0005"] == errors["KSK-0005"]


@pytest.mark.timeout(40)
async def test_run_and_fleet_command_lines(keys: Keys) -> None:
    state = keys.dir / "state"
    ids = ["KSK-0001", "KSK-0002", "KSK-0003"]
    cert = keys.cert(ids)
    common = [
        "--key",
        str(keys.key_path),
        "--cert",
        str(cert),
        "--known-hosts",
        str(keys.ca.dir / "known_hosts"),
    ]

    async def cli(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "remote.cli",
            "remote",
            *args,
            cwd=ROOT,
            env={**os.environ, "COLUMNS": "200"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    async with AsyncExitStack() as stack:
        await start_fleet(stack, keys, ids, state)
        code, out, err = await cli(
            "run", "--endpoints", str(state / "KSK-0001" / "endpoints.json"), *common, "quick"
        )
        assert code == 0, err
        assert "pass printer" in out and "summary: 1 pass, 0 warn, 0 fail" in out
        code, out, err = await cli(
            "fleet",
            "--state-dir",
            str(state),
            *common,
            "--suite",
            "inspection",
            "--concurrency",
            "2",
        )
        assert code == 0, err
        assert "inspection: 3 terminals" in out and "pass: 3" in out
    with RecordStore(state / "records.sqlite") as store:
        rows = [(r.terminal, r.suite, r.outcome) for r in store.runs()]
    assert rows[0] == ("KSK-0001", "quick", "pass")
    assert sorted(rows[1:]) == [(t, "inspection", "pass") for t in ids]
