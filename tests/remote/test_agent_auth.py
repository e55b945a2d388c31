"""Who the agent lets in: only user certificates from the support CA, for this terminal, logging
in as the terminal id, inside their validity; every refusal is audited with its reason."""

from __future__ import annotations

import json
import time
from pathlib import Path

import asyncssh
import pytest
from remote_testkit import TERMINAL, Keys, agent_config, audit_events, next_event
from static_backend import StaticBackend

from remote.agent import Agent
from remote.client import AgentClient, Endpoint
from remote.window import CertificateAuthority

pytestmark = pytest.mark.timeout(20)


async def refused(agent: Agent, username: str, client_keys: list, **kw: object) -> list[dict]:
    """Try to log in, expect PermissionDenied, return the refusals the attempt added.

    Like OpenSSH, an asyncssh client given (key, cert) offers the plain key after the
    certificate is refused, so the certificate's refusal is the first record.
    """
    before = len(audit_events(agent))
    with pytest.raises(asyncssh.PermissionDenied):
        async with asyncssh.connect(
            "127.0.0.1",
            agent.port,
            username=username,
            client_keys=client_keys,
            known_hosts=None,
            agent_path=None,
            config=None,
            **kw,
        ):
            pass
    return [e for e in audit_events(agent)[before:] if e["event"] == "auth_refused"]


def private(keys: Keys) -> asyncssh.SSHKey:
    return asyncssh.read_private_key(str(keys.key_path))


def cert_obj(path: Path) -> asyncssh.SSHCertificate:
    return asyncssh.read_certificate(str(path))


async def test_valid_certificate_is_accepted_and_audited(
    agent: Agent, endpoint: Endpoint, keys: Keys
) -> None:
    async with AgentClient(endpoint, keys.identity(keys.cert())) as client:
        lines, status = await client.run("window")
    assert status == 0
    assert lines[0]["engineer"] == "alice@support" and lines[0]["allow"] == ["diag", "remedy"]
    accepted = await next_event(agent, "auth_accepted")
    assert accepted["engineer"] == "alice@support" and accepted["user"] == TERMINAL


async def test_plain_key_without_certificate_is_refused(agent: Agent, keys: Keys) -> None:
    rec, *_ = await refused(agent, TERMINAL, [private(keys)])
    assert rec["reason"].startswith("no certificate")
    assert rec["key"].startswith("SHA256:")


async def test_certificate_from_another_ca_is_refused(agent: Agent, keys: Keys) -> None:
    other = CertificateAuthority.init(keys.dir / "rogue-ca")
    grant = other.grant([TERMINAL], keys.pub)
    cert = asyncssh.import_certificate(grant.certificate)
    rec, *_ = await refused(agent, TERMINAL, [(private(keys), cert)])
    assert rec["reason"].startswith("certificate from an unknown CA")


async def test_wrong_principal_is_refused(agent: Agent, keys: Keys) -> None:
    cert = cert_obj(keys.cert(["KSK-0002"]))
    rec, *_ = await refused(agent, TERMINAL, [(private(keys), cert)])
    assert rec["reason"] == "wrong principal: certificate is for KSK-0002"


async def test_login_name_other_than_terminal_id_is_refused(agent: Agent, keys: Keys) -> None:
    # asyncssh alone would admit a valid KSK-0001 certificate logging in as root.
    cert = cert_obj(keys.cert())
    rec, *_ = await refused(agent, "root", [(private(keys), cert)])
    assert rec["reason"] == "wrong login name 'root': log in as KSK-0001"


@pytest.mark.parametrize("username", [TERMINAL, "root"])
async def test_certificate_without_principals_is_refused(
    agent: Agent, keys: Keys, username: str
) -> None:
    # asyncssh alone admits a principal-less certificate for any login name.
    ca_key = asyncssh.read_private_key(str(keys.ca.dir / "user_ca"))
    now = int(time.time())
    cert = ca_key.generate_user_certificate(
        keys.pub, "alice@support", valid_after=now, valid_before=now + 600
    )
    rec, *_ = await refused(agent, username, [(private(keys), cert)])
    assert rec["reason"] == "certificate names no principals"


async def test_expired_certificate_is_refused_with_reason(agent: Agent, keys: Keys) -> None:
    cert = cert_obj(keys.cert(now=time.time() - 7200, hours=1))
    rec, *_ = await refused(agent, TERMINAL, [(private(keys), cert)])
    assert rec["reason"].startswith("expired")
    assert rec["key_id"] == "alice@support"


