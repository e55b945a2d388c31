"""Remote remedies on a running simulated kiosk: every remote-fixable catalog fault is cleared by
its remedy, checked both by the re-run diagnostic and by the kiosk itself; every other fault is
refused with the on-site message; unknown names are refused before anything runs."""

from __future__ import annotations

import pytest
from diag_kiosk import Kiosk

from remote import remedies
from remote.diagnostics import catalog
from remote.diagnostics.base import LinkTimeout
from workbench.errors import ConfigError

pytestmark = pytest.mark.asyncio(loop_scope="module")

FIXABLE = sorted(f.id for f in catalog().values() if f.remote_fixable)
ON_SITE = sorted(f.id for f in catalog().values() if not f.remote_fixable)
OWNER = {"cash_box": "bill_validator"}


def present(kiosk: Kiosk, fault_id: str) -> None:
    device = catalog()[fault_id].device
    if OWNER.get(device, device) not in kiosk.devices():
        pytest.skip(f"the profile has no {device} yet")


async def active(kiosk: Kiosk) -> list[str]:
    status = await kiosk.control.request("status")
    return list(status["active_faults"])


@pytest.mark.timeout(30)
@pytest.mark.parametrize("fault_id", FIXABLE)
async def test_a_remote_fixable_fault_is_cleared_by_its_remedy(kiosk: Kiosk, fault_id: str) -> None:
    present(kiosk, fault_id)
    await kiosk.control.request("fault.inject", id=fault_id)
    try:
        outcome = await remedies.apply(fault_id, kiosk.endpoints, control=kiosk.control)
        assert outcome["action"] == catalog()[fault_id].remedy
        assert outcome["cleared"] is True, outcome
        assert outcome["result"]["status"] == "pass", outcome
        assert fault_id not in await active(kiosk)
        assert outcome["steps"]
    finally:
        await kiosk.control.request("fault.clear", id=fault_id)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("fault_id", ON_SITE)
async def test_a_fault_that_needs_hands_is_refused(kiosk: Kiosk, fault_id: str) -> None:
    outcome = await remedies.apply(fault_id, kiosk.endpoints, control=kiosk.control)
    assert outcome["refused"] is True and outcome["cleared"] is False
    assert "needs an engineer on site" in outcome["detail"]
    assert outcome["steps"] == []


@pytest.mark.timeout(30)
async def test_a_remedy_that_does_not_fix_the_fault_says_so(kiosk: Kiosk) -> None:
    # a safe jam is not what an SSP reset fixes: the validator comes back and still jams
    await kiosk.control.request("fault.inject", id="bill_validator.safe_jam")
    try:
        outcome = await remedies.apply(
            "bill_validator.reset", kiosk.endpoints, control=kiosk.control
        )
        assert outcome["cleared"] is False, outcome
        assert outcome["result"]["suspect"] == "bill_validator.safe_jam"
        assert "still reports bill_validator.safe_jam (on site" in outcome["detail"]
    finally:
        await kiosk.control.request("fault.clear", id="bill_validator.safe_jam")


@pytest.mark.timeout(30)
async def test_the_battery_test_runs_on_the_ups(kiosk: Kiosk) -> None:
    outcome = await remedies.apply("ups.battery_test", kiosk.endpoints, control=kiosk.control)
    assert any(step == "battery test passed" for step in outcome["steps"]), outcome
    assert outcome["result"]["measurements"]["battery_test"]["value"] == "passed"


@pytest.mark.timeout(10)
async def test_unknown_remedies_and_real_terminals(kiosk: Kiosk) -> None:
    with pytest.raises(ConfigError, match=r"no remedy 'printer\.explode'"):
        await remedies.apply("printer.explode", kiosk.endpoints)
    # a real terminal (no control plane): protocol remedies work, host actions say what is left
    real = {k: v for k, v in kiosk.endpoints.items() if k != "control"}
    outcome = await remedies.apply("ups.reset_comms", real)
    assert outcome["cleared"] is False
    assert "no host-action hook" in outcome["detail"]
    await kiosk.control.request("fault.inject", id="display.brightness_low")
    try:
        outcome = await remedies.apply("display.set_brightness", real)
        assert outcome["cleared"] is True, outcome
    finally:
        await kiosk.control.request("fault.clear", id="display.brightness_low")
    names = {r["name"] for r in remedies.describe()}
    assert {f.remedy for f in catalog().values() if f.remedy} <= names


@pytest.mark.timeout(30)
async def test_printer_reset_clears_a_parser_stuck_in_a_block(kiosk: Kiosk) -> None:
    # line noise left the printer inside a 60,000-byte QR block: every status query but DLE EOT
    # was swallowed as data until 64 KiB more arrived
    from remote.diagnostics.links import SerialLink
    from remote.diagnostics.print_head import EscPosHost

    path = kiosk.endpoints["devices"]["printer"]["serial"]
    async with SerialLink(path) as link:
        link.write(b"\x1d(k\x60\xea" + b"noise")
        host = EscPosHost(link, 0.5)
        with pytest.raises(LinkTimeout):
            await host.block(b"\x1dIC")
        assert await host.realtime(1) == set()  # real-time status still answers
    outcome = await remedies.apply("printer.reset", kiosk.endpoints, control=kiosk.control)
    assert "DLE DC4 8 sent: receive and print buffers cleared" in outcome["steps"]
    assert outcome["result"]["status"] == "pass", outcome
    async with SerialLink(path) as link:
        assert await EscPosHost(link, 0.5).block(b"\x1dIC") == "TM-T88V"
