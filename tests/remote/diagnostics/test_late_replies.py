"""Never blame the device for the simulator's load: a validator whose replies come late (a busy
machine), but within the host's retries of the same packet, passes the validator and cash box
checks with nothing suspected; one that does not answer at all is still reported silent. The
same for the display's DDC/CI reads.

The replies are made late on the kiosk's own wire (a downstream latency toxic on its pty), so
the real device answers the retries from its retry cache and the late replies to earlier
packets arrive while the host waits for the next command's answer."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import pytest
from diag_kiosk import Kiosk, busy, fault

from devices.protocols.hosts.ddc import RETRIES as DDC_RETRIES
from devices.protocols.hosts.ssp import RETRIES
from devices.protocols.ssp import decode_frame
from devices.protocols.ssp_messages import Command
from remote import remedies
from remote.diagnostics import run
from remote.diagnostics.links import REAL_LINKS, ByteLink
from workbench.errors import ProtocolError

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(45)]
TIMEOUT_S = 0.25
"""The host's reply timeout in these tests (a quarter of a second keeps them short)."""
LATE_MS = 600
"""How late every reply comes: past two tries' worth of timeouts, within the retries'."""
TESTS = ["bill_validator", "cash_box"]


async def test_a_validator_that_answers_late_is_not_a_fault(kiosk: Kiosk) -> None:
    assert 2 * TIMEOUT_S * 1000 < LATE_MS < (RETRIES + 1) * TIMEOUT_S * 1000
    clean = {r.test: r for r in await run(TESTS, kiosk.endpoints, timeout_s=TIMEOUT_S)}
    assert [(r.status, r.suspect) for r in clean.values()] == [("pass", None)] * 2, clean
    async with busy(kiosk, "bill_validator", LATE_MS):
        late = {r.test: r for r in await run(TESTS, kiosk.endpoints, timeout_s=TIMEOUT_S)}
    assert [(r.status, r.suspect) for r in late.values()] == [("pass", None)] * 2, late
    bv = late["bill_validator"].measurements
    # it did answer late, and the round trip is to its answer, not to the last late reply read
    assert LATE_MS <= bv["sync_round_trip"]["value"] < LATE_MS + 1.5 * TIMEOUT_S * 1000
    assert bv["serial_number"] == clean["bill_validator"].measurements["serial_number"]
    in_box = [r["cash_box"].measurements["notes_in_cash_box"] for r in (clean, late)]
    assert in_box[0] == in_box[1]


async def test_the_next_sessions_sync_is_answered_by_its_own_reply(kiosk: Kiosk) -> None:
    """The cash box check ends with GET COUNTERS, flag set, answered late: the replies to its
    retries are still on the line when the validator check's SYNC (flag set too) goes out. Its
    round trip is its own reply's, not a leftover's (before: about one timeout)."""
    async with busy(kiosk, "bill_validator", LATE_MS):
        results = await run(["cash_box", "bill_validator"], kiosk.endpoints, timeout_s=TIMEOUT_S)
    assert [(r.test, r.status, r.suspect) for r in results] == [
        ("cash_box", "pass", None),
        ("bill_validator", "pass", None),
    ], results
    assert results[1].measurements["sync_round_trip"]["value"] >= LATE_MS


async def test_a_silent_validator_is_still_reported_after_its_retries(kiosk: Kiosk) -> None:
    async with fault(kiosk, "bill_validator.no_response"):
        results = {r.test: r for r in await run(TESTS, kiosk.endpoints, timeout_s=TIMEOUT_S)}
    bv = results["bill_validator"]
    assert (bv.status, bv.suspect) == ("fail", "bill_validator.no_response"), bv
    assert bv.detail.startswith("bill_validator does not answer: validator silent to command 0x")
    assert bv.detail.endswith(f" ({RETRIES + 1} tries of {TIMEOUT_S:g} s)")
    assert results["cash_box"].status == "skip"  # the validator check names the fault


