"""What an admitted engineer can do: JSON-line commands, refused outside the window's groups,
no shell, pty or forwarding, and a transcript per session."""

from __future__ import annotations

import json

import asyncssh
import pytest
from remote_testkit import TERMINAL, Keys, agent_config, next_event
from static_backend import StaticBackend

from remote.agent import Agent
from remote.client import AgentClient, Endpoint

pytestmark = pytest.mark.timeout(20)


async def run(
    endpoint: Endpoint, keys: Keys, command: str, **grant: object
) -> tuple[list[dict], int | None]:
    async with AgentClient(endpoint, keys.identity(keys.cert(**grant))) as client:
        return await client.run(command)


async def test_status_and_diag_list_stream_json_lines(endpoint: Endpoint, keys: Keys) -> None:
    lines, status = await run(endpoint, keys, "status")
    assert status == 0 and lines == [{"event": "status", "terminal_state": "in_service"}]
    lines, status = await run(endpoint, keys, "diag list")
    assert status == 0
    assert [(x["event"], x["name"]) for x in lines][:2] == [
        ("diag", "printer"),
        ("diag", "validator"),
    ]


async def test_diag_run_streams_one_result_per_test_then_a_summary(
    endpoint: Endpoint, keys: Keys
) -> None:
    lines, status = await run(endpoint, keys, "diag run inspection")
    assert status == 0
    assert [x["event"] for x in lines] == ["result", "result", "summary"]
    assert lines[0]["measurements"]["latency_ms"] == {"value": 3.0, "unit": "ms"}
    assert lines[-1] == {"event": "summary", "pass": 2, "warn": 0, "fail": 0}


async def test_trainer_fault_makes_the_diagnostic_fail_with_exit_1(
    agent: Agent, endpoint: Endpoint, keys: Keys
) -> None:
    trainer = {"allow": ("diag", "trainer")}
    lines, status = await run(endpoint, keys, "fault inject printer.paper_out", **trainer)
    assert status == 0 and lines == [
        {"event": "fault_injected", "id": "printer.paper_out", "active": True}
    ]
    lines, status = await run(endpoint, keys, "diag run printer", **trainer)
    assert status == 1
    assert lines[0]["status"] == "fail" and lines[0]["suspect"] == "printer.paper_out"
    lines, status = await run(endpoint, keys, "fault clear printer.paper_out", **trainer)
    assert status == 0
    result = await next_event(agent, "result", command="diag run printer")
    assert result["exit_status"] == 1 and result["results"] == {"printer": "fail"}


async def test_only_a_trainer_sees_the_answer_key(
    agent: Agent, endpoint: Endpoint, keys: Keys
) -> None:
    """An engineer's grant sees what a real terminal shows: no injected faults in ``status`` and
    no trainer injections in ``logs``; a trainer's grant sees both."""
    trainer = {"allow": ("diag", "trainer")}
    await run(endpoint, keys, "fault inject printer.paper_out", **trainer)
    try:
        lines, _ = await run(endpoint, keys, "status", allow=("diag", "remedy"))
        assert "active_faults" not in lines[0]
        lines, _ = await run(endpoint, keys, "logs", allow=("diag",))
        assert [x["kind"] for x in lines] == ["paper_low", "on_battery"]
        lines, _ = await run(endpoint, keys, "status", **trainer)
        assert lines[0]["active_faults"] == ["printer.paper_out"]
        lines, _ = await run(endpoint, keys, "logs", **trainer)
        assert [x["kind"] for x in lines][-1] == "fault_inject"
    finally:
        await run(endpoint, keys, "fault clear printer.paper_out", **trainer)


async def test_command_outside_the_granted_groups_is_refused_and_audited(
    agent: Agent, endpoint: Endpoint, keys: Keys
) -> None:
    lines, status = await run(endpoint, keys, "remedy reset_validator", allow=("diag",))
    assert status == 3
    assert lines == [
        {
            "event": "error",
            "code": "refused",
            "error": "'remedy' needs the 'remedy' permission; this window allows diag",
        }
    ]
    rec = await next_event(agent, "result", command="remedy reset_validator")
    assert rec["exit_status"] == 3 and "needs the 'remedy' permission" in rec["error"]
    assert isinstance(agent.backend, StaticBackend) and agent.backend.remedies == []


async def test_remedy_and_logs(agent: Agent, endpoint: Endpoint, keys: Keys) -> None:
    lines, status = await run(endpoint, keys, "remedy reset_validator")
    assert status == 0 and lines[0]["cleared"] is True
    lines, status = await run(endpoint, keys, "logs --since 2")
    assert status == 0 and [x["kind"] for x in lines] == ["on_battery"]


