"""The bill validator's note path: a note is read, held in escrow until the host's next poll
accepts it or the host rejects or holds it, then credited and stacked into the cash box, or
rejected with a reason; a jam, a fraud attempt or a reset takes the note out of its life, and it
is cleared to the customer or into the cash box.

A note's life is a chain of stages, each one plain SimPy event (a timeout whose callback is the
stage) scheduled by the stage before, not a process: the note is read for ``read_s`` and enters
escrow, waits there for the host with one time-out watch, is credited ``credit_s`` after it left
escrow and stacked at ``stack_s``, or rejected for ``reject_s``. Entering escrow and landing in
the cash box each take a second step at the same instant, after whatever else is due then (a
poll at that very instant sees the note in escrow but not yet reported, or stacking), as a
zero-delay event only when something else is due then. Every stage runs at its own simulated
time, so the device log, the poll events, the wear faults (the cash box filling) and the sink
see it when it happens, with no host polling needed; a stage whose note has left the path (a
jam, fraud or reset took it) does nothing, and a note leaving escrow calls its time-out's watch
off (its event stays due, with nothing to do). A stacked note costs about four events this way,
against about a dozen and nine generator resumes as a process with a ``simpy.Store`` escrow.

The escrow time-out (since the note entered escrow or the host last polled or held, whichever
is later) is host-facing time: it runs on the host's clock (:meth:`Device.host_span`), so in live
time it is ``escrow_timeout_s`` wall seconds at any ``--speed``. Reading, stacking and rejecting
are the unit's own mechanics and run on simulated time.

Notes stacked without their timed life (``usage.mode: counters``) are
:mod:`devices.note_path_counted`, mixed into :class:`NotePath`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from heapq import heappush

from simpy import Environment
from simpy.events import NORMAL

from devices.base import Device, Kind
from devices.bill_validator_state import (
    BOX_FULL,
    BOX_REMOVED,
    FRAUD,
    NO_RESPONSE,
    SAFE_JAM,
    SENSOR_DIRTY,
    UNSAFE_JAM,
    BillValidatorSettings,
    Note,
    ValidatorState,
    poll_event,
)
from devices.cash_box import CashBox
from devices.note_path_counted import CountedNotes
from devices.protocols.ssp_messages import Event, RejectCode
from workbench.waits import PlainEvent

log = logging.getLogger(__name__)

_STACKING = poll_event(Event.STACKING)
_STACKED = poll_event(Event.STACKED)
# The records of every note (Device.record_values: no detail dict of their own; the values of a
# channel's records and of a face value's are tuples made once, NotePath._by_channel and _notes).
_INSERTED, _READING = Kind("note_inserted", "value", "genuine"), Kind("reading", "value")
_ESCROW, _STACKING_KIND = Kind("escrow", "channel"), Kind("stacking", "channel")
_CREDIT, _STACKED_KIND = Kind("credit", "channel"), Kind("stacked", "channel", "cash_box")
_REJECTING, _REJECTED = Kind("rejecting", "reason"), Kind("rejected", "reason")


def _run(stage: _Stage) -> None:
    """Process a :class:`_Stage`: its step, on its note."""
    stage.step(stage.note)


class _Stage(PlainEvent):
    """One stage of a note's life: an event due ``delay`` simulated seconds from now whose
    processing runs ``step(note)``, whether SimPy's run or a customer's wait taken in place
    (:mod:`workbench.waits`) processes it. Made as ``env.timeout(delay)`` makes a timeout,
    triggered ok with None and pushed onto SimPy's queue (``Environment.schedule``'s push
    written out, as :mod:`workbench.waits` reads the queue under the pinned ``simpy>=4.1,<5``).
    What is the same for every stage is the class's: triggered ok with None, and one callback,
    the plain function :func:`_run` (a :class:`PlainEvent`), in a tuple: a stage is never
    waited on (no process yields one, which would append to it); processing it sets its own
    callbacks to None, as SimPy marks an event processed, and a stage called off gets none
    (:meth:`NotePath._leave_escrow`)."""

    _ok = True
    _value = None
    callbacks = (_run,)  # type: ignore[assignment]  # (shared, immutable: see above)

    def __init__(
        self, env: Environment, delay: float, step: Callable[[Note], None], note: Note
    ) -> None:
        self.env = env
        self.step = step
        self.note = note
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), self))


class NotePath(CountedNotes):
    """The note in the path (at most one), the escrow and a jammed note; what happens to a note
    is recorded and told to faults through ``device``, and shows in the shared ``state``."""

    def __init__(
        self, device: Device[BillValidatorSettings], state: ValidatorState, cash_box: CashBox
    ) -> None:
        self.device = device
        self.env = device.env
        self.settings = s = device.settings
        # What a note's stages read, copied once: the settings are immutable, and a pydantic
        # model's field costs about four plain attribute reads (the model has __getattr__)
        self._read_s, self._credit_s, self._reject_s = s.read_s, s.credit_s, s.reject_s
        self._to_stack_s, self._escrow_s = s.stack_s - s.credit_s, s.escrow_timeout_s
        self._rejects = (s.base_reject_rate, s.wear_reject_per_note, s.dirty_reject_rate)
        self._dirty_after, self._country = s.dirty_after_notes, s.country
        self.state = state
        self.cash_box = cash_box
        self.note: Note | None = None
        self.escrowed: Note | None = None
        """The note in escrow (from the end of its read until the host or the time-out settles
        it)."""
        self.jammed: Note | None = None
        self.watching: _Stage | None = None
        """The escrow time-out's watch still due, while its note is in escrow."""
        self._channels = {value: i + 1 for i, value in enumerate(self.settings.denominations)}
        """:meth:`channel_of` (the settings are immutable)."""
        self._by_channel = [(channel,) for channel in range(len(self.settings.denominations) + 1)]
        """A channel's records' values, ``(channel,)``, by channel: a year's records share these."""
        self._notes: dict[tuple[object, ...], tuple[tuple[int], tuple[int, bool]]] = {}
        """The values of the records of a note offered (:meth:`insert`), made once for each face
        value: ``(value,)`` and ``(value, genuine)``, keyed with their types too (``20.0`` is
        ``20`` to a dict, but its record reads ``value=20.0``)."""

    def channel_of(self, value: int) -> int | None:
        """The 1-based channel of a face value in the dataset, or None."""
        return self._channels.get(value)

    # -- what the host's POLL does to the note -----------------------------------------------
    def seen_in_escrow(self, note: Note) -> None:
        """A POLL sees ``note``, the note in the path, in escrow: it accepts a note an earlier
        poll reported (unless the host or the time-out already gave it a verdict), else this
        poll's reply reports it and the next one accepts it."""
        if note.reported and note.verdict is None:
            note.verdict = "accept"
            note.phase = "stacking"
            self.state.events.append(_STACKING)
            self.device.record_values(_STACKING_KIND, self._by_channel[note.channel])
            if note.entered is not None:  # what _settled does with an accepted note, inline
                self._leave_escrow()
                _Stage(self.env, self._credit_s, self._credit, note)
        else:
            note.reported = True

    def _settled(self, note: Note) -> None:
        """The host (or the time-out) gave the note in escrow its verdict: it leaves escrow, to
        be stacked or rejected; a note whose escrow stage has not run yet leaves from there."""
        if note.entered is None:
            return
        self._leave_escrow()
        if note.verdict == "accept":
            _Stage(self.env, self._credit_s, self._credit, note)
        else:
            self._reject(note, RejectCode[note.verdict or "ESCROW_TIMEOUT"])

    def _leave_escrow(self) -> None:
        """The note leaves escrow: its time-out's watch, if still due, is called off (its event
        stays in SimPy's queue, with nothing left to do)."""
        self.escrowed = None
        if self.watching is not None:
            self.watching.callbacks = ()  # type: ignore[assignment]  # (as _Stage's own)
            self.watching = None

    # -- a note's life -----------------------------------------------------------------------
    def refusal(self) -> str | None:
        """Why a note offered now is not taken in (None: it is), the first reason that holds."""
        active, state = self.device.active, self.state
        if NO_RESPONSE in active:
            return "validator not responding"
        if state.resetting:
            return "validator resetting"
        if self.jammed is not None:
            return "note path jammed"
        if FRAUD in active:
            return "locked out after a fraud attempt"
        if BOX_REMOVED in active:
            return "cash box removed"
        if BOX_FULL in active:
            return "stacker full"
        if not state.enabled:
            return "validator disabled"
        if self.note is not None:
            return "another note in the path"
        return None

    def insert(self, value: int, genuine: bool = True) -> str:
        """A customer offers a note; returns what happened, as the customer sees it."""
        device = self.device
        why = self.refusal()
        what = f"{value} {self._country}" if genuine else "counterfeit note"
        if why is not None:
            device.record("note_refused", value=value, reason=why.replace(" ", "_"))
            return f"{what} not taken: {why}"
        note = Note(value, genuine)
        self.note = note
        self.state.notes_since_clean += 1
        key = (value, genuine, value.__class__, genuine.__class__)
        try:
            values = self._notes[key]
        except KeyError:  # the first note of this face value
            values = self._notes[key] = ((value,), (value, genuine))
        device.record_values(_INSERTED, values[1])
        if self.state.notes_since_clean >= self._dirty_after:
            device.worn(SENSOR_DIRTY)
        self.state.events.append(poll_event(Event.READ, 0))
        device.record_values(_READING, values[0])
        _Stage(self.env, self._read_s, self._read, note)
        return f"{what} taken in"

    # -- the stages, each one plain event (_Stage) ----------------------------------------
    # A stacked note's stages queue their poll events on the shared state (``state.events``)
    # themselves: an emit() call for each would be a fifth of the stage's calls.
    def _read(self, note: Note) -> None:
        if self.note is not note:
            return  # a jam, fraud or reset took it out meanwhile
        reason, channel = self._judge(note.value, note.genuine)
        if reason is not None:
            self._reject(note, reason)
            return
        note.channel = channel
        note.phase = "escrow"
        self.escrowed = note
        self._then(self._escrow, note)

    def _then(self, stage: Callable[[Note], None], note: Note) -> None:
        """Run ``stage(note)`` after whatever else is due at this instant: as an event when
        something is (a poll then sees the note between the two), else at once (nothing can
        come in between, and it saves the event). What is due next is read from SimPy's queue
        as ``env.peek()`` reads it."""
        env = self.env
        queue = env._queue
        if queue and queue[0][0] <= env._now:
            _Stage(env, 0, stage, note)
        else:
            stage(note)

    def _escrow(self, note: Note) -> None:
        if self.note is not note:
            return
        self.state.events.append(poll_event(Event.READ, note.channel))
        self.device.record_values(_ESCROW, self._by_channel[note.channel])
        note.entered = self.env._now
        if note.verdict is not None:  # settled in the same instant, before this stage
            self._settled(note)
        else:
            self._watch(note)

    def _watch_escrow(self, note: Note) -> None:
        self.watching = None
        if self.note is note and note.verdict is None and note.entered is not None:
            self._watch(note)

    def _watch(self, note: Note) -> None:
        """The escrow time-out: since the note entered escrow or the host last polled or held,
        whichever is later, on the host's clock (a host polling every 200 ms keeps the note at
        any speed). Looked at again when it falls due, as the host may have been in touch."""
        entered = note.entered
        assert entered is not None
        escrow = self.device.clock.host_span(self._escrow_s)  # Device.host_span
        contact = self.state.last_contact
        deadline = (entered if entered >= contact else contact) + escrow
        env = self.env
        now = env._now
        if now >= deadline:
            note.verdict = RejectCode.ESCROW_TIMEOUT.name
            self._settled(note)
        else:
            self.watching = _Stage(env, deadline - now, self._watch_escrow, note)

    def _credit(self, note: Note) -> None:
        if self.note is not note:
            return
        self.state.events.append(poll_event(Event.CREDIT, note.channel))
        self.device.record_values(_CREDIT, self._by_channel[note.channel])
        _Stage(self.env, self._to_stack_s, self._stack, note)

    def _stack(self, note: Note) -> None:
        if self.note is not note:
            return
        waiting = self.cash_box.put()
        if waiting is None:
            self._then(self._stacked, note)
        else:  # the box is full (no fault raised it): the note waits in the stacker for room
            waiting.callbacks.append(lambda _: self._stacked(note))

    def _stacked(self, note: Note) -> None:
        if self.note is not note:
            return
        state = self.state
        state.stacked += 1
        state.last_reject = RejectCode.NOTE_ACCEPTED
        state.events.append(_STACKED)
        self.device.record_values(_STACKED_KIND, (note.channel, self.cash_box.notes.level))
        self.note = None
        self.cash_box.check_fill()

    def _judge(self, value: int, genuine: bool) -> tuple[RejectCode | None, int]:
        """Why a note is rejected (None: accepted) and its channel, with the reject draw."""
        if not genuine:
            return RejectCode.COASTLINE_FAIL, 0
        channels = self._channels
        if value not in channels:
            return RejectCode.AVERAGE_FAIL, 0
        channel = channels[value]
        base, wear, dirty = self._rejects
        p = base + wear * self.state.notes_since_clean
        if SENSOR_DIRTY in self.device.active:
            p = max(p, dirty)
        rng = self.device.rng
        if p > 0 and rng.random() < p:
            worn = RejectCode.AVERAGE_FAIL if rng.random() < 0.5 else RejectCode.BURIED_FAIL
            return worn, channel
        if channel not in self.state.accepting:
            return RejectCode.CHANNEL_INHIBIT, channel
        return None, channel

    def _reject(self, note: Note, reason: RejectCode) -> None:
        if note.phase != "rejecting":
            note.phase = "rejecting"
            self.state.emit(Event.REJECTING)
            self.device.record_values(_REJECTING, (reason.name,))
        note.reason = reason
        _Stage(self.env, self._reject_s, self._rejected, note)

    def _rejected(self, note: Note) -> None:
        if self.note is not note or note.reason is None:
            return
        state = self.state
        state.last_reject = note.reason
        state.rejected += 1
        state.emit(Event.REJECTED)
        self.device.record_values(_REJECTED, (note.reason.name,))
        self.note = None

    # -- the host's REJECT and HOLD ----------------------------------------------------------
    def host_reject(self) -> bool:
        """REJECT from the host: send the note in escrow back (False when there is none)."""
        note = self.note
        if note is None or note.phase != "escrow" or note.verdict is not None:
            return False
        note.verdict = RejectCode.REJECT_BY_HOST.name
        note.phase = "rejecting"
        self.state.emit(Event.REJECTING)
        self.device.record_values(_REJECTING, (note.verdict,))
        self._settled(note)
        return True

    def host_hold(self) -> bool:
        """HOLD from the host: keep the note in escrow, restarting the escrow time-out (its
        watch, when it falls due, counts from now)."""
        note = self.note
        if note is None or note.phase != "escrow" or note.verdict is not None:
            return False
        self.state.last_contact = self.env.now
        return True

    # -- jams, fraud and resets take the note out --------------------------------------------
    def stop_note(self, cause: str) -> Note | None:
        """Take the note out of its life (jam, fraud, reset): its stages still due do nothing;
        returns it."""
        note = self.note
        if note is None:
            return None
        self.note = None
        if self.escrowed is note:
            self._leave_escrow()
        log.debug("%s: note %s stopped by %s", self.device.name, note.value, cause)
        return note

    def clear_from_path(self, note: Note, into_cash_box: bool) -> None:
        """A note leaves the path after a jam or a reset: to the customer or into the cash box."""
        if into_cash_box and self.cash_box.level < self.cash_box.capacity:
            self.cash_box.put()
            self.state.stacked += 1
            self.state.emit(Event.NOTE_CLEARED_INTO_CASHBOX, note.channel)
            self.device.record("note_cleared", to="cash_box", channel=note.channel)
            self.cash_box.check_fill()
        else:
            self.state.emit(Event.NOTE_CLEARED_FROM_FRONT, note.channel)
            self.device.record("note_cleared", to="front", channel=note.channel)

    def jam(self, fault_id: str, active: bool) -> None:
        """A safe or unsafe jam raised (the note in the path sticks) or cleared (it leaves)."""
        other = UNSAFE_JAM if fault_id == SAFE_JAM else SAFE_JAM
        if active:
            if self.jammed is None:
                self.jammed = self.stop_note("jam") or Note(0, channel=0)
                self.jammed.phase = "jammed"
            return
        if self.device.has(other) or self.jammed is None:
            return
        note, self.jammed = self.jammed, None
        # Safe jam: the note is past the customer's reach, so it is cleared into the cash box;
        # unsafe jam: the customer could pull it out of the bezel, so it is returned.
        self.clear_from_path(note, into_cash_box=fault_id == SAFE_JAM)
