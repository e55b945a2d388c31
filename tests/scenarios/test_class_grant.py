"""A trainer's own window onto a class's kiosks: ``workbench remote grant --class`` (an id, or the
class's state directory; ``--state-dir`` of a class binds its class by default). Without it a
grant names no class and a class kiosk refuses it. A fault the trainer injects over that window
is in the playing scenario's log under the certificate's key id, not "(the trainer)"."""

from __future__ import annotations

import json
from pathlib import Path

import asyncssh
import pytest
from cli_testkit import agent_login, workbench_cli

from devices.transports.control_client import request_async
from remote.certs import read_certificate_info
from remote.window import engineer_key
from scenarios.classroom import Classroom
from scenarios.library import load

pytestmark = pytest.mark.timeout(60)


async def workbench(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``workbench ARGV`` off the event loop the class runs on: exit code, stdout, stderr."""
    code = await workbench_cli(*argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def _connect(state: Path, key: Path, cert: Path) -> asyncssh.SSHClientConnection:
    return await agent_login(state, "KSK-T01", key, asyncssh.read_certificate(str(cert)))


def _refusals(state: Path) -> list[str]:
    audit = (state / "KSK-T01" / "agent" / "audit.jsonl").read_text().splitlines()
    return [e["reason"] for e in map(json.loads, audit) if e["event"] == "auth_refused"]


async def test_a_grant_for_the_class_is_admitted_and_one_for_another_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    key = tmp_path / "ann"
    engineer_key(key, "ann@trainers")
    async with Classroom(load("p3-paper-out"), state, 1, speed=60) as room:
        ca = str(room.live.ca_dir)
        grant = ("remote", "grant", "--ca", ca, "--terminal", "KSK-T01", "--key", f"{key}.pub")
        # by the class's state directory: what a trainer has at hand
        code, out, err = await workbench(capsys, *grant, "--class", str(state))
        assert code == 0, err
        assert f"(diag, remedy, class {room.class_id})" in out
        async with await _connect(state, key, tmp_path / "ann-cert.pub") as conn:
            lines = str((await conn.run("window", check=True)).stdout).splitlines()
        window = json.loads(lines[0])
        assert window["engineer"] == "ann@trainers"

        # another class's id: refused by the agent, with its reason
        other = "20261202-0900-0badc0de"
        code, out, err = await workbench(capsys, *grant, "--class", other)
        assert code == 0, err
        assert read_certificate_info(tmp_path / "ann-cert.pub").class_id == other
        before = len(_refusals(state))
        with pytest.raises(asyncssh.PermissionDenied):
            await _connect(state, key, tmp_path / "ann-cert.pub")
        assert _refusals(state)[before] == (
            f"issued for class {other}; this terminal serves class {room.class_id}"
        )

        # by id, as 'workbench remote inspect' or class.json shows it
        code, out, err = await workbench(capsys, *grant, "--class", room.class_id)
        assert code == 0, err
        async with await _connect(state, key, tmp_path / "ann-cert.pub"):
            pass

        # --state-dir of a class: every kiosk of the class, bound to its class
        code, out, err = await workbench(
            capsys, "remote", "grant", "--ca", ca, "--state-dir", str(state), "--key", f"{key}.pub"
        )
        assert code == 0, err
        assert read_certificate_info(tmp_path / "ann-cert.pub").class_id == room.class_id
        async with await _connect(state, key, tmp_path / "ann-cert.pub"):
            pass


async def test_a_bad_class_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from remote.window import CertificateAuthority

    CertificateAuthority.init(tmp_path / "ca")
    engineer_key(tmp_path / "ann", "ann@trainers")
    ca, key = str(tmp_path / "ca"), str(tmp_path / "ann.pub")
    grant = ("remote", "grant", "--ca", ca, "--terminal", "KSK-T01", "--key", key)
    code, out, err = await workbench(capsys, *grant, "--class", "class-b")
    assert (code, out) == (2, "")
    assert err.strip().splitlines() == [
        "workbench: error: --class(='class-b'): not a class id (like 20261202-1712-9f3c2a1b, "
        "the class_id in STATE/class.json) nor a class's state directory"
    ]
    (tmp_path / "empty").mkdir()
    code, out, err = await workbench(capsys, *grant, "--class", str(tmp_path / "empty"))
    assert (code, out) == (2, "")
    assert err.strip().splitlines() == [
        f"workbench: error: --class {tmp_path / 'empty'}: no class there (no class.json)"
    ]
    assert not (tmp_path / "ann-cert.pub").exists()  # no certificate from a refused grant


async def test_a_fault_injected_over_ssh_is_logged_under_the_windows_engineer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    key = tmp_path / "ann"
    engineer_key(key, "ann@trainers")
    async with Classroom(load("p3-paper-out"), state, 1, speed=60) as room:
        code, _, err = await workbench(
            capsys,
            *("remote", "grant", "--ca", str(room.live.ca_dir), "--state-dir", str(state)),
            *("--key", f"{key}.pub", "--allow", "diag,trainer"),
        )
        assert code == 0, err
        async with await _connect(state, key, tmp_path / "ann-cert.pub") as conn:
            done = await conn.run("fault inject display.no_signal", check=False)
            assert done.exit_status == 0, done.stdout
            done = await conn.run("fault clear display.no_signal", check=False)
            assert done.exit_status == 0, done.stdout
        control = json.loads((state / "KSK-T01" / "endpoints.json").read_text())["control"]
        log = (await request_async(control, "scenario.status"))["log"]
        assert [e["text"] for e in log if "by hand" in e["text"]] == [
            "fault display.no_signal injected by hand (ann@trainers)",
            "fault display.no_signal cleared by hand (ann@trainers)",
        ]