async def test_a_display_woken_from_standby_is_read_again_not_from_a_late_reply(
    kiosk: Kiosk,
) -> None:
    """A display in standby answers Get VCP 0xD6 late: the check sets it on and reads 0xD6 again.
    That second read must be the display's answer, not a late reply to the first read's earlier
    tries (still 'standby': the display was failed as having no video signal). What a session
    that gave up leaves on the line (the test below) is read past by the next one:
    test_display_leftovers.py."""
    from devices.protocols import mccs

    display = kiosk.terminal.devices["display"]
    display.set_vcp(mccs.VCP_POWER_MODE, mccs.POWER_STANDBY)
    kiosk.terminal.add_toxic("display", "latency", name="busy", attributes={"latency": LATE_MS})
    try:
        [result] = await run(["display"], kiosk.endpoints, timeout_s=TIMEOUT_S)
    finally:
        kiosk.terminal.remove_toxic("display", "busy")
        display.set_vcp(mccs.VCP_POWER_MODE, mccs.POWER_ON)
    assert (result.status, result.suspect) == ("pass", None), result
    assert result.measurements["power_mode"]["value"] == mccs.POWER_ON


async def test_a_display_that_answers_late_is_not_a_fault_and_a_silent_one_is(
    kiosk: Kiosk,
) -> None:
    """The same for the display's DDC/CI: Get VCP Feature is a read, sent again on no reply."""
    clean = (await run(["display"], kiosk.endpoints, timeout_s=TIMEOUT_S))[0]
    assert (clean.status, clean.suspect) == ("pass", None), clean
    for late_ms in (LATE_MS, 5000):
        async with busy(kiosk, "display", late_ms):
            [result] = await run(["display"], kiosk.endpoints, timeout_s=TIMEOUT_S)
        if late_ms == LATE_MS:  # late, within the retries
            assert (result.status, result.suspect) == ("pass", None), result
            for name in ("power_mode", "brightness", "luminance"):
                assert result.measurements[name] == clean.measurements[name]
        else:  # past every try: silent, said as such
            assert result.status == "fail", result
            assert result.detail == (
                f"display does not answer: no reply to Get VCP 0xD6 "
                f"({DDC_RETRIES + 1} tries of {TIMEOUT_S:g} s)"
            )


async def test_the_reset_remedy_waits_for_a_validator_whose_reset_reply_is_late(
    kiosk: Kiosk,
) -> None:
    """RESET's reply comes after the host's one wait: the RESET is not sent again and no power
    cycle is called for; the host SYNCs until the unit answers and reads SLAVE RESET in its first
    poll. Before: 'validator silent to SSP: power cycle needed', and the unit restarted twice."""
    validator = kiosk.terminal.devices["bill_validator"]
    await kiosk.control.request("fault.inject", id="bill_validator.fraud_attempt")
    since = len(validator.log)
    steps = remedies.Steps(kiosk.endpoints, kiosk.control, TIMEOUT_S)
    kiosk.terminal.add_toxic(
        "bill_validator", "latency", name="busy", attributes={"latency": LATE_MS}
    )
    try:
        await remedies.REMEDIES["bill_validator.reset"].run(steps)
    finally:
        kiosk.terminal.remove_toxic("bill_validator", "busy")
        active = (await kiosk.control.request("status"))["active_faults"]
        if "bill_validator.fraud_attempt" in active:
            await kiosk.control.request("fault.clear", id="bill_validator.fraud_attempt")
    assert steps.done == [
        f"SSP RESET sent: no reply in {TIMEOUT_S:g} s (not repeated blindly)",
        "validator answers again: SLAVE RESET reported (it restarted)",
    ]
    kinds = [text.split(" ", 1)[0] for _, text in validator.log[since:]]
    assert kinds.count("reset") == 1, kinds
    assert "bill_validator.fraud_attempt" not in active


T = TypeVar("T")