async def test_a_remedy_that_does_not_clear_exits_1(
    agent: Agent, endpoint: Endpoint, keys: Keys
) -> None:
    # plain ssh saw exit 0 for a refused remedy; 'workbench remote remedy' exits 1 for it
    lines, status = await run(endpoint, keys, "remedy visit_only")
    assert status == 1 and lines[0]["cleared"] is False and lines[0]["refused"] is True
    rec = await next_event(agent, "result", command="remedy visit_only")
    assert rec["exit_status"] == 1


async def test_backend_error_is_a_json_line_not_a_crash(
    agent: Agent, endpoint: Endpoint, keys: Keys
) -> None:
    lines, status = await run(endpoint, keys, "remedy explode")
    assert status == 4
    assert lines == [
        {
            "event": "error",
            "code": "backend",
            "error": "the validator did not answer the reset",
            "kind": "DeviceError",
        }
    ]
    lines, status = await run(endpoint, keys, "status")  # the agent is still serving
    assert status == 0


async def test_a_name_the_terminal_does_not_know_is_a_bad_argument(
    agent: Agent, endpoint: Endpoint, keys: Keys
) -> None:
    lines, status = await run(endpoint, keys, "diag run nosuch")
    assert status == 2  # bad arguments, as the docs say: not 4, the backend failing
    assert lines[0]["event"] == "error" and lines[0]["code"] == "usage"
    assert "no diagnostic or suite 'nosuch'" in lines[0]["error"]
    lines, status = await run(endpoint, keys, "status")
    assert status == 0


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("reboot", "unknown command 'reboot'"),
        ("diag", "usage: diag list | diag run SUITE|TEST..."),
        ("diag run", "usage: diag list | diag run SUITE|TEST..."),
        ("logs --since yesterday", "usage: logs [--since UNIX_TIME]"),
        ("remedy", "usage: remedy ACTION"),
        ("status 'unclosed", "cannot parse command"),
    ],
)
async def test_unknown_commands_and_bad_arguments_exit_2(
    endpoint: Endpoint, keys: Keys, command: str, message: str
) -> None:
    lines, status = await run(endpoint, keys, command)
    assert status == 2
    assert lines[0]["code"] == "usage" and lines[0]["error"].startswith(message)


async def test_fault_injection_is_refused_on_a_real_terminal(keys: Keys) -> None:
    async with Agent(agent_config(keys), StaticBackend(simulated=False)) as agent:
        endpoint = Endpoint(TERMINAL, "127.0.0.1", agent.port)
        lines, status = await run(endpoint, keys, "fault list", allow=("diag", "trainer"))
    assert status == 3 and lines[0]["error"] == "fault injection exists only on simulated terminals"


async def test_no_shell_no_pty_no_forwarding(agent: Agent, endpoint: Endpoint, keys: Keys) -> None:
    async with AgentClient(endpoint, keys.identity(keys.cert())) as client:
        conn = client._conn
        assert conn is not None
        async with conn.create_process(encoding="utf-8") as shell:  # no command: a shell request
            out = await shell.stdout.read()
            await shell.wait_closed()
        assert shell.exit_status == 2 and "no shell" in json.loads(out.splitlines()[0])["error"]
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.create_process("status", term_type="xterm")
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.open_connection("127.0.0.1", agent.port)
        with pytest.raises(asyncssh.ChannelListenError):
            await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 22)


async def test_each_session_leaves_a_transcript(
    agent: Agent, endpoint: Endpoint, keys: Keys
) -> None:
    await run(endpoint, keys, "diag run quick")
    rec = await next_event(agent, "result", command="diag run quick")
    transcript = (agent.sessions_dir / f"{rec['session']}.jsonl").read_text().splitlines()
    head, *body = (json.loads(x) for x in transcript)
    assert head["command"] == "diag run quick" and head["engineer"] == "alice@support"
    assert [x["event"] for x in body] == ["result", "summary"]


async def test_kiosk_extra_starts_an_agent_and_adds_it_to_the_manifest(keys: Keys) -> None:
    from types import SimpleNamespace

    from scenarios.wiring import kiosk_extra

    extra = kiosk_extra(keys.ca.dir, lambda kiosk, terminal: StaticBackend())
    manifest: dict = {"terminal": TERMINAL, "devices": {}}
    close = await extra(SimpleNamespace(state_dir=keys.dir / "kiosks"), object(), manifest)
    try:
        host, port = manifest["agent"].rsplit(":", 1)
        endpoint = Endpoint(TERMINAL, host, int(port))
        lines, status = await run(endpoint, keys, "status")
        assert status == 0 and lines[0]["event"] == "status"
    finally:
        await close()
    assert (keys.dir / "kiosks" / TERMINAL / "agent" / "audit.jsonl").exists()
