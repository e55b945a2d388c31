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

import asyncssh
import pytest
from remote_testkit import TERMINAL, Keys, audit_events, next_event

from remote.agent import Agent
from remote.audit import AuditLog, Seal, read, verify
from remote.client import AgentClient, Endpoint
from remote.endpoint import probe
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


HOST_KEY = asyncssh.generate_private_key("ssh-ed25519")
"""The terminal's host key: it seals the log; whoever writes the file does not hold it."""


def open_log(path: Path) -> AuditLog:
    return AuditLog(path, HOST_KEY, fsync=False)


def test_chain_verifies_and_names_the_first_altered_line(tmp_path: Path) -> None:
    log = open_log(tmp_path / "audit.jsonl")
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
    log = open_log(tmp_path / "audit.jsonl")
    for i in range(4):
        log.append("command", n=i)
    log.close()
    path = tmp_path / "audit.jsonl"
    lines = path.read_text().splitlines()
    del lines[1]
    path.write_text("\n".join(lines) + "\n")
    verdict = verify(path)
    assert verdict.broken_line == 2 and "prev hash" in verdict.reason


@pytest.mark.parametrize(
    "tail", [b'{"seq":2,"event":"comm', b"\x00\xffgarbage\n", b"[[[[\n{\n" + b"[" * 5000 + b"\n"]
)
def test_a_torn_or_garbage_tail_is_kept_marked_and_the_chain_continues(
    tmp_path: Path, tail: bytes
) -> None:
    # a complete garbage last line used to stop the agent (and the kiosk) from starting
    path = tmp_path / "audit.jsonl"
    log = open_log(path)
    log.append("command", n=1)
    log.close()
    with open(path, "ab") as f:
        f.write(tail)  # a crash mid-write, or garbage
    assert verify(path).ok and verify(path).torn_tail
    log = open_log(path)
    log.append("command", n=2)
    log.close()
    assert tail in path.read_bytes()  # kept: the log is append-only
    events = [r["event"] for r in read(path)]
    assert events[0] == "command" and events[-2:] == ["audit_recovered", "command"]
    recovered = read(path)[-2]
    torn = tail if tail.endswith(b"\n") else tail + b"\n"
    assert recovered["torn_bytes"] == len(torn) and recovered["torn_from"] == 2
    verdict = verify(path)
    assert verdict.ok and not verdict.torn_tail
    assert verdict.torn_lines == torn.count(b"\n") and verdict.lines == 3


def test_audit_verify_cli_exits_non_zero_naming_the_line(tmp_path: Path) -> None:
    log = open_log(tmp_path / "a.jsonl")
    log.append("x", v=1)
    log.append("x", v=2)
    log.close()
    good = cli("remote", "audit", "verify", str(tmp_path / "a.jsonl"))
    assert (
        good.returncode == 0 and "2 lines, chain intact, sealed by the key the log" in good.stdout
    )
    assert good.stderr.startswith("warning: seals checked against the key the log itself names")
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
    # The agent is gone. asyncio's child watcher sometimes loses the race to reap a killed
    # child on a loaded machine and reports 255 ("Unknown child process"); the pid is gone
    # either way.
    assert proc.returncode in (-signal.SIGKILL, 255)
    with pytest.raises(ProcessLookupError):
        os.kill(proc.pid, 0)
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


def _sealed_log(path: Path, n: int = 5) -> AuditLog:
    log = open_log(path)
    for i in range(n):
        log.append("command", n=i, command=f"diag run t{i}")
    log.close()
    return log


def test_rewriting_a_line_and_rehashing_the_rest_is_found(tmp_path: Path) -> None:
    # the chain had no key: an attacker re-hashed every line after the one they changed
    import hashlib
    import json

    path = tmp_path / "audit.jsonl"
    _sealed_log(path)
    records = [json.loads(x) for x in path.read_text().splitlines()]
    records[2]["command"] = "diag run t9"
    prev = records[1]["hash"]
    for r in records[2:]:
        r["prev"] = prev
        body = {k: v for k, v in r.items() if k not in ("hash", "seal")}
        r["hash"] = prev = hashlib.sha256(
            json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
    path.write_text(
        "".join(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n" for r in records)
    )
    verdict = verify(path)
    assert (verdict.ok, verdict.broken_line) == (False, 3)
    assert verdict.reason.startswith("seal does not verify")


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        # grep sees the first value, json.loads the last
        (
            lambda line: line.replace('"command":', '"command":"diag run t9","command":', 1),
            "key 'command' appears twice",
        ),
        (lambda line: line.replace('","', '", "', 1), "not in canonical form"),
        (lambda line: line.replace('{"', '{ "', 1), "not in canonical form"),
    ],
)
def test_only_the_canonical_form_of_a_line_verifies(
    tmp_path: Path, edit: object, reason: str
) -> None:
    path = tmp_path / "audit.jsonl"
    _sealed_log(path)
    lines = path.read_text().splitlines()
    lines[1] = edit(lines[1])  # type: ignore[operator]
    path.write_text("\n".join(lines) + "\n")
    verdict = verify(path)
    assert (verdict.ok, verdict.broken_line) == (False, 2)
    assert reason in verdict.reason


