"""Benchmarks of the remote agent: connect + certificate auth + ``status`` latency against a bare
asyncssh server with plain-key auth in the same run, how many concurrent streaming sessions one
agent holds, and fleet fan-out over many in-process agents (trivial backend: transport cost only).

    .venv/bin/python bench/ssh_bench.py [--rounds 200] [--sessions 200] [--fleet 100,1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncssh
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from remote.agent import Agent, AgentConfig
from remote.client import AgentClient, Endpoint, Identity
from remote.fleet import fleet
from remote.window import CertificateAuthority, issue_host_identity


class BenchBackend:
    """A backend with no devices: instant status, and a suite that waits for a release."""

    simulated = True

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.holding = 0
        self.all_holding = asyncio.Event()
        self.target = 0

    async def status(self, *, trainer: bool = False) -> dict[str, Any]:
        return {"terminal_state": "in_service", "active_faults": []}

    def diag_list(self) -> list[dict[str, Any]]:
        return [{"name": "hold", "kind": "test"}, {"name": "inspection", "kind": "suite"}]

    async def diag_run(self, names: list[str]) -> AsyncIterator[dict[str, Any]]:
        if names == ["hold"]:
            self.holding += 1
            if self.holding >= self.target:
                self.all_holding.set()
            yield {"test": "hold", "status": "pass", "progress": "holding"}
            await self.release.wait()
        for test in ("power", "network", "printer"):
            yield {"test": test, "status": "pass", "measurements": {}}

    async def remedy(self, action: str) -> dict[str, Any]:
        return {"action": action, "cleared": True}

    def logs(self, since: float | None) -> list[dict[str, Any]]:
        return []

    def fault_list(self) -> list[dict[str, Any]]:
        return []

    def fault_inject(self, fault_id: str, *, by: str | None = None) -> dict[str, Any]:
        return {}

    def fault_clear(self, fault_id: str, *, by: str | None = None) -> dict[str, Any]:
        return {}


class _Bare(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True


async def _bare_status(process: asyncssh.SSHServerProcess[str]) -> None:
    process.stdout.write(json.dumps({"event": "status", "terminal_state": "in_service"}) + "\n")
    process.exit(0)


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(0.95 * (len(values) - 1))]
    return f"median {statistics.median(values) * 1e3:.2f} ms, p95 {p95 * 1e3:.2f} ms"


async def latency(
    ident: Identity, agent: Agent, nosync: Agent, key: asyncssh.SSHKey, rounds: int
) -> None:
    bare = await asyncssh.create_server(
        _Bare,
        "127.0.0.1",
        0,
        server_host_keys=[asyncssh.read_private_key(str(agent.config.host_key))],
        authorized_client_keys=asyncssh.import_authorized_keys(key.export_public_key().decode()),
        process_factory=_bare_status,
        encoding="utf-8",
    )
    bare_port = bare.get_port()

    async def one_agent(which: Agent = agent) -> float:
        endpoint = Endpoint(which.config.terminal, "127.0.0.1", which.port)
        t = time.perf_counter()
        async with AgentClient(endpoint, ident) as c:
            lines, status = await c.run("status")
        assert status == 0 and lines[0]["event"] == "status"
        return time.perf_counter() - t

    async def one_bare() -> float:
        t = time.perf_counter()
        async with asyncssh.connect(
            "127.0.0.1",
            bare_port,
            username="bench",
            client_keys=[key],
            known_hosts=None,
            agent_path=None,
            config=None,
        ) as conn:
            r = await conn.run("status")
        assert r.exit_status == 0
        return time.perf_counter() - t

    for _ in range(10):  # warm up
        await one_agent()
        await one_agent(nosync)
        await one_bare()
    a, n, b = [], [], []
    for _ in range(rounds):  # interleaved, so all three see the same machine
        a.append(await one_agent())
        n.append(await one_agent(nosync))
        b.append(await one_bare())
    bare.close()
    med = statistics.median
    print(f"connect+auth+status, {rounds} rounds each, interleaved:")
    print(f"  agent (user cert, host cert, audit fdatasync'ed): {_ms(a)}")
    print(f"  agent with fsync: false (same, audit not flushed): {_ms(n)}")
    print(f"  bare asyncssh (plain key, no host cert, no audit): {_ms(b)}")
    print(
        f"  ratio agent/bare (medians): {med(a) / med(b):.2f}; without the flushes: {med(n) / med(b):.2f}"
    )


async def sessions(ident: Identity, agent: Agent, count: int) -> None:
    backend = agent.backend
    assert isinstance(backend, BenchBackend)
    backend.target = count
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    endpoint = Endpoint(agent.config.terminal, "127.0.0.1", agent.port)
    t0 = time.perf_counter()

    async def hold() -> int:
        async with AgentClient(endpoint, ident, connect_timeout=60) as c:
            lines, status = await c.run("diag run hold")
        return len(lines) if status == 0 else -1

    tasks = [asyncio.create_task(hold()) for _ in range(count)]
    await asyncio.wait_for(backend.all_holding.wait(), 120)
    up = time.perf_counter() - t0
    rss = proc.memory_info().rss - rss0
    backend.release.set()
    results = await asyncio.gather(*tasks)
    ok = sum(1 for r in results if r == 5)
    print(
        f"concurrent sessions: {backend.holding} held at once by one agent, {ok}/{count} completed"
    )
    print(f"  all {count} connected, authenticated and streaming after {up:.2f} s")
    print(
        f"  RSS growth (agent and clients, same process): {rss / 2**20:.1f} MiB ({rss / count / 1024:.0f} KiB/session)"
    )


async def fan_out(
    d: Path, ca: CertificateAuthority, key_path: Path, n: int, concurrency: int
) -> None:
    ids = [f"FLT-{i:04d}" for i in range(1, n + 1)]
    state = d / f"fleet{n}"
    agents = []
    t0 = time.perf_counter()
    for tid in ids:
        hk, hc = issue_host_identity(ca.dir, tid, state / tid / "ssh")
        cfg = AgentConfig(
            terminal=tid,
            user_ca=ca.dir / "user_ca.pub",
            host_key=hk,
            host_cert=hc,
            state_dir=state / tid / "agent",
        )
        agent = Agent(cfg, BenchBackend())
        await agent.start()
        agents.append(agent)
        (state / tid / "endpoints.json").write_text(
            json.dumps({"terminal": tid, "agent": agent.address})
        )
    setup = time.perf_counter() - t0
    pub = asyncssh.read_public_key(str(key_path) + ".pub")
    cert_path = d / f"fleet{n}-cert.pub"
    cert_path.write_bytes(ca.grant(ids, pub).certificate)
    ident = Identity.load(key_path, cert_path, ca.dir / "known_hosts")
    manifests = sorted(state.glob("*/endpoints.json"))
    t0 = time.perf_counter()
    reports = await fleet(manifests, ident, "inspection", concurrency=concurrency)
    wall = time.perf_counter() - t0
    passed = sum(r.outcome == "pass" for r in reports)
    print(
        f"fleet fan-out of a 3-test suite over {n} agents, concurrency {concurrency}: {wall:.2f} s wall "
        f"({passed}/{n} pass; {n / wall:.0f} terminals/s; setup of {n} agents {setup:.1f} s)"
    )
    for agent in agents:
        await agent.close()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--fleet", default="100,1000")
    ap.add_argument("--concurrency", type=int, default=50)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(
        f"asyncssh {asyncssh.__version__}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
        d = Path(tmp)
        ca = CertificateAuthority.init(d / "ca")
        key = asyncssh.generate_private_key("ssh-ed25519", comment="bench@support")
        key_path = d / "bench"
        key.write_private_key(str(key_path))
        key.write_public_key(str(key_path) + ".pub")
        cert = d / "bench-cert.pub"
        cert.write_bytes(ca.grant(["KSK-BENCH"], key.convert_to_public()).certificate)
        ident = Identity.load(key_path, cert, ca.dir / "known_hosts")
        hk, hc = issue_host_identity(ca.dir, "KSK-BENCH", d / "host")
        cfg = AgentConfig(
            terminal="KSK-BENCH",
            user_ca=ca.dir / "user_ca.pub",
            host_key=hk,
            host_cert=hc,
            state_dir=d / "agent",
        )
        nosync_cfg = cfg.model_copy(update={"fsync": False, "state_dir": d / "agent-nosync"})
        async with Agent(cfg, BenchBackend()) as agent, Agent(nosync_cfg, BenchBackend()) as nosync:
            await latency(ident, agent, nosync, key, args.rounds)
        if args.sessions:
            async with Agent(cfg, BenchBackend()) as agent:
                await sessions(ident, agent, args.sessions)
        for n in (int(x) for x in args.fleet.split(",") if x):
            await fan_out(d, ca, key_path, n, args.concurrency)


if __name__ == "__main__":
    asyncio.run(main())
