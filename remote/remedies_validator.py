"""The bill validator's remote reset: SSP RESET over the validator's serial line, then the host
waits for the unit to come back (SYNC until it answers, its first POLL read for SLAVE RESET) and
judges from what it saw whether it restarted, sending the RESET once more only when it is sure
the unit did not (the RESET was lost on the line) and power-cycling the unit (through its USB
port) only when it stays silent.

A remedy of :mod:`remote.remedies` (its table names :func:`_validator_reset`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from devices.protocols.ssp_messages import Command, Event
from remote.diagnostics.base import LinkTimeout
from remote.diagnostics.ssp_host import SspHost
from workbench.errors import ProtocolError

if TYPE_CHECKING:
    from remote.remedies import Steps

__all__ = ["RESET_BACK_S", "Back"]

RESET_BACK_S = 10.0
"""How long (the host's wall clock) a remedy waits for a validator to answer again after a RESET
or a power cycle: a unit restarts in a few seconds and answers nothing meanwhile."""


async def _validator_reset(s: Steps) -> None:
    """SSP RESET, then wait for the unit to come back.

    The unit answers OK and restarts, silent for a few seconds. A RESET is not sent again on no
    reply alone: the reply may only be late (a busy machine), or the unit already restarting, and
    a second RESET would restart it again. Whether or not the reply came, the host SYNCs until the
    unit answers (:data:`RESET_BACK_S`, the host's wall clock) and reads its first POLL, where a
    restarted unit reports SLAVE RESET (the events queued before the RESET are polled away
    first: a SLAVE RESET among them is an earlier restart's); only a unit still silent by then
    is power-cycled. The RESET is sent once more only when the host is sure the unit did not
    restart (:meth:`Back.doubt`). The re-run diagnostic says whether the fault cleared."""
    path = s.port("bill_validator", "serial")
    async with s.links.serial(path) as link:
        host = SspHost(link, s.timeout_s)
        try:
            await host.sync()
        except LinkTimeout:
            s.log("validator silent to SSP: power cycle needed")
            await _power_cycle_validator(host, s)
            return
        try:  # take the events already queued: a SLAVE RESET among them is an earlier restart's
            await host.poll()
            drained = not host.owing
        except (LinkTimeout, ProtocolError):
            drained = False  # then the first poll after the RESET proves less either way
        for again in (False, True):
            said = "sent again" if again else "sent"
            try:
                await host.send(Command.RESET, retries=0)
                s.log(f"SSP RESET {said}: OK")
                answered = True
            except LinkTimeout:
                s.log(f"SSP RESET {said}: no reply in {s.timeout_s:g} s (not repeated blindly)")
                answered = False
            back = await _wait_ssp_back(host, s)
            if back is None:
                await _power_cycle_validator(host, s)
                return
            if answered or back.slave_reset or again:
                return
            if (doubt := back.doubt(drained)) is not None:
                s.log(f"no SLAVE RESET, but {doubt}: it may have restarted, RESET not sent again")
                return
            s.log(
                "it did not restart (no reply to RESET, every SYNC try after it answered, no "
                "SLAVE RESET in the first poll after it): the RESET was lost on the line"
            )


@dataclass(frozen=True, slots=True)
class Back:
    """How a validator came back after a RESET or a power cycle, as the host saw it."""

    silent: bool
    """A SYNC or POLL try after the RESET was never answered (given up on, or its reply not in
    when the replies owed to it were read): the unit was silent a while, as a restarting one is,
    or the try was lost on the line. A try answered late (a slow line) is not silence."""
    polled: bool
    """The first POLL sent after the RESET was answered, and no reply that could be taken for
    it was still owed: its events are all those queued since the RESET."""
    slave_reset: bool
    """Its first POLL reported SLAVE RESET: it restarted."""

    def doubt(self, drained: bool) -> str | None:
        """Why a host that saw no SLAVE RESET cannot be sure the unit did not restart, or None
        when it can: the events before the RESET were polled away (``drained``), the first POLL
        after it is the one read (:attr:`polled`), and the unit was never silent after it. A
        restart always queues SLAVE RESET, but another host polling the unit could read it
        first (a simulated kiosk's application polls the same unit); a restart's silence, seen
        whenever the restart outlasts the RESET's one wait (a real unit's few seconds always
        do), still says it restarted."""
        if not drained:
            return "the events queued before the RESET could not all be polled away"
        if not self.polled:
            return "its first poll after the RESET went unanswered"
        if self.silent:
            return "a try after the RESET went unanswered (a restart's silence, or a lost try)"
        return None


async def _power_cycle_validator(host: SspHost, s: Steps) -> None:
    await s.host("bill_validator", "power-cycle", "validator power cycled (USB port)")
    await _wait_ssp_back(host, s)


async def _wait_ssp_back(host: SspHost, s: Steps, within_s: float = RESET_BACK_S) -> Back | None:
    """SYNC until the validator answers (each SYNC with its own tries), then POLL (once more
    after a SYNC if it goes unanswered), until ``within_s`` of the host's wall clock have
    passed; the first POLL says SLAVE RESET after a restart. How it came back, or None when it
    stayed silent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    silent, polled = False, True
    while True:
        try:
            await host.sync()
        except LinkTimeout:
            silent = True
            if loop.time() > deadline:
                s.log(f"validator still silent after {within_s:g} s")
                return None
            continue
        silent = silent or not host.every_try_answered
        # Replies still owed from before carry SYNC's and RESET's flag (set), which the POLL
        # (flag clear) passes over: only what is owed from here on could be taken for it.
        host.owing = False
        host.forget_key()  # a restarted unit has none: the host negotiates again if asked
        try:
            events = await host.poll()
            break
        except LinkTimeout:  # SYNC took RESET's late OK, or the unit fell silent again
            silent, polled = True, False  # (this POLL's reply may yet come, taking its events)
            if loop.time() > deadline:
                s.log(f"validator still silent after {within_s:g} s")
                return None
    polled = polled and not host.owing
    silent = silent or not host.every_try_answered
    slave_reset = Event.SLAVE_RESET in {e.code for e in events}
    if slave_reset:
        s.log("validator answers again: SLAVE RESET reported (it restarted)")
    else:
        s.log("validator answers again (no SLAVE RESET in its first poll)")
    return Back(silent, polled, slave_reset)