class _LosesFirstReset:
    """The real links, but the validator's line loses the first SSP RESET the host writes: a drop
    toxic on the kiosk's wire (upstream, every byte) while that packet crosses, removed as the
    host's next packet goes out. Every other packet, and every reply, crosses as usual."""

    def __init__(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk
        self.dropping = False
        self.lost = 0

    def serial(self, path: str) -> ByteLink:
        return _Line(REAL_LINKS.serial(path), self)

    def __getattr__(self, name: str) -> Any:  # tcp, modbus, http_get, connect: as they are
        return getattr(REAL_LINKS, name)

    def before_write(self, data: bytes) -> None:
        if self.dropping:
            self.kiosk.terminal.remove_toxic("bill_validator", "lost")
            self.dropping = False
        try:
            reset = decode_frame(data).data == bytes([Command.RESET])
        except ProtocolError:
            reset = False
        if reset and not self.lost:
            self.kiosk.terminal.add_toxic(
                "bill_validator", "drop", name="lost", stream="upstream", attributes={"rate": 1}
            )
            self.dropping, self.lost = True, 1


class _Line:
    def __init__(self, link: ByteLink, links: _LosesFirstReset) -> None:
        self.link, self.links, self.path = link, links, link.path

    async def __aenter__(self) -> Self:
        await self.link.__aenter__()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.link.__aexit__(et, e, tb)

    def write(self, data: bytes) -> None:
        self.links.before_write(data)
        self.link.write(data)

    def drain_input(self) -> bytes:
        return self.link.drain_input()

    async def until(self, feed: Callable[[bytes], T | None], timeout: float) -> T:
        return await self.link.until(feed, timeout)


async def test_a_reset_lost_on_the_line_is_sent_once_more(kiosk: Kiosk) -> None:
    """The RESET never reaches the unit (dropped on the wire): no reply, and the unit answers the
    next SYNC at once with no SLAVE RESET in its first poll. Nothing says it restarted, so the
    RESET is sent once more, and the fraud lock-out clears. Before: 'did not clear', an engineer
    sent on site for a fault a RESET fixes."""
    validator = kiosk.terminal.devices["bill_validator"]
    links = _LosesFirstReset(kiosk)
    async with fault(kiosk, "bill_validator.fraud_attempt"):
        since = len(validator.log)
        outcome = await remedies.apply(
            "bill_validator.fraud_attempt",
            kiosk.endpoints,
            control=kiosk.control,
            timeout_s=TIMEOUT_S,
            links=links,
        )
    assert links.lost == 1 and not links.dropping
    assert outcome["steps"] == [
        f"SSP RESET sent: no reply in {TIMEOUT_S:g} s (not repeated blindly)",
        "validator answers again (no SLAVE RESET in its first poll)",
        "it did not restart (no reply to RESET, every SYNC try after it answered, no SLAVE "
        "RESET in the first poll after it): the RESET was lost on the line",
        "SSP RESET sent again: OK",
        "validator answers again: SLAVE RESET reported (it restarted)",
    ]
    assert outcome["cleared"] is True, outcome
    kinds = [text.split(" ", 1)[0] for _, text in validator.log[since:]]
    assert kinds.count("reset") == 1, kinds  # the lost one never reached it


async def test_a_reset_lost_on_a_slow_line_is_sent_once_more(kiosk: Kiosk) -> None:
    """Every reply 600 ms late (past two tries of the host's 0.25 s) and the RESET dropped on
    the wire: each SYNC after it is answered only on a later try, which is the line's lateness,
    not a restart's silence (every try it sent was answered), and the first poll after it has
    no SLAVE RESET although the events before it were polled away: the unit did not restart,
    so the RESET is sent once more and the fraud lock-out clears, the unit restarting once.
    Before: a SYNC answered after a try went unanswered counted as a restart's silence, the
    RESET was not sent again, and the remedy ended 'did not clear'."""
    validator = kiosk.terminal.devices["bill_validator"]
    links = _LosesFirstReset(kiosk)
    async with fault(kiosk, "bill_validator.fraud_attempt"):
        since = len(validator.log)
        async with busy(kiosk, "bill_validator", LATE_MS):
            steps = remedies.Steps(kiosk.endpoints, kiosk.control, TIMEOUT_S, links)
            await remedies.REMEDIES["bill_validator.reset"].run(steps)
        active = (await kiosk.control.request("status"))["active_faults"]
    assert links.lost == 1 and not links.dropping
    assert steps.done == [
        f"SSP RESET sent: no reply in {TIMEOUT_S:g} s (not repeated blindly)",
        "validator answers again (no SLAVE RESET in its first poll)",
        "it did not restart (no reply to RESET, every SYNC try after it answered, no SLAVE "
        "RESET in the first poll after it): the RESET was lost on the line",
        f"SSP RESET sent again: no reply in {TIMEOUT_S:g} s (not repeated blindly)",
        "validator answers again: SLAVE RESET reported (it restarted)",
    ]
    assert "bill_validator.fraud_attempt" not in active
    kinds = [text.split(" ", 1)[0] for _, text in validator.log[since:]]
    assert kinds.count("reset") == 1, kinds  # the lost one never reached it


class _AnotherHostPollsFirst(_LosesFirstReset):
    """The real links, but RESET's reply is lost on the wire (a drop toxic downstream while it
    crosses), and once the unit answers again another host (the kiosk's application) polls it
    before this host's first POLL does, taking its SLAVE RESET."""

    def __init__(self, kiosk: Kiosk) -> None:
        super().__init__(kiosk)
        self.reset_sent = self.stolen = False

    def before_write(self, data: bytes) -> None:
        if self.dropping:
            self.kiosk.terminal.remove_toxic("bill_validator", "lost")
            self.dropping = False
        try:
            code = decode_frame(data).data[0]
        except (ProtocolError, IndexError):
            return
        if code == Command.RESET and not self.reset_sent:
            self.kiosk.terminal.add_toxic(
                "bill_validator", "drop", name="lost", stream="downstream", attributes={"rate": 1}
            )
            self.dropping = self.reset_sent = True
        elif code == Command.POLL and self.reset_sent and not self.stolen:
            self.stolen = True
            self.kiosk.terminal.devices["bill_validator"].poll_reply()


async def test_a_restart_whose_slave_reset_another_host_read_is_not_reset_again(
    kiosk: Kiosk,
) -> None:
    """RESET reaches the unit but its reply is lost, the unit restarts (silent for 60 simulated
    seconds, more than a second here), and another host reads its SLAVE RESET first: no reply,
    no SLAVE RESET, as for a lost RESET. But SYNC tries went unanswered meanwhile, a restart's
    silence: the RESET is not sent again, and the unit restarts once."""
    validator = kiosk.terminal.devices["bill_validator"]
    links = _AnotherHostPollsFirst(kiosk)
    settings = validator.settings
    validator.settings = settings.model_copy(update={"reset_s": 60.0})
    try:
        async with fault(kiosk, "bill_validator.fraud_attempt"):
            since = len(validator.log)
            steps = remedies.Steps(kiosk.endpoints, kiosk.control, TIMEOUT_S, links)
            await remedies.REMEDIES["bill_validator.reset"].run(steps)
            active = (await kiosk.control.request("status"))["active_faults"]
    finally:
        validator.settings = settings
    assert links.stolen and not links.dropping
    assert steps.done == [
        f"SSP RESET sent: no reply in {TIMEOUT_S:g} s (not repeated blindly)",
        "validator answers again (no SLAVE RESET in its first poll)",
        "no SLAVE RESET, but a try after the RESET went unanswered (a restart's silence, or a "
        "lost try): it may have restarted, RESET not sent again",
    ]
    assert "bill_validator.fraud_attempt" not in active
    kinds = [text.split(" ", 1)[0] for _, text in validator.log[since:]]
    assert kinds.count("reset") == 1, kinds


async def test_a_unit_restarting_for_seconds_behind_a_slow_line_is_waited_for(
    kiosk: Kiosk,
) -> None:
    """A real unit restarts for seconds; every reply 600 ms late. RESET's OK comes after the
    host's one wait and is taken for the next SYNC's answer (both a bare OK, flag set), so the
    host polls a unit still restarting and hears nothing through the POLL's tries. It SYNCs
    again until the unit is back and reads SLAVE RESET there. Before, the POLL's time-out
    ended the remedy with an error ('validator silent to command 0x07')."""
    validator = kiosk.terminal.devices["bill_validator"]
    settings = validator.settings
    validator.settings = settings.model_copy(update={"reset_s": 150.0})  # 3 s at the speed
    try:
        async with fault(kiosk, "bill_validator.fraud_attempt"):
            since = len(validator.log)
            async with busy(kiosk, "bill_validator", LATE_MS):
                steps = remedies.Steps(kiosk.endpoints, kiosk.control, TIMEOUT_S)
                await remedies.REMEDIES["bill_validator.reset"].run(steps)
            active = (await kiosk.control.request("status"))["active_faults"]
    finally:
        validator.settings = settings
    assert steps.done == [
        f"SSP RESET sent: no reply in {TIMEOUT_S:g} s (not repeated blindly)",
        "validator answers again: SLAVE RESET reported (it restarted)",
    ]
    assert "bill_validator.fraud_attempt" not in active
    kinds = [text.split(" ", 1)[0] for _, text in validator.log[since:]]
    assert kinds.count("reset") == 1, kinds
