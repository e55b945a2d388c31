"""What the bill validator's POLL reply is made of besides the one-shot events: the ongoing
state a note in the path shows by its phase, the ongoing states of faults in the order a poll
reports them, DISABLED, and the reply to a quiet poll by the note's phase (read by
:meth:`devices.bill_validator.BillValidator.poll_reply` at every poll)."""

from __future__ import annotations

from devices.bill_validator_state import BOX_FULL, BOX_REMOVED, SAFE_JAM, UNSAFE_JAM
from devices.protocols.ssp_messages import POLL_REPLIES, Event, PollEvent


class _PhaseStates(dict[str | None, PollEvent | None]):
    """A mapping whose missing keys read None: a subscript, no ``get`` call, at every poll."""

    def __missing__(self, phase: str | None) -> None:
        return None


PHASE_STATES = _PhaseStates(
    reading=PollEvent(Event.READ, 0),
    stacking=PollEvent(Event.STACKING),
    rejecting=PollEvent(Event.REJECTING),
)
"""The ongoing state a note in the path shows at every poll, by its phase (None: escrow, a jam)."""
FAULT_STATES = (
    (UNSAFE_JAM, PollEvent(Event.UNSAFE_JAM)),
    (SAFE_JAM, PollEvent(Event.SAFE_JAM)),
    (BOX_FULL, PollEvent(Event.STACKER_FULL)),
    (BOX_REMOVED, PollEvent(Event.CASHBOX_REMOVED)),
)
"""Ongoing states of faults, in the order a poll reports them (after the note's phase)."""
DISABLED = PollEvent(Event.DISABLED)
"""The ongoing state of a unit the host has not enabled."""


class _QuietReplies(dict[str | None, bytes]):
    """POLL's reply data when no event is queued, no fault is active and the unit is enabled:
    the ongoing state of the note's phase alone (none: no note), by the phase, made on first use
    as the general path of ``poll_reply`` makes it (``tests/devices/test_poll_reply_twin.py``
    holds the two to the same replies)."""

    def __missing__(self, phase: str | None) -> bytes:
        ongoing = PHASE_STATES[phase]
        reply = self[phase] = POLL_REPLIES[() if ongoing is None else (ongoing,)]
        return reply


QUIET_REPLIES = _QuietReplies()