async def test_not_yet_valid_certificate_is_refused_with_reason(agent: Agent, keys: Keys) -> None:
    cert = cert_obj(keys.cert(now=time.time() + 3600, hours=1))
    rec, *_ = await refused(agent, TERMINAL, [(private(keys), cert)])
    assert rec["reason"].startswith("not yet valid")


async def test_window_longer_than_the_terminal_allows_is_refused(agent: Agent, keys: Keys) -> None:
    ca_key = asyncssh.read_private_key(str(keys.ca.dir / "user_ca"))
    now = int(time.time())
    cert = ca_key.generate_user_certificate(
        keys.pub, "alice@support", principals=[TERMINAL], valid_after=now, valid_before=now + 86400
    )
    rec, *_ = await refused(agent, TERMINAL, [(private(keys), cert)])
    assert rec["reason"].startswith("window longer than this terminal allows")


def _cert_like_ssh_keygen(keys: Keys, before_s: int, after_s: int) -> asyncssh.SSHCertificate:
    """What ``ssh-keygen -s user_ca -V -1m:+239m`` signs: the CA's own key, any span."""
    ca_key = asyncssh.read_private_key(str(keys.ca.dir / "user_ca"))
    now = int(time.time())
    return ca_key.generate_user_certificate(
        keys.pub,
        "alice@support",
        principals=[TERMINAL],
        valid_after=now - before_s,
        valid_before=now + after_s,
    )


async def test_a_four_hour_certificate_is_refused_by_default(agent: Agent, keys: Keys) -> None:
    # -V -1m:+239m: valid now, for 4 h in all; the agent's own maximum is the plan's 1 h
    cert = _cert_like_ssh_keygen(keys, 60, 239 * 60)
    rec, *_ = await refused(agent, TERMINAL, [(private(keys), cert)])
    assert rec["reason"] == "window longer than this terminal allows (1 h)"
    assert rec["key_id"] == "alice@support"


async def test_only_the_terminal_owner_can_allow_a_longer_window(keys: Keys) -> None:
    cert = _cert_like_ssh_keygen(keys, 60, 239 * 60)
    config = agent_config(keys, max_window_hours=4)
    async with (
        Agent(config, StaticBackend()) as agent,
        asyncssh.connect(
            "127.0.0.1",
            agent.port,
            username=TERMINAL,
            client_keys=[(private(keys), cert)],
            known_hosts=None,
            agent_path=None,
            config=None,
        ) as conn,
    ):
        done = await conn.run("window", check=False)
    assert done.exit_status == 0
    window = json.loads(str(done.stdout).splitlines()[0])
    assert 4 * 3600 - 120 < window["seconds_left"] <= 239 * 60


async def test_password_is_not_offered_and_an_attempt_is_refused(
    agent: Agent, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An ordinary client never sends a password: the agent offers only publickey.
    assert await refused(agent, TERMINAL, [], password="hunter2") == []
    rec = await next_event(agent, "auth_refused", method="none")
    assert rec["reason"] == "no certificate offered"
    # A hostile client sends one anyway (simulated by making the server advertise it).
    import asyncssh.connection as c

    real = c.get_supported_server_auth_methods
    monkeypatch.setattr(
        c, "get_supported_server_auth_methods", lambda conn: [*real(conn), b"password"]
    )
    recs = await refused(agent, TERMINAL, [], password="hunter2")
    assert [r["method"] for r in recs] == ["password"]
    assert recs[0]["reason"].startswith("password attempt")


async def test_keyboard_interactive_attempt_is_refused(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncssh.connection as c

    real = c.get_supported_server_auth_methods
    monkeypatch.setattr(
        c, "get_supported_server_auth_methods", lambda conn: [*real(conn), b"keyboard-interactive"]
    )
    recs = await refused(agent, TERMINAL, [], password="hunter2")
    assert recs and recs[0]["method"] == "keyboard-interactive"


async def test_each_refused_key_of_a_fallback_client_is_audited(agent: Agent, keys: Keys) -> None:
    # Like OpenSSH with -i KEY -o CertificateFile=CERT: the expired cert, then the plain key.
    expired = cert_obj(keys.cert(now=time.time() - 7200, hours=1))
    recs = await refused(agent, TERMINAL, [(private(keys), expired)])
    assert [r["reason"].split(":")[0] for r in recs] == ["expired", "no certificate"]