def test_a_log_rewritten_under_another_key_fails_against_the_trusted_one(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    forged = AuditLog(path, asyncssh.generate_private_key("ssh-ed25519"), fsync=False)
    forged.append("command", command="status")
    forged.close()
    assert verify(path).ok  # self-consistent, under the key it names
    verdict = verify(path, key=HOST_KEY.convert_to_public())
    assert (verdict.ok, verdict.broken_line) == (False, 1)
    assert verdict.reason.startswith("seal does not verify")


@pytest.mark.parametrize("keep", [0, 3, 4])
def test_truncation_is_found_given_the_seal_a_client_kept(tmp_path: Path, keep: int) -> None:
    path = tmp_path / "audit.jsonl"
    log = _sealed_log(path)
    assert log.last is not None and log.last.seq == 5
    seal = log.last
    assert verify(path, seal=seal).ok
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:keep]))
    assert verify(path).ok  # alone, a shorter chain is still a valid chain
    verdict = verify(path, key=HOST_KEY.convert_to_public(), seal=seal)
    assert not verdict.ok
    assert verdict.reason == (
        f"truncated: the store saw line 5 sealed; the chain ends at line {keep}"
    )
    other = Seal(5, "0" * 64, seal.seal)
    path.write_bytes(b"".join(lines))
    assert verify(path, seal=other).reason == (
        "line 5 is not the line the store saw sealed (hash differs)"
    )


