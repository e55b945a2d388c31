"""Notes stacked without SSP or their timed life in the path (``usage.mode: counters``): the
same refusals, sensor wear, reject draws and counters as :class:`devices.note_path.NotePath`'s
note by note, for a host that accepts every channel, the notes stacked going into the cash box
together.

:class:`CountedNotes` is a mixin of :class:`devices.note_path.NotePath` (its method runs on the
path itself, with no extra attribute hop); ``tests/devices/test_counters_fast_path.py`` holds it
to the path's :meth:`~devices.note_path.NotePath.insert` and its reject draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from devices.base import Device
from devices.bill_validator_state import SENSOR_DIRTY, BillValidatorSettings, Note, ValidatorState
from devices.cash_box import CashBox
from devices.protocols.ssp_messages import RejectCode

__all__ = ["CountedNotes"]

# The verdicts :meth:`CountedNotes.stack_counted` gives, read once (an enum member read from its
# class costs a descriptor call each time under Python 3.11).
_ACCEPTED, _INHIBITED = RejectCode.NOTE_ACCEPTED, RejectCode.CHANNEL_INHIBIT
_AVERAGE_FAIL, _BURIED_FAIL = RejectCode.AVERAGE_FAIL, RejectCode.BURIED_FAIL


class CountedNotes:
    """Counted stacking for the note path that mixes it in (it provides ``device``, ``state``,
    ``settings``, ``cash_box``, ``note``, ``jammed``, ``_channels`` and :meth:`refusal`)."""

    device: Device[BillValidatorSettings]
    state: ValidatorState
    settings: BillValidatorSettings
    cash_box: CashBox
    note: Note | None
    jammed: Note | None
    _channels: dict[int, int]

    if TYPE_CHECKING:

        def refusal(self) -> str | None: ...

    def stack_counted(self, values: Sequence[int]) -> tuple[int, int, int]:
        """Genuine notes offered one after another without SSP or their timed life in the path
        (``usage.mode: counters``): for each, the same refusals, sensor wear, reject draw and
        counters as :meth:`insert` followed by a host that accepts every channel. The notes
        stacked go into the cash box together (one container put, near-full and full raised as
        the last one lands); a note finding the box full is refused and the customer stops.
        Returns (notes stacked, their total value, notes rejected); a note that was refused is
        neither.

        A counters-mode kiosk-year takes some 30,000 notes, so :meth:`_judge` is written out
        here (the same draws and arithmetic in the same order), and :meth:`refusal` is asked
        only when something could refuse (a fault, a reset, a note in the path or jammed);
        ``tests/devices/test_counters_fast_path.py`` holds this to those two methods."""
        device, state, s = self.device, self.state, self.settings
        active = device.active
        if active or state.resetting or self.jammed is not None or self.note is not None:
            why = self.refusal()
            if why is not None and why != "validator disabled":  # the application enables it
                return 0, 0, 0
        if not state.accepting:  # SET INHIBITS from the application's setup: every channel
            state.accepting = set(range(1, len(s.denominations) + 1))
        room = s.cash_box_capacity - int(self.cash_box.notes._level)  # CashBox.level
        stacked = credited = rejected = 0
        reason: RejectCode | None = None
        channels, draw = self._channels, device.rng.random
        dirty_after, base, per_note = (
            s.dirty_after_notes,
            s.base_reject_rate,
            s.wear_reject_per_note,
        )
        for value in values:
            if stacked >= room:
                break  # the box is full: the stacker-full refusal of the next insert
            state.notes_since_clean += 1
            if state.notes_since_clean >= dirty_after and SENSOR_DIRTY not in active:
                device.worn(SENSOR_DIRTY)  # (once dirty, worn would do nothing)
            # _judge(value, True), written out
            channel = channels.get(value)
            if channel is None:
                reason = _AVERAGE_FAIL
            else:
                p = base + per_note * state.notes_since_clean
                if SENSOR_DIRTY in active and s.dirty_reject_rate > p:
                    p = s.dirty_reject_rate  # max(p, dirty_reject_rate)
                if p > 0 and draw() < p:
                    reason = _AVERAGE_FAIL if draw() < 0.5 else _BURIED_FAIL
                elif channel not in state.accepting:
                    reason = _INHIBITED
                else:
                    reason = None
            if reason is None:
                stacked += 1
                credited += value
            else:
                rejected += 1
        if stacked or rejected:
            state.last_reject = _ACCEPTED if reason is None else reason
        state.rejected += rejected
        if stacked:
            self.cash_box.stack(stacked)
            state.stacked += stacked
            self.cash_box.check_fill()
        return stacked, credited, rejected
