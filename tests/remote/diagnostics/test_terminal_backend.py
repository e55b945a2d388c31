"""The terminal backend behind a real agent on a simulated kiosk (asyncssh on 127.0.0.1), its
control-socket trainer for a kiosk in another process, and the view of a real terminal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from diag_kiosk import TERMINAL, fast_profile

from devices.kiosk import KioskHost
from remote.backend import Backend
from remote.client import AgentClient, Endpoint
from remote.terminal_backend import TerminalBackend
from scenarios.wiring import kiosk_backend, kiosk_extra
from workbench.errors import RemoteError


@pytest.mark.timeout(40)
async def test_an_engineer_diagnoses_and_fixes_a_simulated_kiosk_over_ssh(keys) -> None:  # type: ignore[no-untyped-def]
    profile = fast_profile(keys.dir)
    extra = kiosk_extra(keys.ca.dir, kiosk_backend)
    async with KioskHost(
        keys.dir / "kiosks", profile, [TERMINAL], speed=50, extras=[extra]
    ) as host:
        manifest = host.endpoints[TERMINAL]
        h, port = manifest["agent"].rsplit(":", 1)
        ident = keys.identity(keys.cert([TERMINAL], allow=("diag", "remedy", "trainer")))
        async with AgentClient(Endpoint(TERMINAL, h, int(port)), ident) as client:
            lines, status = await client.run("fault inject card_reader.shutter_stuck")
            assert status == 0, lines
            lines, status = await client.run("status")  # read live, before any diag run
            assert lines[0]["now"]["card_reader"] == {
                "status": "fail",
                "suspect": "card_reader.shutter_stuck",
            }
            assert lines[0]["suspects"] == ["card_reader.shutter_stuck"]
            assert lines[0]["now"]["print_head"]["status"] == "pass"
            lines, status = await client.run("diag run device:card_reader")
            results = [x for x in lines if x["event"] == "result"]
            assert [(r["test"], r["status"], r["suspect"]) for r in results] == [
                ("card_reader", "fail", "card_reader.shutter_stuck")
            ]
            assert results[0]["remedy"] == "remote: remedy card_reader.reinit"
            lines, status = await client.run("remedy card_reader.reinit")
            remedy = next(x for x in lines if x["event"] == "remedy")
            assert remedy["cleared"] is True, remedy
            assert any(
                step.startswith("host: card reader power cycled") for step in remedy["steps"]
            )
            lines, status = await client.run("remedy printer.paper_jam")
            remedy = next(x for x in lines if x["event"] == "remedy")
            assert remedy["refused"] is True and "needs an engineer on site" in remedy["detail"]
            lines, status = await client.run("diag run inspection")
            results = [x for x in lines if x["event"] == "result"]
            assert len(results) == 11 and all(r["status"] == "pass" for r in results), results
            lines, status = await client.run("status")
            assert status == 0 and lines[0]["active_faults"] == []
            assert lines[0]["last_results"]["card_reader"]["status"] == "pass"
            lines, status = await client.run("logs")
            kinds = [x.get("kind") for x in lines]
            assert "remedy" in kinds and "fault_inject" in kinds and kinds.count("diag") == 12
        host.terminals[TERMINAL].inject("printer.paper_out")
        engineer = keys.identity(keys.cert([TERMINAL], allow=("diag",), name="engineer"))
        async with AgentClient(Endpoint(TERMINAL, h, int(port)), engineer) as client:
            lines, status = await client.run("status")  # what a real terminal would show
            assert "active_faults" not in lines[0]
            assert lines[0]["now"]["print_head"]["suspect"] == "printer.paper_out"
            lines, status = await client.run("logs")
            assert "fault_inject" not in [x.get("kind") for x in lines]


@pytest.mark.timeout(30)
async def test_the_control_socket_trainer_and_a_real_terminal(state_dir: Path) -> None:
    async with KioskHost(state_dir, fast_profile(state_dir), [TERMINAL], speed=50) as host:
        path = host.manifest_path(TERMINAL)
        backend = TerminalBackend.from_file(path)
        assert isinstance(backend, Backend) and backend.simulated
        # a kiosk in another process: blocking socket calls (here from a thread, as the kiosk
        # shares this test's event loop)
        await asyncio.to_thread(backend.fault_inject, "display.panel_off")
        faults = await asyncio.to_thread(backend.fault_list)
        assert {f["id"] for f in faults if f["active"]} == {"display.panel_off"}
        results = [r async for r in backend.diag_run(["display"])]
        assert results[0]["suspect"] == "display.panel_off"
        outcome = await backend.remedy("display.power_on")
        assert outcome["cleared"] is True and host.terminals[TERMINAL].active_faults() == []

        real_manifest = {k: v for k, v in json.loads(path.read_text()).items() if k != "control"}
        real = TerminalBackend(real_manifest)
        assert not real.simulated
        with pytest.raises(RemoteError, match="real terminal"):
            real.fault_inject("display.panel_off")
        results = [r async for r in real.diag_run(["quick"])]
        assert all(r["status"] == "pass" for r in results), results
        with pytest.raises(Exception, match="no diagnostic or suite"):
            [r async for r in real.diag_run(["teapot"])]


@pytest.mark.timeout(40)
async def test_status_and_logs_never_wait_behind_a_device_test(keys) -> None:  # type: ignore[no-untyped-def]
    # status over SSH waited 53 s behind another session's diag run bill_validator at speed 1
    extra = kiosk_extra(keys.ca.dir, kiosk_backend)
    async with KioskHost(
        keys.dir / "kiosks", "bill_payment", [TERMINAL], speed=1, extras=[extra]
    ) as host:
        h, port = host.endpoints[TERMINAL]["agent"].rsplit(":", 1)
        endpoint = Endpoint(TERMINAL, h, int(port))
        ident = keys.identity(keys.cert([TERMINAL]))
        seen: dict[str, list[dict]] = {"a": [], "b": []}
        queued = asyncio.Event()

        async def diag(name: str) -> None:
            async with AgentClient(endpoint, ident) as client:
                async for line in client.stream("diag run bill_validator"):
                    seen[name].append(line)
                    if line["event"] == "queued":
                        queued.set()

        runs = [asyncio.create_task(diag("a")), asyncio.create_task(diag("b"))]
        try:
            await asyncio.wait_for(queued.wait(), 20)
            line = next(x for x in seen["a"] + seen["b"] if x["event"] == "queued")
            assert line["message"] == (
                "bill_validator busy, bill_validator queued behind bill_validator"
            )
            async with AgentClient(endpoint, ident) as client:
                (status,), code = await client.run("status")
                _, log_code = await client.run("logs")
            # both diagnostics are still running: status did not wait for either
            assert not any(x["event"] == "summary" for x in seen["a"] + seen["b"])
            assert code == log_code == 0
            assert status["now"]["bill_validator"] == {
                "status": "busy",
                "behind": "bill_validator",
                "suspect": None,
            }
            assert status["now"]["print_head"]["status"] == "pass"
        finally:
            for run in runs:
                run.cancel()
            await asyncio.gather(*runs, return_exceptions=True)
