"""The bill validator's remote reset: SSP RESET over the validator's serial line, then the host
waits for the unit to come back (SYNC until it answers, its first POLL read for SLAVE RESET) and
judges from what it saw whether it restarted, sending the RESET once more only when it was lost
on the line and power-cycling the unit (through its USB port) only when it stays silent.

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
    is power-cycled. When
    the RESET went unanswered and the unit shows no sign of a restart either (its first SYNC after
    it answered at once, and no SLAVE RESET), the RESET was lost on the line: it is sent once
    more. The re-run diagnostic says whether the fault cleared."""
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
        except (LinkTimeout, ProtocolError):
            pass  # then a SLAVE RESET after the RESET proves less, and a lost one is not resent
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
            if answered or back.restarted or again:
                return
            s.log(
                "no sign of a restart (no reply to RESET, no silence after it, no SLAVE RESET): "
                "the RESET was lost on the line"
            )


@dataclass(frozen=True, slots=True)
class Back:
    """How a validator came back after a RESET or a power cycle, as the host saw it."""

    paused: bool
    """A SYNC went unanswered for a while before one was answered (the silence of a restart,
    or a slow line: either way not evidence that it did not restart)."""
    slave_reset: bool
    """Its first POLL reported SLAVE RESET: it restarted."""

    @property
    def restarted(self) -> bool:
        """Whether anything the host saw says the unit may have restarted."""
        return self.paused or self.slave_reset


async def _power_cycle_validator(host: SspHost, s: Steps) -> None:
    await s.host("bill_validator", "power-cycle", "validator power cycled (USB port)")
    await _wait_ssp_back(host, s)


async def _wait_ssp_back(host: SspHost, s: Steps, within_s: float = RESET_BACK_S) -> Back | None:
    """SYNC until the validator answers (each SYNC with its own tries) or ``within_s`` of the
    host's wall clock have passed; then its first POLL, which says SLAVE RESET after a restart.
    How it came back, or None when it stayed silent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    paused = False
    while True:
        try:
            await host.sync()
            break
        except LinkTimeout:
            paused = True
            if loop.time() > deadline:
                s.log(f"validator still silent after {within_s:g} s")
                return None
    paused = paused or host.round_trip_s > s.timeout_s  # answered only after a try went unanswered
    host.forget_key()  # a restarted unit has none: the host negotiates again if asked
    slave_reset = Event.SLAVE_RESET in {e.code for e in await host.poll()}
    if slave_reset:
        s.log("validator answers again: SLAVE RESET reported (it restarted)")
    else:
        s.log("validator answers again (no SLAVE RESET in its first poll)")
    return Back(paused, slave_reset)
