"""Each checklist diagnostic against a running simulated kiosk: what it measures (with units),
that its stimuli leave the kiosk as they found it, what ``quick`` leaves out, and the suites."""

from __future__ import annotations

import time

import pytest
from diag_kiosk import Kiosk

from remote.diagnostics import run

pytestmark = pytest.mark.asyncio(loop_scope="module")


class CountingStimulus:
    """A stimulus that records what the tests asked for."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str]] = []

    async def act(self, device: str, action: str, *args: str) -> str:
        self.calls.append((device, action))
        return await self.inner.act(device, action, *args)  # type: ignore[attr-defined]


async def one(kiosk: Kiosk, test: str, **options: object) -> dict:
    result = (await run([test], kiosk.endpoints, stimulus=kiosk.control, **options))[0]  # type: ignore[arg-type]
    assert result.status == "pass", result
    return {k: v["value"] for k, v in result.measurements.items()} | {
        f"{k}.unit": v["unit"] for k, v in result.measurements.items()
    }


@pytest.mark.timeout(20)
async def test_power_and_exterior_read_the_modbus_maps(kiosk: Kiosk) -> None:
    m = await one(kiosk, "power")
    assert m["input_voltage"] == 230.0 and m["input_voltage.unit"] == "V"
    assert m["battery_charge.unit"] == "%" and 95 <= m["battery_charge"] <= 100
    assert 0 < m["load"] < 100 and m["battery_test"] in ("none", "passed")
    m = await one(kiosk, "exterior")
    assert m["door_closed"] is True and m["tamper"] is False and m["impact_count.unit"] == "impacts"


@pytest.mark.timeout(20)
async def test_touch_positioning_is_measured_in_pixels(kiosk: Kiosk) -> None:
    m = await one(kiosk, "touchscreen")
    assert m["targets_lost"] == 0 and m["max_position_error.unit"] == "px"
    assert m["max_position_error"] < 3.0
    await kiosk.control.request("fault.inject", id="touchscreen.calibration_drift")
    try:
        result = (await run(["touchscreen"], kiosk.endpoints, stimulus=kiosk.control))[0]
        error = result.measurements["max_position_error"]["value"]
        assert 13.0 < error < 17.0, result  # the model drifts 1.5 x the 10 px tolerance
    finally:
        await kiosk.control.request("fault.clear", id="touchscreen.calibration_drift")


@pytest.mark.timeout(20)
async def test_display_is_read_without_changing_what_customers_see(kiosk: Kiosk) -> None:
    before = (await kiosk.control.request("status"))["devices"]["display"]
    m = await one(kiosk, "display")
    assert m["brightness"] == before["brightness"] and m["power_mode"] == 1
    assert m["luminance.unit"] == "cd/m2" and 99 <= m["luminance_of_nominal"] <= 101
    after = (await kiosk.control.request("status"))["devices"]["display"]
    assert after["brightness"] == before["brightness"]


@pytest.mark.timeout(20)
async def test_test_notes_and_test_cards_are_handed_back(kiosk: Kiosk) -> None:
    before = (await kiosk.control.request("status"))["devices"]
    m = await one(kiosk, "bill_validator")
    assert m["test_notes"] >= 10 and m["test_note_reject_rate.unit"] == "%"
    m = await one(kiosk, "card_reader")
    assert m["track2_read_errors"] == 0 and m["atr_bytes"] > 0
    after = (await kiosk.control.request("status"))["devices"]
    assert (
        after["bill_validator"]["cash_box"]["level"]
        == before["bill_validator"]["cash_box"]["level"]
    )
    assert after["bill_validator"]["note"] is None
    assert (
        after["card_reader"]["position"] == "none" and after["card_reader"]["shutter"] == "closed"
    )
    assert after["card_reader"]["retained"] == before["card_reader"]["retained"]


@pytest.mark.timeout(20)
async def test_the_print_head_test_prints_a_pattern_and_reads_the_counters(kiosk: Kiosk) -> None:
    receipts = len(await kiosk.control.request("receipts"))
    m = await one(kiosk, "print_head")
    assert m["status"] == "ready" and m["head_distance_since_cleaning.unit"] == "m"
    assert m["test_pattern_lines"] >= 8
    printed = await kiosk.control.request("receipts")
    assert len(printed) == receipts + 1 and "PRINT HEAD TEST" in printed[-1]


@pytest.mark.timeout(20)
async def test_network_host_and_software_health(kiosk: Kiosk) -> None:
    m = await one(kiosk, "network")
    assert m["packet_loss"] == 0 and m["rtt_median.unit"] == "ms" and m["rtt_median"] < 300
    assert m["bandwidth"] > 1.0 and m["bandwidth.unit"] == "Mbit/s"
    m = await one(kiosk, "host_pc")
    assert m["fan_rpm"] > 0 and m["cpu_temp_c.unit"] == "degC"
    m = await one(kiosk, "system_software")
    assert m["services_running.unit"].startswith("of ")


@pytest.mark.timeout(20)
async def test_quick_uses_no_stimulus_and_prints_nothing(kiosk: Kiosk) -> None:
    stimulus = CountingStimulus(kiosk.control)
    receipts = len(await kiosk.control.request("receipts"))
    started = time.perf_counter()
    results = await run(["quick"], kiosk.endpoints, stimulus=stimulus)
    assert time.perf_counter() - started < 1.5
    assert all(r.status == "pass" for r in results), [r for r in results if r.status != "pass"]
    assert stimulus.calls == []
    assert len(await kiosk.control.request("receipts")) == receipts
    # a real terminal (no stimulus at all) gets the same status-only verdicts, said so
    real = {k: v for k, v in kiosk.endpoints.items() if k != "control"}
    touch = (await run(["touchscreen"], real))[0]
    assert touch.status == "pass" and "positioning not measured" in touch.detail


@pytest.mark.timeout(20)
async def test_a_device_missing_from_the_manifest_is_skipped(kiosk: Kiosk) -> None:
    devices = {k: v for k, v in kiosk.endpoints["devices"].items() if k != "card_reader"}
    result = (await run(["card_reader"], {**kiosk.endpoints, "devices": devices}))[0]
    assert result.status == "skip" and "no card_reader" in result.detail