def test_a_deeply_nested_line_is_a_broken_line_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _sealed_log(path, 2)
    with open(path, "ab") as f:
        f.write(b"[" * 100_000 + b"]" * 100_000 + b"\n")
    log = open_log(path)
    log.append("command", n=3)
    log.close()
    with open(path, "ab") as f:
        f.write(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n")
        f.write(read_last_line(path))
    done = cli("remote", "audit", "verify", str(path))
    assert done.returncode == 6
    assert done.stderr.strip() == f"error: {path}:6: chain broken: nested too deeply"


def read_last_line(path: Path) -> bytes:
    return path.read_bytes().splitlines(keepends=True)[-2]


async def test_an_undecodable_command_is_audited(agent: Agent, keys: Keys) -> None:
    # asyncssh refused an exec request that is not UTF-8 before any hook saw it: not audited
    async with asyncssh.connect(
        "127.0.0.1",
        agent.port,
        username=TERMINAL,
        client_keys=[
            (
                asyncssh.read_private_key(str(keys.key_path)),
                asyncssh.read_certificate(str(keys.cert())),
            )
        ],
        known_hosts=None,
        agent_path=None,
        config=None,
    ) as conn:
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.create_process(b"status \xff\xfe")  # type: ignore[arg-type]
    rec = await next_event(agent, "command_refused")
    assert rec["command"] == "status \\xff\\xfe" and rec["reason"] == "command is not UTF-8"
    assert rec["engineer"] == "alice@support"


async def test_a_reachability_probe_is_a_port_check_not_a_dropped_client(agent: Agent) -> None:
    """The TUI's probe reads the agent's identification string and closes without sending its
    own: audited as a port check (sshd: "Did not receive identification string"), never as a
    client that gave up before authentication; the chain still verifies."""
    assert await probe("127.0.0.1", agent.port) == "up"
    rec = await next_event(agent, "port_check")
    assert rec["peer"].startswith("127.0.0.1:") and "client" not in rec
    assert rec["reason"] == "closed before the SSH version exchange"
    _, writer = await asyncio.open_connection("127.0.0.1", agent.port)
    peer = f"127.0.0.1:{writer.get_extra_info('sockname')[1]}"
    writer.close()  # a bare connect, closed at once (a reset if the agent's line came first)
    rec = await next_event(agent, "port_check", peer=peer)
    assert rec["reason"] == "closed before the SSH version exchange"
    assert [r["event"] for r in audit_events(agent)[1:]] == ["port_check", "port_check"]
    assert verify(agent.audit.path).ok


async def test_an_ssh_client_that_drops_before_authentication_is_a_dropped_connection(
    agent: Agent,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", agent.port)
    assert (await reader.readline()).startswith(b"SSH-2.0-")
    writer.write(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n")  # the version exchange, then gone
    await writer.drain()
    await reader.read(1)  # the agent's key exchange has begun
    writer.close()
    rec = await next_event(agent, "connection_dropped")
    assert rec["client"] == "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13"
    assert rec["reason"].startswith("closed before authentication: ")
    assert not [r for r in audit_events(agent) if r["event"] == "port_check"]
    assert verify(agent.audit.path).ok


async def test_a_client_that_is_not_ssh_is_a_dropped_connection(agent: Agent) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", agent.port)
    writer.write(b"GET / HTTP/1.0\r\n\r\n")  # not SSH at all
    await writer.drain()
    await reader.read()  # the agent hangs up
    writer.close()
    rec = await next_event(agent, "connection_dropped")
    assert rec["peer"].startswith("127.0.0.1:") and "client" not in rec
    assert rec["reason"] == "not an SSH client: Unsupported SSH version"


async def test_the_probe_says_down_for_a_closed_port_and_a_server_that_is_not_ssh() -> None:
    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(http, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        assert await probe("127.0.0.1", port) == "down"
    assert await probe("127.0.0.1", port) == "down"  # closed now: refused


async def test_audit_verify_with_the_store_finds_a_cut_log(agent: Agent, keys: Keys) -> None:
    from remote.client import keep_seal
    from workbench.store import RecordStore

    async with AgentClient(
        Endpoint(TERMINAL, "127.0.0.1", agent.port), keys.identity(keys.cert())
    ) as client:
        await client.run("status")
        await client.run("window")
    assert client.seal is not None and client.host_key is not None
    store = keys.dir / "records.sqlite"
    with RecordStore(store) as records:
        keep_seal(records, TERMINAL, client.seal, client.host_key)
    path = agent.audit.path
    good = cli("remote", "audit", "verify", str(path), "--store", str(store))
    assert good.returncode == 0, good.stderr
    fingerprint = agent.audit.sealer.get_fingerprint("sha256")
    assert f"chain intact, sealed by {fingerprint}; reaches line {client.seal.seq}" in good.stdout
    assert good.stderr == ""
    whole = path.read_bytes()
    cut = whole.splitlines(keepends=True)[: client.seal.seq - 1]
    for text in (b"".join(cut), b""):
        path.write_bytes(text)
        bad = cli("remote", "audit", "verify", str(path), "--store", str(store))
        assert bad.returncode == 6
        assert bad.stderr.strip() == (
            f"error: {path}:{len(text.splitlines()) + 1}: chain broken: truncated: the store saw "
            f"line {client.seal.seq} sealed; the chain ends at line {len(text.splitlines())}"
        )


async def test_a_garbage_audit_tail_does_not_keep_a_kiosk_from_starting(
    keys: Keys, tmp_path: Path
) -> None:
    from devices.kiosk import KioskHost
    from scenarios.wiring import kiosk_backend, kiosk_extra

    state = tmp_path / "kiosks"
    audit = state / TERMINAL / "agent" / "audit.jsonl"
    for _ in range(2):
        async with KioskHost(
            state,
            "query_print",
            [TERMINAL],
            speed=10,
            extras=[kiosk_extra(keys.ca.dir, kiosk_backend)],
        ) as host:
            assert "agent" in host.endpoints[TERMINAL]
        with open(audit, "ab") as f:
            f.write(b'{"seq": 99, "event": "garbage"}\n\x00\x01\n')
    events = [r["event"] for r in read(audit)]
    assert events.count("audit_recovered") == 1 and events.count("agent_started") == 2
    verdict = verify(audit)
    assert verdict.ok and verdict.torn_lines == 2 and verdict.torn_tail


def test_a_connection_silent_until_the_login_timeout_is_a_port_check_that_says_so() -> None:
    from remote.unauthenticated import early_close

    assert early_close(None, asyncssh.ConnectionLost("Login timeout expired")) == (
        "port_check",
        "closed before the SSH version exchange (Login timeout expired)",
    )
