"""A class's kiosks admit only its own trainees' certificates. Trainee keys are kept from class to
class and kiosk ids repeat (KSK-T01), so a certificate from an earlier class, still inside its
window, reached the next class's KSK-T01 (a trainer's trial, 2026-12-02)."""

from __future__ import annotations

import json
from pathlib import Path

import asyncssh
import pytest
from cli_testkit import agent_login

from remote.certs import CLASS_ID, read_certificate_info
from scenarios.classroom import Classroom, new_class_id, read_class
from scenarios.library import load

pytestmark = pytest.mark.timeout(60)


def _audit(state: Path, terminal: str) -> list[dict]:
    path = state / terminal / "agent" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


async def _login(state: Path, key: Path, cert: bytes) -> list[str]:
    """Log in to KSK-T01's agent as a trainee would and run ``window``; its output lines."""
    async with await agent_login(state, "KSK-T01", key, asyncssh.import_certificate(cert)) as conn:
        result = await conn.run("window", check=False)
    assert result.exit_status == 0, result.stderr
    return str(result.stdout).splitlines()


async def test_an_earlier_class_certificate_is_refused_by_the_next_class(tmp_path: Path) -> None:
    state = tmp_path / "state"
    loaded = load("p3-paper-out")
    async with Classroom(loaded, state, 1, speed=60) as room_a:
        t01 = room_a.trainees[0]
        old_cert = t01.cert.read_bytes()  # the trainee keeps it
        assert await _login(state, t01.key, old_cert)  # it works in its own class
    class_a = read_class(state)["class_id"]

    async with Classroom(loaded, state, 1, speed=60) as room_b:
        t01 = room_b.trainees[0]
        class_b = read_class(state)["class_id"]
        assert class_b != class_a
        assert read_certificate_info(t01.cert).class_id == class_b
        before = len(_audit(state, "KSK-T01"))
        with pytest.raises(asyncssh.PermissionDenied):
            await _login(state, t01.key, old_cert)  # same key, same kiosk id, earlier class
        refusals = [e for e in _audit(state, "KSK-T01")[before:] if e["event"] == "auth_refused"]
        assert refusals[0]["reason"] == (
            f"issued for class {class_a}; this terminal serves class {class_b}"
        )
        assert refusals[0]["user"] == "KSK-T01"
        # the new class's certificate for the same key is admitted
        assert await _login(state, t01.key, t01.cert.read_bytes())
        accepted = [e for e in _audit(state, "KSK-T01") if e["event"] == "auth_accepted"]
        assert accepted[-1]["engineer"] == "t01@class"


async def test_workbench_remote_says_why_the_next_class_refused_it(tmp_path: Path) -> None:
    """``workbench remote exec`` with the kept certificate names the agent's reason, not a guess
    ('expired, other terminal or CA?': none of those)."""
    from remote.client import AgentClient, Identity
    from remote.endpoint import Endpoint
    from workbench.errors import AuthError

    state = tmp_path / "state"
    loaded = load("p3-paper-out")
    async with Classroom(loaded, state, 1, speed=60) as room_a:
        old_cert = tmp_path / "t01-class-a-cert.pub"
        old_cert.write_bytes(room_a.trainees[0].cert.read_bytes())
    class_a = read_class(state)["class_id"]
    async with Classroom(loaded, state, 1, speed=60) as room_b:
        t01 = room_b.trainees[0]
        identity = Identity.load(t01.key, old_cert, room_b.live.ca_dir / "known_hosts")
        endpoint = Endpoint.from_manifest(state / "KSK-T01" / "endpoints.json")
        with pytest.raises(AuthError) as info:
            async with AgentClient(endpoint, identity):
                pass
        assert str(info.value) == (
            f"KSK-T01 at {endpoint.host}:{endpoint.port}: the agent refused this certificate "
            f"(issued for class {class_a}; this terminal serves class {room_b.class_id})"
        )


def test_a_class_kiosk_admits_only_its_class_and_no_other_kiosk_admits_a_class(
    tmp_path: Path,
) -> None:
    """The agent's rule both ways: a class's kiosk refuses a certificate naming no class (a
    grant made for something else) and one naming another class; a kiosk serving no class
    refuses one naming a class."""
    import time

    from remote.certs import judge
    from remote.window import CertificateAuthority, engineer_key

    ca = CertificateAuthority.init(tmp_path / "ca")
    key = engineer_key(tmp_path / "key", "t01@class").convert_to_public()

    def verdict(cert_class: str | None, serving: str | None) -> str:
        cert = ca.grant(["KSK-T01"], key, class_id=cert_class).certificate
        blob = asyncssh.import_certificate(cert).public_data
        j = judge("KSK-T01", blob, "KSK-T01", ca.user_ca_public, time.time(), 3600, serving)
        return j.reason

    assert verdict("c2", "c2") == "accepted"
    assert verdict(None, None) == "accepted"
    assert verdict("c1", "c2") == "issued for class c1; this terminal serves class c2"
    assert verdict(None, "c2") == "not issued for a class; this terminal serves class c2"
    assert verdict("c1", None) == "issued for class c1; this terminal serves no class"


def test_a_new_class_id_is_one_remote_grant_class_takes() -> None:
    """``class up`` makes the id (scenarios.classroom) and ``remote grant --class`` checks its form
    (remote.certs.CLASS_ID): the two are written apart, and this holds them together."""
    assert CLASS_ID.fullmatch(new_class_id())
    assert CLASS_ID.fullmatch(new_class_id(now=0.0)) and new_class_id(now=0.0).startswith(
        "19700101-0000-"
    )
