"""Checklist item "bill validator": SSP link and identity, jams and fraud lockout from the poll
events, and, where test notes can be fed, the genuine-note reject rate judged by a sequential
probability ratio test (dirty sensors reject far more genuine notes than a clean path).

Test notes are held in escrow and handed back with REJECT, so they never reach the cash box.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass

from devices.protocols.ssp_messages import (
    Command,
    Event,
    PollEvent,
    RejectCode,
    SetupData,
    UnitData,
    decode_serial,
)
from remote.diagnostics.base import CHECKLIST_TEXT, Context, Diagnostic, Report
from remote.diagnostics.ssp_host import SspHost
from workbench.errors import ProtocolError

log = logging.getLogger(__name__)

SAFE_JAM = "bill_validator.safe_jam"
UNSAFE_JAM = "bill_validator.unsafe_jam"
FRAUD = "bill_validator.fraud_attempt"
SENSOR_DIRTY = "bill_validator.sensor_dirty"
NO_RESPONSE = "bill_validator.no_response"

SENSOR_REJECTS = {RejectCode.AVERAGE_FAIL, RejectCode.BURIED_FAIL}
"""Reject reasons of a genuine note that point at the note-path sensors."""
POLL_GAP_S = 0.005
"""Wall time between polls while a test note moves (hosts poll every 100-200 ms on real units)."""


@dataclass(frozen=True, slots=True)
class RejectRateTest:
    """Wald's sequential test between a clean path (``p0`` rejects) and dirty sensors (``p1``).

    Each accepted test note adds ``log((1-p1)/(1-p0))``, each sensor reject ``log(p1/p0)``; the
    test stops at ``±log((1-e)/e)`` for error rate ``e``, or after ``max_notes`` on the sign.
    Simulated: a 1 % reject rate is called dirty about 5 times in 100,000; a 35 % one is missed
    about 4 times in 10,000; a clean path takes about 24 notes, a dirty one about 13.
    """

    p0: float = 0.03
    p1: float = 0.30
    error: float = 1e-3
    max_notes: int = 40

    def verdict(self, accepted: int, rejected: int) -> bool | None:
        """True: dirty; False: clean; None: feed another note."""
        llr = rejected * math.log(self.p1 / self.p0) + accepted * math.log(
            (1 - self.p1) / (1 - self.p0)
        )
        bound = math.log((1 - self.error) / self.error)
        if llr >= bound:
            return True
        if llr <= -bound:
            return False
        if accepted + rejected >= self.max_notes:
            return llr > 0
        return None


def codes(events: list[PollEvent]) -> set[int]:
    """The event codes of a poll."""
    return {e.code for e in events}


class BillValidatorCheck(Diagnostic):
    """SSP bill validator: link, identity, jams, fraud lockout, sensor reject rate."""

    name = "bill_validator"
    checklist = CHECKLIST_TEXT["bill_validator"]
    device = "bill_validator"
    silent_fault = NO_RESPONSE

    def __init__(self, rate_test: RejectRateTest | None = None) -> None:
        self.rate_test = rate_test or RejectRateTest()

    async def check(self, ctx: Context, report: Report) -> None:
        path = ctx.port(self.device, "serial")
        if path is None:
            report.fail(None, "the validator has no serial port in the manifest")
            return
        async with ctx.links.serial(path) as link:
            host = SspHost(link, ctx.timeout_s)
            await host.sync()
            report.measure("sync_round_trip", host.round_trip_s * 1000, "ms")
            unit = UnitData.decode(await host.ok(Command.UNIT_DATA))
            report.measure("firmware", unit.firmware)
            report.measure("protocol_version", unit.protocol_version)
            report.measure("serial_number", decode_serial(await host.ok(Command.GET_SERIAL_NUMBER)))
            events = await host.poll()
            seen = codes(events)
            report.measure("poll_events", " ".join(str(e) for e in events))
            if Event.SAFE_JAM in seen:
                report.fail(SAFE_JAM, "poll reports a safe jam (0xEA)")
            if Event.UNSAFE_JAM in seen:
                report.fail(UNSAFE_JAM, "poll reports an unsafe jam (0xE9)")
            if Event.FRAUD_ATTEMPT in seen:
                report.fail(FRAUD, "poll reports a fraud attempt (0xE6): locked out until a reset")
            counters = await host.counters()
            report.measure("notes_stacked", counters.stacked, "notes")
            report.measure("notes_rejected", counters.rejected, "notes")
            _, payload = await host.send(Command.LAST_REJECT_CODE)
            if payload:
                report.measure("last_reject_code", payload[0])
            if report.findings:
                return
            blocked = seen & {Event.STACKER_FULL, Event.CASHBOX_REMOVED}
            if blocked:
                report.note("cash box not ready: test notes not fed (see the cash_box test)")
                return
            if not ctx.can_stimulate:
                report.note("no test notes fed (status only)")
                return
            await self._test_notes(ctx, host, report, was_disabled=Event.DISABLED in seen)

    async def _test_notes(
        self, ctx: Context, host: SspHost, report: Report, *, was_disabled: bool
    ) -> None:
        assert ctx.stimulus is not None
        setup = SetupData.decode(await host.ok(Command.SETUP_REQUEST))
        value = min(setup.values)
        await host.ok(Command.SET_INHIBITS, b"\xff\xff")
        await host.ok(Command.ENABLE)
        accepted = rejected = other = 0
        try:
            while (dirty := self.rate_test.verdict(accepted, rejected)) is None:
                outcome = await self._one_note(ctx, host, value)
                if outcome == "refused":
                    report.fail(
                        FRAUD, "a genuine test note was not taken in (validator locked out)"
                    )
                    return
                if outcome == "accepted":
                    accepted += 1
                elif outcome == "sensor":
                    rejected += 1
                else:
                    other += 1
                    if other > 3:
                        report.warn(None, f"test notes rejected for other reasons ({outcome})")
                        return
        finally:
            await host.ok(Command.SET_INHIBITS, b"\x00\x00")
            if was_disabled:
                await host.ok(Command.DISABLE)
        total = accepted + rejected
        report.measure("test_notes", total, "notes")
        report.measure("test_note_reject_rate", 100.0 * rejected / total if total else 0.0, "%")
        if dirty:
            report.warn(
                SENSOR_DIRTY,
                f"{rejected} of {total} genuine test notes rejected (average/buried fail)",
            )

    async def _one_note(self, ctx: Context, host: SspHost, value: int) -> str:
        """Feed one genuine note: ``accepted`` (reached escrow; handed back), ``sensor``
        (rejected by the sensors), ``refused`` (never taken in), or another reject reason."""
        assert ctx.stimulus is not None
        await ctx.stimulus.act("bill_validator", "insert-note", str(value))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(5.0, 50 * ctx.timeout_s)
        first = True
        verdict: str | None = None
        while loop.time() < deadline:
            events = await host.poll()
            seen = codes(events)
            if first and not seen & {Event.READ, Event.REJECTING, Event.REJECTED}:
                return "refused"
            first = False
            if verdict is None and any(e.code == Event.READ and e.channel for e in events):
                verdict = "accepted"
                await host.send(Command.REJECT)  # hand the test note back
            if Event.REJECTED in seen:
                if verdict is not None:
                    return verdict
                _, payload = await host.send(Command.LAST_REJECT_CODE)
                code = payload[0] if payload else -1
                if code in SENSOR_REJECTS:
                    return "sensor"
                try:
                    return f"reject code {RejectCode(code).name}"
                except ValueError:
                    return f"reject code 0x{code:02X}"
            if Event.CREDIT in seen or Event.STACKED in seen:
                return "accepted"  # the host reject came too late: the note went to the cash box
            await asyncio.sleep(POLL_GAP_S)
        raise ProtocolError("a test note neither reached escrow nor came back")
