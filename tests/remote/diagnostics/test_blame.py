"""Who is to blame: a test that cannot reach its control plane or its port is an ``error`` of the
test with no suspect, never a device fault; the host's own load is not charged to a device."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest
from diag_kiosk import TERMINAL, Kiosk, fast_profile

from devices.kiosk import KioskHost
from remote.diagnostics import run
from remote.diagnostics.base import wait_for_device
from remote.diagnostics.control import ControlClient
from remote.terminal_backend import TerminalBackend
from workbench.errors import ConfigError

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.timeout(30)
async def test_an_unreachable_control_plane_is_an_error_of_the_test(
    kiosk: Kiosk, tmp_path: Path
) -> None:
    # `kiosk up --state-dir rel` once wrote a relative control path; run from elsewhere, the
    # stimuli failed and three healthy devices were failed with confident, wrong faults
    nowhere = ControlClient(tmp_path / "no-such-kiosk" / "control.sock")
    results = await run(["inspection"], kiosk.endpoints, stimulus=nowhere)
    errors = {r.test: r for r in results if r.status == "error"}
    assert set(errors) == {"touchscreen", "card_reader", "bill_validator"}, results
    assert all(r.suspect is None and r.remedy is None for r in errors.values())
    assert all("not tested" in r.detail and "control socket" in r.detail for r in errors.values())
    assert all(r.status in ("pass", "skip") for r in results if r.test not in errors), results


@pytest.mark.timeout(30)
async def test_an_unreachable_port_is_an_error_of_the_test(kiosk: Kiosk) -> None:
    devices = dict(kiosk.endpoints["devices"])
    devices["card_reader"] = {"serial": "/dev/pts/no-such-pty"}
    devices["host_pc"] = {"http": "127.0.0.1:1"}  # nothing listens on port 1
    devices["ups"] = {"modbus": "127.0.0.1:1"}
    broken = {**kiosk.endpoints, "devices": devices}
    results = {r.test: r for r in await run(["quick"], broken)}
    for test in ("card_reader", "host_pc", "power"):
        assert results[test].status == "error", results[test]
        assert results[test].suspect is None and "not tested" in results[test].detail


async def test_a_busy_host_is_not_charged_to_the_device() -> None:
    loop = asyncio.get_running_loop()

    async def answers_after(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "answer"

    def hog(until: float) -> None:  # the host busy with other work: the loop runs late
        time.sleep(0.12)
        if time.monotonic() < until:
            loop.call_soon(hog, until)

    hog(time.monotonic() + 1.0)
    assert await wait_for_device(answers_after(0.8), 0.3) == "answer"
    started = loop.time()
    with pytest.raises(TimeoutError):  # a silent device still times out, on an idle host
        await wait_for_device(asyncio.Event().wait(), 0.3)
    assert 0.3 <= loop.time() - started < 1.0


@pytest.mark.timeout(30)
async def test_manifests_hold_absolute_paths(tmp_path: Path) -> None:
    here = os.getcwd()
    os.chdir(tmp_path)
    try:  # kiosk up --state-dir rel
        async with KioskHost("rel", fast_profile(tmp_path), [TERMINAL], speed=50) as host:
            path = host.manifest_path(TERMINAL)
            manifest = json.loads(path.read_text())
    finally:
        os.chdir(here)
    assert path.is_absolute() and Path(manifest["control"]).is_absolute()
    assert manifest["control"] == str(tmp_path / "rel" / TERMINAL / "control.sock")
    relative = tmp_path / "old.json"
    relative.write_text(json.dumps({**manifest, "control": "rel/KSK/control.sock"}))
    with pytest.raises(
        ConfigError, match=r"control\(='rel/KSK/control.sock'\) must be an absolute"
    ):
        TerminalBackend.from_file(relative)
