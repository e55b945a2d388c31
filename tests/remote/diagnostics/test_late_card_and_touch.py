"""Never blame the device for the simulator's load, for the card reader and the touch controller:
every reply late (a latency toxic on the kiosk's own wire), but within a host's retries, still
passes the full checks (the card pass and the touch positioning) with nothing suspected, and a
command that changes the device is carried out once however late its reply; a device that does
not answer at all is still reported silent after its tries.

Queries are sent again on each time-out; the card reader's other commands have their reply
asked for again with a NAK, and the touch controller's are sent once and waited for longer
(``devices/protocols/hosts/card_reader.py`` and ``touch.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from diag_kiosk import Kiosk, busy, fault

from devices.protocols.hosts import card_reader, touch
from remote import remedies
from remote.diagnostics import run

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(50)]
TIMEOUT_S = 0.25
"""The host's reply timeout in these tests (a quarter of a second keeps them short)."""
LATE_MS = 600
"""How late every reply comes: past two tries' worth of timeouts, within the retries'."""


def events(kiosk: Kiosk, device: str, since: int) -> list[str]:
    """The kinds of the device's log records from index ``since`` on."""
    return [text.split(" ", 1)[0] for _, text in kiosk.terminal.devices[device].log[since:]]


async def late(kiosk: Kiosk, device: str, coro: Any) -> Any:
    async with busy(kiosk, device, LATE_MS):
        return await coro


async def test_a_card_reader_that_answers_late_passes_and_ejects_the_card_once(
    kiosk: Kiosk,
) -> None:
    assert 2 * TIMEOUT_S * 1000 < LATE_MS < (card_reader.RETRIES + 1) * TIMEOUT_S * 1000
    stim = {"stimulus": kiosk.control, "timeout_s": TIMEOUT_S}
    [clean] = await run(["card_reader"], kiosk.endpoints, **stim)
    assert (clean.status, clean.suspect) == ("pass", None), clean
    assert clean.measurements["track2_read_errors"]["value"] == 0
    since = len(kiosk.terminal.devices["card_reader"].log)
    [result] = await late(kiosk, "card_reader", run(["card_reader"], kiosk.endpoints, **stim))
    assert (result.status, result.suspect) == ("pass", None), result
    assert result.measurements == clean.measurements
    log = events(kiosk, "card_reader", since)
    # the card was drawn in, ejected and taken once: no command that moves it was carried twice
    assert log.count("card_ejected") == 1, log
    assert "negative_reply" not in log, log


async def test_a_silent_card_reader_is_still_reported_after_its_tries(kiosk: Kiosk) -> None:
    async with fault(kiosk, "card_reader.no_response"):
        [result] = await run(["card_reader"], kiosk.endpoints, timeout_s=TIMEOUT_S)
    assert (result.status, result.suspect) == ("fail", "card_reader.no_response"), result
    assert result.detail == (
        "card_reader does not answer: no ACK or reply to command 10 "
        f"({card_reader.RETRIES + 1} tries of {TIMEOUT_S:g} s)"
    )


@pytest.mark.parametrize(
    ("device", "fault_id"),
    [("card_reader", "card_reader.no_response"), ("touchscreen", "touchscreen.unresponsive")],
)
async def test_the_late_replies_of_one_session_are_not_taken_by_the_next(
    kiosk: Kiosk, device: str, fault_id: str
) -> None:
    """A status check answered late, then the device goes silent: the next check calls it
    silent, not healthy on a late reply left over from the first (each session reads the
    replies owed to its tries before it ends)."""
    [first] = await late(kiosk, device, run([device], kiosk.endpoints, timeout_s=TIMEOUT_S))
    assert (first.status, first.suspect) == ("pass", None), first
    async with fault(kiosk, fault_id):
        [second] = await run([device], kiosk.endpoints, timeout_s=TIMEOUT_S)
    assert (second.status, second.suspect) == ("fail", fault_id), second


async def test_a_touchscreen_that_answers_late_passes_its_positioning_check(
    kiosk: Kiosk,
) -> None:
    assert 2 * TIMEOUT_S * 1000 < LATE_MS < (touch.RETRIES + 1) * TIMEOUT_S * 1000
    stim = {"stimulus": kiosk.control, "timeout_s": TIMEOUT_S}
    [clean] = await run(["touchscreen"], kiosk.endpoints, **stim)
    assert (clean.status, clean.suspect) == ("pass", None), clean
    [result] = await late(kiosk, "touchscreen", run(["touchscreen"], kiosk.endpoints, **stim))
    # every target's touch is seen before its fence's own reply, never a late one of an earlier try
    assert (result.status, result.suspect) == ("pass", None), result
    assert result.measurements["targets_lost"]["value"] == 0
    for name in ("firmware", "controller", "calibration", "max_position_error"):
        assert result.measurements[name] == clean.measurements[name]


async def test_a_silent_touchscreen_is_still_reported_after_its_tries(kiosk: Kiosk) -> None:
    async with fault(kiosk, "touchscreen.unresponsive"):
        [result] = await run(["touchscreen"], kiosk.endpoints, timeout_s=TIMEOUT_S)
    assert (result.status, result.suspect) == ("fail", "touchscreen.unresponsive"), result
    assert result.detail == (
        f"touchscreen does not answer: no reply to 'A' ({touch.RETRIES + 1} tries of {TIMEOUT_S:g} s)"
    )


async def test_remedies_that_change_the_device_run_once_when_its_replies_are_late(
    kiosk: Kiosk,
) -> None:
    """Initialise (card reader) and recalibrate (touch) are not sent again: each is carried out
    once, its late reply is still heard, and no power cycle is called for."""
    for action, device, kind in (
        ("card_reader.reinit", "card_reader", "initialised"),
        ("touchscreen.recalibrate", "touchscreen", "calibrated"),
    ):
        since = len(kiosk.terminal.devices[device].log)
        steps = remedies.Steps(kiosk.endpoints, kiosk.control, TIMEOUT_S)
        await late(kiosk, device, remedies.REMEDIES[action].run(steps))
        log = events(kiosk, device, since)
        assert log.count(kind) == 1, (action, log)
        assert not any(step.startswith("host:") for step in steps.done), steps.done
        assert steps.done[0] in ("initialise: P", "recalibration (C) done"), steps.done
