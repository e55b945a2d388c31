"""A real terminal's agent with no user code: ``workbench agent --config`` with a ``devices``
map (serial ports, Modbus units, the application's health endpoint, ``host_pc: {http: psutil}``),
run in an interpreter where simpy cannot even be imported. A simulated kiosk in this process
stands in for the hardware; the agent knows only its ports."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
import yaml
from diag_kiosk import fast_profile
from remote_testkit import TERMINAL, Keys

from devices.kiosk import KioskHost
from remote.client import AgentClient, Endpoint
from remote.window import issue_host_identity

ROOT = Path(__file__).resolve().parents[3]
NO_SIMULATOR = (
    "import sys; sys.modules['simpy'] = None\n"  # as on a terminal that never installed it
    "from remote.cli import main; main()\n"
)


def agent_yaml(keys: Keys, devices: object) -> Path:
    host_key, host_cert = issue_host_identity(keys.ca.dir, TERMINAL, keys.dir / "host")
    config = {
        "terminal": TERMINAL,
        "user_ca": str(keys.ca.dir / "user_ca.pub"),
        "host_key": str(host_key),
        "host_cert": str(host_cert),
        "state_dir": str(keys.dir / "agent-state"),
        "devices": devices,
    }
    path = keys.dir / "agent.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


async def start_agent(config: Path) -> tuple[asyncio.subprocess.Process, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", NO_SIMULATOR, "agent", "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 45)
    if not line:
        raise AssertionError((await proc.stderr.read()).decode())
    return proc, int(json.loads(line)["agent"].rpartition(":")[2])


@pytest.mark.timeout(60)  # an agent subprocess starting on a loaded 2-core machine
async def test_a_real_terminal_agent_needs_no_user_code_and_no_simulator(keys: Keys) -> None:
    async with KioskHost(keys.dir / "hw", fast_profile(keys.dir), [TERMINAL], speed=30) as hw:
        ports = hw.endpoints[TERMINAL]["devices"]
        devices = {name: ports[name] for name in ("bill_validator", "card_reader", "ups")}
        devices["system_software"] = ports["system_software"]  # the application's /health
        devices["host_pc"] = {"http": "psutil"}  # this machine's own sensors
        proc, port = await start_agent(agent_yaml(keys, devices))
        try:
            ident = keys.identity(keys.cert(allow=("diag", "remedy", "trainer")))
            async with AgentClient(Endpoint(TERMINAL, "127.0.0.1", port), ident) as client:
                lines, status = await client.run("diag run quick")
                results = {x["test"]: x for x in lines if x["event"] == "result"}
                assert {t for t, r in results.items() if r["status"] != "skip"} == {
                    "power", "card_reader", "bill_validator", "cash_box", "host_pc",
                    "system_software",
                }  # fmt: skip
                for test in ("power", "card_reader", "bill_validator", "system_software"):
                    assert results[test]["status"] == "pass", results[test]
                host = results["host_pc"]
                assert host["measurements"]["uptime_s"]["value"] > 0
                assert "not measured by psutil" in host["detail"]  # SMART, clock offset
                lines, status = await client.run("status")
                assert status == 0 and lines[0]["simulated"] is False
                assert "active_faults" not in lines[0]  # a trainer grant, but nothing to show
                lines, status = await client.run("fault list")
                assert status == 3 and "only on simulated terminals" in lines[0]["error"]
        finally:
            proc.terminate()
            await proc.wait()


@pytest.mark.parametrize(
    ("devices", "message"),
    [
        (
            None,
            "devices: name this terminal's devices and their ports "
            "(or backend: module:callable for a backend of your own)",
        ),
        (
            {"printer": {"usb": "/dev/usb/lp0"}},
            "devices.printer.usb: unknown port kind; kinds: serial, tcp, modbus, http",
        ),
        ({"printer": {"serial": "ttyUSB0"}}, "devices.printer.serial(='ttyUSB0') must be absolute"),
    ],
)
async def test_a_bad_devices_map_is_a_one_line_error(
    keys: Keys, devices: object, message: str
) -> None:
    config = agent_yaml(keys, devices)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", NO_SIMULATOR, "agent", "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 45)
    assert proc.returncode != 0 and out == b""
    assert err.decode().strip().splitlines() == [f"error: {config}: {message}"]
