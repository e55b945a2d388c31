"""The coverage test: the catalog, the simulators and the diagnostics agree.

On a healthy simulated kiosk every checklist diagnostic passes. For every catalog fault, once
injected, the diagnostic the catalog names fails or warns naming exactly that fault, and no
other diagnostic raises an alarm (a test that cannot check its item because its device is
silent says ``skip``); once cleared, the detecting diagnostic passes again.
"""

from __future__ import annotations

import pytest
from diag_kiosk import Kiosk

from remote.diagnostics import catalog, run
from workbench.sla import CHECKLIST

pytestmark = pytest.mark.asyncio(loop_scope="module")

FAULTS = sorted(catalog())
OWNER = {"cash_box": "bill_validator"}


def summary(results: list) -> str:
    return "; ".join(
        f"{r.test}={r.status}:{r.suspect} ({r.detail[:80]})" for r in results if r.status != "pass"
    )


@pytest.mark.timeout(30)
async def test_a_healthy_kiosk_passes_every_checklist_item(kiosk: Kiosk) -> None:
    results = await run(["inspection"], kiosk.endpoints, stimulus=kiosk.control)
    assert [r.test for r in results] == [name for name, _ in CHECKLIST]
    absent = [r for r in results if r.status == "skip"]
    assert all("the terminal has no" in r.detail for r in absent), summary(absent)
    assert all(r.status == "pass" for r in results if r not in absent), summary(results)
    assert all(r.suspect is None for r in results)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("fault_id", FAULTS)
async def test_each_fault_is_named_by_its_diagnostic_alone(kiosk: Kiosk, fault_id: str) -> None:
    mode = catalog()[fault_id]
    if OWNER.get(mode.device, mode.device) not in kiosk.devices():
        pytest.skip(f"the profile has no {mode.device} yet")
    await kiosk.control.request("fault.inject", id=fault_id)
    try:
        results = {
            r.test: r for r in await run(["inspection"], kiosk.endpoints, stimulus=kiosk.control)
        }
        found = results[mode.diagnostic]
        assert found.status in ("fail", "warn"), summary(list(results.values()))
        assert found.suspect == fault_id, summary(list(results.values()))
        assert found.remedy
        others = [
            r
            for t, r in results.items()
            if t != mode.diagnostic and r.status not in ("pass", "skip")
        ]
        assert not others, summary(others)
        skipped = [r for t, r in results.items() if t != mode.diagnostic and r.status == "skip"]
        assert all(
            "does not answer" in r.detail or "the terminal has no" in r.detail for r in skipped
        ), summary(skipped)
    finally:
        await kiosk.control.request("fault.clear", id=fault_id)
    again = (await run([mode.diagnostic], kiosk.endpoints, stimulus=kiosk.control))[0]
    assert again.status == "pass", summary([again])
