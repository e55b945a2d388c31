"""Plain OpenSSH is a full client of the agent: key + window certificate, the host certificate
checked through an @cert-authority line, JSON lines on stdout."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from remote_testkit import TERMINAL, Keys, audit_events, next_event

from remote.agent import Agent
from remote.window import CertificateAuthority, read_certificate_info

SSH = shutil.which("ssh")
pytestmark = [
    pytest.mark.skipif(SSH is None, reason="OpenSSH client not installed"),
    pytest.mark.timeout(20),
]


async def ssh(
    keys: Keys,
    agent: Agent,
    cert: Path,
    command: str,
    known_hosts: Path | None = None,
    user: str = TERMINAL,
) -> tuple[int, list[dict], str]:
    assert SSH is not None
    proc = await asyncio.create_subprocess_exec(
        SSH,
        "-F",
        "/dev/null",
        "-i",
        str(keys.key_path),
        "-o",
        f"CertificateFile={cert}",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "IdentityAgent=none",
        "-o",
        "BatchMode=yes",
        "-o",
        f"UserKnownHostsFile={known_hosts or keys.ca.dir / 'known_hosts'}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"HostKeyAlias={TERMINAL}",
        "-p",
        str(agent.port),
        f"{user}@127.0.0.1",
        command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await proc.communicate()
    lines = [json.loads(x) for x in stdout.decode().splitlines() if x.strip()]
    assert proc.returncode is not None
    return proc.returncode, lines, stderr.decode()


async def test_openssh_runs_status(agent: Agent, keys: Keys) -> None:
    code, lines, _ = await ssh(keys, agent, keys.cert(), "status")
    assert code == 0
    status, seal = lines
    assert status == {"event": "status", "terminal_state": "in_service"}  # no answer key
    assert seal["event"] == "seal" and set(seal) == {"event", "seq", "hash", "seal"}


async def test_openssh_sees_refusals_and_exit_statuses(agent: Agent, keys: Keys) -> None:
    code, lines, _ = await ssh(keys, agent, keys.cert(allow=("diag",)), "remedy reset_validator")
    assert code == 3 and lines[0]["code"] == "refused"
    code, lines, _ = await ssh(keys, agent, keys.cert(), "reboot")
    assert code == 2 and lines[0]["code"] == "usage"


async def test_openssh_with_expired_certificate_is_refused_twice_in_the_audit(
    agent: Agent, keys: Keys
) -> None:
    before = len(audit_events(agent))
    code, lines, stderr = await ssh(keys, agent, keys.cert(now=time.time() - 7200), "status")
    assert code == 255 and lines == [] and "Permission denied" in stderr
    reasons = [
        e["reason"].split(":")[0]
        for e in audit_events(agent)[before:]
        if e["event"] == "auth_refused"
    ]
    assert reasons == ["expired", "no certificate"]  # the certificate, then the plain key


async def test_openssh_tells_the_engineer_why_the_certificate_is_refused(
    agent: Agent, keys: Keys
) -> None:
    code, _, stderr = await ssh(keys, agent, keys.cert(now=time.time() - 7200), "status")
    assert code == 255 and "Permission denied" in stderr
    told = [line for line in stderr.splitlines() if " refused: " in line]
    assert len(told) == 1  # once, though the certificate is offered before the plain key
    assert told[0].startswith(f"{TERMINAL}: certificate 'alice@support' (serial ")
    assert re.search(
        r"\) refused: expired: window closed at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", told[0]
    )
    code, _, stderr = await ssh(keys, agent, keys.cert(["KSK-9999"]), "status")
    assert code == 255
    assert "refused: wrong principal: certificate is for KSK-9999" in stderr


async def test_openssh_tells_a_certificate_of_another_ca_nothing(agent: Agent, keys: Keys) -> None:
    other = CertificateAuthority.init(keys.dir / "other-ca")
    cert = keys.dir / "other-cert.pub"
    cert.write_bytes(other.grant([TERMINAL], keys.pub, hours=1.0).certificate)
    code, _, stderr = await ssh(keys, agent, cert, "status")
    assert code == 255 and "Permission denied" in stderr
    assert "refused" not in stderr and TERMINAL + ":" not in stderr


async def test_openssh_refuses_a_host_not_signed_by_the_host_ca(agent: Agent, keys: Keys) -> None:
    other = CertificateAuthority.init(keys.dir / "other-ca")
    code, _, stderr = await ssh(
        keys, agent, keys.cert(), "status", known_hosts=other.dir / "known_hosts"
    )
    assert code == 255 and "Host key verification failed" in stderr


async def test_openssh_session_is_cut_at_valid_before(agent: Agent, keys: Keys) -> None:
    # The window must outlast OpenSSH's start and handshake, which a loaded machine slows:
    # measured here, with a command that answers at once, and the window made to outlast it.
    began = time.time()
    code, _, _ = await ssh(keys, agent, keys.cert(), "status")
    assert code == 0
    cert = keys.cert(hours=(2 + 2 * (time.time() - began)) / 3600, name="short")
    valid_before = read_certificate_info(cert).valid_before
    # the baseline: a bare timer on the agent's event loop, due at valid_before too; how late it
    # runs is how late this loaded process runs anything, the agent's cut included
    loop = asyncio.get_running_loop()
    bare: asyncio.Future[float] = loop.create_future()
    loop.call_at(loop.time() + valid_before - time.time(), lambda: bare.set_result(time.time()))
    code, lines, _ = await ssh(keys, agent, cert, "diag run slow")  # would take 30 s
    ended = time.time()
    assert code == 255
    assert lines[0] == {"event": "result", "test": "slow", "status": "pass", "progress": "started"}
    assert lines[-1]["event"] == "window_closed" and lines[-1]["valid_before"] == valid_before
    late = max(0.0, await bare - valid_before)
    closed = await next_event(agent, "window_closed")
    assert closed["valid_before"] == valid_before
    assert valid_before - 0.05 <= closed["time"] <= valid_before + late + 0.5, (
        closed["time"] - valid_before,
        late,
    )
    assert ended >= valid_before - 0.05  # OpenSSH ran until the cut, not ended before it
