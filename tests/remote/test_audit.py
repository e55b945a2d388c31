"""The audit log is a hash chain that survives the agent being killed mid-session and shows
exactly which line was altered."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from remote_testkit import TERMINAL, Keys

from remote.audit import AuditLog, read, verify
from remote.client import AgentClient, Endpoint
from remote.window import issue_host_identity

ROOT = Path(__file__).resolve().parents[2]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{Path(__file__).parent}"}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "remote.cli", *args],
        capture_output=True,
        text=True,
        env=env(),
        cwd=ROOT,
        timeout=30,
    )


def test_chain_verifies_and_names_the_first_altered_line(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(5):
        log.append("command", n=i, command=f"diag run t{i}")
    log.close()
    path = tmp_path / "audit.jsonl"
    assert verify(path).ok and verify(path).lines == 5
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("diag run t2", "diag run t9")
    path.write_text("\n".join(lines) + "\n")
    verdict = verify(path)
    assert (verdict.ok, verdict.broken_line) == (False, 3)
    assert verdict.reason == "content does not match its hash (line altered)"


def test_a_removed_line_breaks_the_chain_at_the_next_one(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(4):
        log.append("command", n=i)
    log.close()
    path = tmp_path / "audit.jsonl"
    lines = path.read_text().splitlines()
    del lines[1]
    path.write_text("\n".join(lines) + "\n")
    verdict = verify(path)
    assert verdict.broken_line == 2 and "prev hash" in verdict.reason


def test_a_torn_last_line_is_recorded_on_reopen_and_the_chain_continues(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.append("command", n=1)
    log.close()
    with open(path, "ab") as f:
        f.write(b'{"seq":2,"event":"comm')  # a crash mid-write
    assert verify(path).ok and verify(path).torn_tail
    log = AuditLog(path)
    log.append("command", n=2)
    log.close()
    events = [r["event"] for r in read(path)]
    assert events == ["command", "audit_recovered", "command"]
    assert read(path)[1]["torn_bytes"] == 22
    assert verify(path).ok and not verify(path).torn_tail


def test_audit_verify_cli_exits_non_zero_naming_the_line(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    log.append("x", v=1)
    log.append("x", v=2)
    log.close()
    good = cli("remote", "audit", "verify", str(tmp_path / "a.jsonl"))
    assert good.returncode == 0 and "2 lines, chain intact" in good.stdout
    text = (tmp_path / "a.jsonl").read_text().replace('"v":2', '"v":3')
    (tmp_path / "a.jsonl").write_text(text)
    bad = cli("remote", "audit", "verify", str(tmp_path / "a.jsonl"))
    assert bad.returncode == 6
    assert (
        bad.stderr.strip()
        == f"error: {tmp_path / 'a.jsonl'}:2: chain broken: content does not match its hash (line altered)"
    )


@pytest.mark.timeout(60)  # an agent subprocess starting on a loaded 2-core CI machine
async def test_chain_verifies_after_sigkill_mid_session_and_tampering_is_found(keys: Keys) -> None:
    host_key, host_cert = issue_host_identity(keys.ca.dir, TERMINAL, keys.dir / "host")
    state = keys.dir / "agent-state"
    config = keys.dir / "agent.yaml"
    config.write_text(
        f"terminal: {TERMINAL}\nuser_ca: {keys.ca.dir / 'user_ca.pub'}\nhost_key: {host_key}\n"
        f"host_cert: {host_cert}\nstate_dir: {state}\nbackend: static_backend:make_backend\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "remote.cli",
        "agent",
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        env=env(),
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(await asyncio.wait_for(proc.stdout.readline(), 45))
        port = int(ready["agent"].rpartition(":")[2])
        endpoint = Endpoint(TERMINAL, "127.0.0.1", port)
        async with AgentClient(endpoint, keys.identity(keys.cert())) as client:
            lines, status = await client.run("status")
            assert status == 0
            got = []
            async for line in client.stream("diag run slow"):  # 60 s in this backend
                got.append(line)
                if line.get("progress") == "started":
                    proc.send_signal(signal.SIGKILL)
            assert client.exit_status is None
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    path = state / "audit.jsonl"
    verdict = verify(path)
    assert verdict.ok, verdict
    events = [(r["event"], r.get("command")) for r in read(path)]
    assert events[-1] == ("command", "diag run slow")  # written before the first reply
    assert ("result", "status") in events
    # Tamper with the accepted login: the chain breaks exactly there.
    lines = path.read_text().splitlines()
    n = next(i for i, x in enumerate(lines) if '"auth_accepted"' in x)
    lines[n] = lines[n].replace("alice@support", "mallory@support")
    path.write_text("\n".join(lines) + "\n")
    verdict = verify(path)
    assert (verdict.ok, verdict.broken_line) == (False, n + 1)
