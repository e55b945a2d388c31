"""An ITL NV-series banknote validator on SSP, with its cash box: a note is read, held in escrow
until the host's next poll, stacked and credited, or rejected with a reason; the cash box fills;
jams, fraud, dirty sensors and a dead link show on the wire as a real unit shows them.

Escrow is a ``simpy.Store`` of one note, the cash box a ``simpy.Container`` of notes. POLL returns
the one-shot events queued since the last poll, in order, then the ongoing states (reading,
stacking, rejecting, jams, stacker full, cash box out, disabled) that a real unit repeats at each
poll until they end. SSP commands reach it through :class:`devices.protocols.ssp_unit.UnitCommands`.

The escrow time-out (since the note entered escrow or the host last polled or held, whichever
is later) is host-facing time: it runs on the host's clock (:meth:`Device.host_span`), so in live
time it is ``escrow_timeout_s`` wall seconds at any ``--speed``. Reading, stacking, rejecting and
rebooting are the unit's own mechanics and run on simulated time.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import simpy
from pydantic import Field, model_validator

from devices.base import EventSink, Session, StreamDevice, action
from devices.protocols.essp import DEFAULT_FIXED_KEY, UnitKeys
from devices.protocols.ssp_messages import Counters, Event, PollEvent, RejectCode, SetupData
from devices.protocols.ssp_slave import SlaveLink
from devices.protocols.ssp_unit import UnitCommands
from workbench.config import Strict
from workbench.errors import DeviceError
from workbench.faults import FaultMode

log = logging.getLogger(__name__)

SAFE_JAM = "bill_validator.safe_jam"
UNSAFE_JAM = "bill_validator.unsafe_jam"
FRAUD = "bill_validator.fraud_attempt"
SENSOR_DIRTY = "bill_validator.sensor_dirty"
NO_RESPONSE = "bill_validator.no_response"
BOX_FULL = "cash_box.full"
BOX_NEAR_FULL = "cash_box.near_full"
BOX_REMOVED = "cash_box.removed"


class BillValidatorSettings(Strict):
    """What a profile may tune: dataset, identity, timings, cash box and wear (defaults: NV9USB+, EUR)."""

    model: str = "NV9USB+"
    firmware: str = "0372"
    """Four ASCII characters, as UNIT DATA and SETUP REQUEST report them (03.72)."""
    serial_number: int = Field(20_512_345, ge=0, le=0xFFFFFFFF)
    country: str = "EUR"
    denominations: list[int] = [5, 10, 20, 50, 100, 200, 500]
    """Face value of channel 1, 2, ... in whole currency units (e.g. CNY: 1, 5, 10, 20, 50, 100)."""
    value_multiplier: int = Field(1, ge=0, le=0xFFFFFF)
    real_value_multiplier: int = Field(100, ge=1, le=0xFFFFFF)
    protocol_version: int = Field(7, ge=1, le=0xFF)
    """Highest host protocol version accepted (and the one in force after power-up)."""
    channel_security: int = Field(2, ge=1, le=4)
    cash_box_capacity: int = Field(600, gt=0)
    cash_box_notes: int = Field(0, ge=0)
    """Notes already in the cash box at start."""
    read_s: float = Field(1.0, gt=0)
    credit_s: float = Field(0.6, gt=0)
    """Time from leaving escrow to the credit event (the note is past the point of no return)."""
    stack_s: float = Field(1.2, gt=0)
    reject_s: float = Field(1.5, gt=0)
    escrow_timeout_s: float = Field(5.0, gt=0)
    """Seconds of the host's clock (wall time in live time) a silent host leaves a note in escrow."""
    reset_s: float = Field(2.0, gt=0)
    """Time a RESET or power cycle keeps the unit silent."""
    require_encryption: bool = False
    """eSSP: ENABLE, SET INHIBITS, POLL, HOLD, REJECT and the counters only encrypted (0xFA in the
    clear), as on a unit set up for payment kiosks; an NV9USB's default leaves them optional."""
    fixed_key: int = Field(DEFAULT_FIXED_KEY, ge=0, le=0xFFFF_FFFF_FFFF_FFFF)
    """eSSP fixed key (the lower 64 bits of the AES key); ITL's default 0x0123456701234567."""
    near_full_ratio: float = Field(0.9, gt=0, le=1)
    base_reject_rate: float = Field(0.01, ge=0, le=1)
    wear_reject_per_note: float = Field(2e-6, ge=0)
    dirty_after_notes: int = Field(20_000, gt=0)
    dirty_reject_rate: float = Field(0.35, ge=0, le=1)

    @model_validator(mode="after")
    def _consistent(self) -> BillValidatorSettings:
        d, fw, cc = self.denominations, self.firmware, self.country
        problems = [
            (len(fw) != 4 or not fw.isascii(), f"firmware(={fw!r}) must be 4 ASCII characters"),
            (
                len(cc) != 3 or not (cc.isascii() and cc.isalpha() and cc.isupper()),
                f"country(={cc!r}) must be 3 upper-case letters (ISO 4217)",
            ),
            (
                not 1 <= len(d) <= 16 or min(d) <= 0 or len(set(d)) != len(d),
                f"denominations(={d}) must be 1..16 distinct positive values",
            ),
            (
                self.cash_box_notes > self.cash_box_capacity,
                f"cash_box_notes(={self.cash_box_notes}) must be <= "
                f"cash_box_capacity(={self.cash_box_capacity})",
            ),
            (self.credit_s >= self.stack_s, f"credit_s(={self.credit_s}) must be < stack_s"),
        ]
        for bad, why in problems:
            if bad:
                raise ValueError(why)
        return self


class CashBox(simpy.Container):
    """The cash box: a SimPy container of notes."""

    def stack(self, notes: int) -> None:
        """Notes stacked without SSP (``usage.mode: counters``): with room for them and no
        process waiting on the box, they go in at once, as the put event would put them, with
        no event left to step through; else as a put."""
        if self.put_queue or self.get_queue or self._level + notes > self.capacity:
            self.put(notes)
        else:
            self._level += notes


@dataclass(slots=True)
class Note:
    """A banknote (or a counterfeit, or whatever jammed) in the note path."""

    value: int
    genuine: bool = True
    channel: int = 0
    phase: str = "reading"
    """reading, escrow, stacking, rejecting, jammed."""
    reported: bool = False
    verdict: str | None = None
    """accept, or the reject reason name; set by the host (POLL, REJECT) or the escrow timeout."""
    wakeup: simpy.Event | None = None
    proc: simpy.Process | None = None


@dataclass(slots=True)
class ValidatorState:
    """The validator's state besides the note path and the cash box."""

    protocol: int
    enabled: bool = False
    accepting: set[int] = field(default_factory=set)
    """Channels the host has un-inhibited (SET INHIBITS); empty after power-up."""
    display_on: bool = True
    last_reject: int = RejectCode.NOTE_ACCEPTED
    resetting: bool = False
    generation: int = 0
    """Bumped at each reset: sessions then forget their sequence state."""
    last_contact: float = 0.0
    notes_since_clean: int = 0
    stacked: int = 0
    rejected: int = 0


class BillValidator(StreamDevice[BillValidatorSettings]):
    """A simulated NV-series validator at SSP address 0 and its cash box."""

    kind = "bill_validator"

    def __init__(
        self,
        env: simpy.Environment,
        settings: BillValidatorSettings,
        modes: list[FaultMode],
        *,
        name: str | None = None,
        rng: random.Random | None = None,
        sink: EventSink | None = None,
    ) -> None:
        super().__init__(env, settings, modes, name=name, rng=rng, sink=sink)
        self.state = ValidatorState(protocol=settings.protocol_version)
        self.escrow: simpy.Store = simpy.Store(env, capacity=1)
        self.cash_box = CashBox(
            env, capacity=settings.cash_box_capacity, init=settings.cash_box_notes
        )
        self.note: Note | None = None
        self.jammed: Note | None = None
        self._events: list[PollEvent] = [PollEvent(Event.SLAVE_RESET)]
        self.commands = UnitCommands(
            self,
            require_encryption=settings.require_encryption,
            keys=UnitKeys(settings.fixed_key),
            on_wrong_count=self._wrong_count,
        )
        self.handle = self.commands.handle
        """SSP command data in, reply data out (None: silent)."""
        if settings.cash_box_notes:
            self._check_fill()

    def _wrong_count(self, count: int, expected: int) -> None:
        """An encrypted command with the wrong eCOUNT: discarded unanswered, and recorded."""
        self.record(
            "protocol_violation",
            what="encrypted_command_with_wrong_count",
            ecount=count,
            expected=expected,
        )

    def new_session(self) -> BillValidatorSession:
        """A byte session for one host connection (the transports call this)."""
        return BillValidatorSession(self)

    # -- the unit behind the SSP commands (devices.protocols.ssp_unit.ValidatorUnit) -------------
    def responsive(self) -> bool:
        """False while rebooting or hung (no_response): the host gets no answer at all."""
        return not (self.state.resetting or self.has(NO_RESPONSE))

    def setup_data(self) -> SetupData:
        """The dataset as SETUP REQUEST reports it, in the protocol version in force."""
        s = self.settings
        n = len(s.denominations)
        return SetupData(
            firmware=s.firmware,
            country=s.country,
            value_multiplier=s.value_multiplier,
            values=tuple(s.denominations),
            security=(s.channel_security,) * n,
            real_value_multiplier=s.real_value_multiplier,
            protocol_version=self.state.protocol,
            countries=(s.country,) * n,
        )

    def counters(self) -> Counters:
        """GET COUNTERS: notes stacked and rejected since the counters were last reset."""
        return Counters(stacked=self.state.stacked, rejected=self.state.rejected)

    def reset_counters(self) -> None:
        """RESET COUNTERS (done by CIT software when it empties the cash box)."""
        self.state.stacked = self.state.rejected = 0
        self.record("counters_reset")

    def serial_number(self) -> int:
        """The unit's serial number."""
        return self.settings.serial_number

    def last_reject_code(self) -> int:
        """Why the last note was rejected (0 after an accepted note)."""
        return int(self.state.last_reject)

    def set_protocol(self, version: int) -> bool:
        """HOST PROTOCOL VERSION: accepted up to the unit's own version."""
        if not 1 <= version <= self.settings.protocol_version:
            return False
        self.state.protocol = version
        return True

    def set_enabled(self, enabled: bool) -> None:
        """ENABLE / DISABLE: whether the bezel takes notes in."""
        if enabled != self.state.enabled:
            self.state.enabled = enabled
            self.record("enabled" if enabled else "disabled")

    def set_accepting(self, channels: set[int]) -> None:
        """SET INHIBITS: the channels the host lets through (others are rejected, code 0x06)."""
        self.state.accepting = {c for c in channels if c <= len(self.settings.denominations)}
        self.record("inhibits", accepting=sorted(self.state.accepting))

    def set_display(self, on: bool) -> None:
        """DISPLAY ON / OFF: the bezel light."""
        self.state.display_on = on

    # -- channels and events -------------------------------------------------------------------
    def channel_of(self, value: int) -> int | None:
        """The 1-based channel of a face value in the dataset, or None."""
        try:
            return self.settings.denominations.index(value) + 1
        except ValueError:
            return None

    def emit(self, code: int, channel: int | None = None) -> None:
        """Queue a one-shot poll event."""
        self._events.append(PollEvent(code, channel))

    def poll(self) -> list[PollEvent]:
        """Answer a POLL: accept a note whose escrow the host has seen, then drain the events."""
        self.state.last_contact = self.env.now
        note = self.note
        if note is not None and note.phase == "escrow" and note.reported and note.verdict is None:
            note.verdict = "accept"
            note.phase = "stacking"
            self.emit(Event.STACKING)
            self.record("stacking", channel=note.channel)
            self._nudge(note)
        events, self._events = self._events, []
        for ev in self._ongoing():
            if ev not in events:
                events.append(ev)
        if note is not None and note.phase == "escrow":
            note.reported = True
        return events

    def _ongoing(self) -> list[PollEvent]:
        phase = self.note.phase if self.note is not None else None
        states = (
            (phase == "reading", PollEvent(Event.READ, 0)),
            (phase == "stacking", PollEvent(Event.STACKING)),
            (phase == "rejecting", PollEvent(Event.REJECTING)),
            (self.has(UNSAFE_JAM), PollEvent(Event.UNSAFE_JAM)),
            (self.has(SAFE_JAM), PollEvent(Event.SAFE_JAM)),
            (self.has(BOX_FULL), PollEvent(Event.STACKER_FULL)),
            (self.has(BOX_REMOVED), PollEvent(Event.CASHBOX_REMOVED)),
            (not self.state.enabled, PollEvent(Event.DISABLED)),
        )
        return [event for on, event in states if on]

    def _nudge(self, note: Note) -> None:
        if note.wakeup is not None and not note.wakeup.triggered:
            note.wakeup.succeed()

    # -- a note's life ---------------------------------------------------------------------------
    def _refusal(self) -> str | None:
        """Why a note offered now is not taken in (None: it is), the first reason that holds."""
        active, state = self.active, self.state
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
        why = self._refusal()
        what = f"{value} {self.settings.country}" if genuine else "counterfeit note"
        if why is not None:
            self.record("note_refused", value=value, reason=why.replace(" ", "_"))
            return f"{what} not taken: {why}"
        note = Note(value, genuine)
        self.note = note
        self.state.notes_since_clean += 1
        self.record("note_inserted", value=value, genuine=genuine)
        if self.state.notes_since_clean >= self.settings.dirty_after_notes:
            self.worn(SENSOR_DIRTY)
        note.proc = self.env.process(self._life(note))
        return f"{what} taken in"

    def _life(self, note: Note) -> Generator[simpy.Event, Any, None]:
        s = self.settings
        try:
            self.emit(Event.READ, 0)
            self.record("reading", value=note.value)
            yield self.env.timeout(s.read_s)
            reason = self._validate(note)
            if reason is not None:
                yield from self._reject(note, reason)
                return
            note.phase = "escrow"
            yield self.escrow.put(note)
            self.emit(Event.READ, note.channel)
            self.record("escrow", channel=note.channel)
            entered = self.env.now
            while note.verdict is None:
                # The host's clock: a host polling every 200 ms keeps the note at any speed.
                escrow = self.host_span(s.escrow_timeout_s)
                deadline = max(entered, self.state.last_contact) + escrow
                if self.env.now >= deadline:
                    note.verdict = RejectCode.ESCROW_TIMEOUT.name
                    break
                note.wakeup = self.env.event()
                yield note.wakeup | self.env.timeout(deadline - self.env.now)
            yield self.escrow.get()
            if note.verdict != "accept":
                yield from self._reject(note, RejectCode[note.verdict])
                return
            yield self.env.timeout(s.credit_s)
            self.emit(Event.CREDIT, note.channel)
            self.record("credit", channel=note.channel)
            yield self.env.timeout(s.stack_s - s.credit_s)
            yield self.cash_box.put(1)
            self.state.stacked += 1
            self.state.last_reject = RejectCode.NOTE_ACCEPTED
            self.emit(Event.STACKED)
            self.record("stacked", channel=note.channel, cash_box=self.cash_box.level)
            self.note = None
            self._check_fill()
        except simpy.Interrupt as stop:
            log.debug("%s: note %s stopped by %s", self.name, note.value, stop.cause)

    def stack_counted(self, values: Sequence[int]) -> tuple[int, int, int]:
        """Genuine notes offered one after another without SSP or their timed life in the path
        (``usage.mode: counters``): for each, the same refusals, sensor wear, reject draw and
        counters as :meth:`insert` followed by a host that accepts every channel. The notes
        stacked go into the cash box together (one container put, near-full and full raised as
        the last one lands); a note finding the box full is refused and the customer stops.
        Returns (notes stacked, their total value, notes rejected); a note that was refused is
        neither."""
        why = self._refusal()
        if why is not None and why != "validator disabled":  # the application enables it
            return 0, 0, 0
        state, s = self.state, self.settings
        if not state.accepting:  # SET INHIBITS from the application's setup: every channel
            state.accepting = set(range(1, len(s.denominations) + 1))
        room = s.cash_box_capacity - int(self.cash_box.level)
        stacked = credited = rejected = 0
        reason: RejectCode | None = None
        for value in values:
            if stacked >= room:
                break  # the box is full: the stacker-full refusal of the next insert
            state.notes_since_clean += 1
            if state.notes_since_clean >= s.dirty_after_notes:
                self.worn(SENSOR_DIRTY)
            reason = self._judge(value, True)[0]
            if reason is None:
                stacked += 1
                credited += value
            else:
                rejected += 1
        if stacked or rejected:
            state.last_reject = RejectCode.NOTE_ACCEPTED if reason is None else reason
        state.rejected += rejected
        if stacked:
            self.cash_box.stack(stacked)
            state.stacked += stacked
            self._check_fill()
        return stacked, credited, rejected

    def _validate(self, note: Note) -> RejectCode | None:
        reason, channel = self._judge(note.value, note.genuine)
        if reason is None:
            note.channel = channel
        return reason

    def _judge(self, value: int, genuine: bool) -> tuple[RejectCode | None, int]:
        """Why a note is rejected (None: accepted) and its channel, with the reject draw."""
        if not genuine:
            return RejectCode.COASTLINE_FAIL, 0
        channel = self.channel_of(value)
        if channel is None:
            return RejectCode.AVERAGE_FAIL, 0
        s = self.settings
        p = s.base_reject_rate + s.wear_reject_per_note * self.state.notes_since_clean
        if self.has(SENSOR_DIRTY):
            p = max(p, s.dirty_reject_rate)
        if p > 0 and self.rng.random() < p:
            worn = RejectCode.AVERAGE_FAIL if self.rng.random() < 0.5 else RejectCode.BURIED_FAIL
            return worn, channel
        if channel not in self.state.accepting:
            return RejectCode.CHANNEL_INHIBIT, channel
        return None, channel

    def _reject(self, note: Note, reason: RejectCode) -> Generator[simpy.Event, Any, None]:
        if note.phase != "rejecting":
            note.phase = "rejecting"
            self.emit(Event.REJECTING)
            self.record("rejecting", reason=reason.name)
        yield self.env.timeout(self.settings.reject_s)
        self.state.last_reject = reason
        self.state.rejected += 1
        self.emit(Event.REJECTED)
        self.record("rejected", reason=reason.name)
        self.note = None

    def host_reject(self) -> bool:
        """REJECT from the host: send the note in escrow back (False when there is none)."""
        note = self.note
        if note is None or note.phase != "escrow" or note.verdict is not None:
            return False
        note.verdict = RejectCode.REJECT_BY_HOST.name
        note.phase = "rejecting"
        self.emit(Event.REJECTING)
        self.record("rejecting", reason=note.verdict)
        self._nudge(note)
        return True

    def host_hold(self) -> bool:
        """HOLD from the host: keep the note in escrow, restarting the escrow time-out."""
        note = self.note
        if note is None or note.phase != "escrow" or note.verdict is not None:
            return False
        self.state.last_contact = self.env.now
        self._nudge(note)
        return True

    def _stop_note(self, cause: str) -> Note | None:
        """Take the note out of its process (jam, fraud, reset); returns it."""
        note = self.note
        if note is None:
            return None
        self.note = None
        if note.proc is not None and note.proc.is_alive:
            note.proc.interrupt(cause)
        if note in self.escrow.items:
            self.escrow.items.remove(note)
        return note

    def _clear_from_path(self, note: Note, into_cash_box: bool) -> None:
        """A note leaves the path after a jam or a reset: to the customer or into the cash box."""
        if into_cash_box and self.cash_box.level < self.cash_box.capacity:
            self.cash_box.put(1)
            self.state.stacked += 1
            self.emit(Event.NOTE_CLEARED_INTO_CASHBOX, note.channel)
            self.record("note_cleared", to="cash_box", channel=note.channel)
            self._check_fill()
        else:
            self.emit(Event.NOTE_CLEARED_FROM_FRONT, note.channel)
            self.record("note_cleared", to="front", channel=note.channel)

    # -- cash box --------------------------------------------------------------------------------
    def _near_full_level(self) -> int:
        """The first level above ``near_full_ratio`` of the capacity."""
        cap = self.settings.cash_box_capacity
        return min(cap, math.floor(self.settings.near_full_ratio * cap) + 1)

    def _check_fill(self) -> None:
        level = self.cash_box.level
        if level >= self._near_full_level():
            self.worn(BOX_NEAR_FULL)
        if level >= self.settings.cash_box_capacity:
            self.worn(BOX_FULL)

    def _fill_to(self, level: int) -> None:
        if self.cash_box.level < level:
            # The notes that filled it were stacked: GET COUNTERS shows them.
            self.state.stacked += level - int(self.cash_box.level)
            self.cash_box.put(level - self.cash_box.level)

    def _empty(self) -> None:
        if self.cash_box.level:
            self.record("cash_box_emptied", notes=self.cash_box.level)
            self.cash_box.get(self.cash_box.level)
        self.state.stacked = 0  # the collection procedure sends RESET COUNTERS with each emptying
        self.clear(BOX_FULL)
        self.clear(BOX_NEAR_FULL)

    # -- faults ----------------------------------------------------------------------------------
    def _apply(self, fault_id: str, active: bool) -> None:
        if fault_id in (SAFE_JAM, UNSAFE_JAM):
            self._jam(fault_id, active)
        elif fault_id == FRAUD and active:
            note = self._stop_note("fraud")
            channel = note.channel if note is not None else 0
            self.emit(Event.FRAUD_ATTEMPT, channel)
        elif fault_id == SENSOR_DIRTY and not active:
            self.state.notes_since_clean = 0
        elif fault_id == BOX_FULL:
            if active:
                self._fill_to(self.settings.cash_box_capacity)
                self._check_fill()
            else:
                self._empty()
        elif fault_id == BOX_NEAR_FULL:
            if active:
                self._fill_to(self._near_full_level())
            else:
                self._empty()
        elif fault_id == BOX_REMOVED:
            self.emit(Event.CASHBOX_REMOVED if active else Event.CASHBOX_REPLACED)

    def _jam(self, fault_id: str, active: bool) -> None:
        other = UNSAFE_JAM if fault_id == SAFE_JAM else SAFE_JAM
        if active:
            if self.jammed is None:
                self.jammed = self._stop_note("jam") or Note(0, channel=0)
                self.jammed.phase = "jammed"
            return
        if self.has(other) or self.jammed is None:
            return
        note, self.jammed = self.jammed, None
        # Safe jam: the note is past the customer's reach, so it is cleared into the cash box;
        # unsafe jam: the customer could pull it out of the bezel, so it is returned.
        self._clear_from_path(note, into_cash_box=fault_id == SAFE_JAM)

    def _set_fault(self, fault_id: str, active: bool, message: str) -> str:
        if active:
            self.inject(fault_id)
        else:
            self.clear(fault_id)
        return message

    # -- reset -----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Reboot (RESET command, or a power cycle): silent for ``reset_s``, then power-up state."""
        if self.state.resetting:
            return
        self.state.resetting = True
        self.state.generation += 1
        self.commands.power_up()  # any eSSP key is gone: the host negotiates again
        self.record("reset")
        self.env.process(self._reboot())

    def _reboot(self) -> Generator[simpy.Event, Any, None]:
        note = self._stop_note("reset")
        self._events.clear()
        yield self.env.timeout(self.settings.reset_s)
        st = self.state
        st.enabled, st.accepting, st.display_on = False, set(), True
        st.protocol = self.settings.protocol_version
        st.resetting = False
        self.emit(Event.SLAVE_RESET)
        for fault_id in (FRAUD, NO_RESPONSE):
            self.clear(fault_id)
        if note is not None:
            self._clear_from_path(note, into_cash_box=note.phase == "stacking")
        self.record("ready")

    # -- actions ---------------------------------------------------------------------------------
    @action("insert-note", "A customer offers a note of face VALUE")
    def _act_insert_note(self, value: str) -> str:
        try:
            face = int(value)
        except ValueError:
            raise DeviceError(f"insert-note: value(={value!r}) must be a whole number") from None
        return self.insert(face)

    @action("insert-counterfeit", "A customer offers a counterfeit note")
    def _act_insert_counterfeit(self, value: str = "0") -> str:
        return self.insert(int(value) if value.isdigit() else 0, genuine=False)

    @action("remove-cashbox", "Staff take the cash box out")
    def _act_remove_cashbox(self) -> str:
        return self._set_fault(BOX_REMOVED, True, "cash box removed")

    @action("replace-cashbox", "Staff put the cash box back")
    def _act_replace_cashbox(self) -> str:
        return self._set_fault(BOX_REMOVED, False, "cash box replaced")

    @action("empty-cashbox", "Cash-in-transit staff empty the cash box")
    def _act_empty_cashbox(self) -> str:
        notes = self.cash_box.level
        was_in = not self.has(BOX_REMOVED)
        if was_in:
            self.inject(BOX_REMOVED)
        self._empty()
        if was_in:
            self.clear(BOX_REMOVED)
        return f"cash box emptied ({notes} notes)"

    @action("clean-sensors", "Staff clean the note path's sensors")
    def _act_clean_sensors(self) -> str:
        self.state.notes_since_clean = 0
        self.clear(SENSOR_DIRTY)
        return "sensors cleaned"

    @action("clear-jam", "Staff clear a jammed note")
    def _act_clear_jam(self) -> str:
        if self.jammed is None:
            return "no jam"
        self.clear(SAFE_JAM)
        self.clear(UNSAFE_JAM)
        return "jam cleared"

    @action("power-cycle", "Power-cycle the validator")
    def _act_power_cycle(self) -> str:
        self.reset()
        return "power cycled"

    # -- snapshot --------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Faults plus enabled, inhibits, escrow, the note in the path, cash box and counters."""
        st, note = self.state, self.note
        out = super().status()
        out.update(
            {
                "model": self.settings.model,
                "enabled": st.enabled,
                "resetting": st.resetting,
                "protocol_version": st.protocol,
                "accepting_channels": sorted(st.accepting),
                "inhibited_channels": [
                    c
                    for c in range(1, len(self.settings.denominations) + 1)
                    if c not in st.accepting
                ],
                "escrow": [{"value": n.value, "channel": n.channel} for n in self.escrow.items],
                "note": None if note is None else {"value": note.value, "phase": note.phase},
                "jammed": self.jammed is not None,
                "cash_box": {
                    "level": self.cash_box.level,
                    "capacity": self.cash_box.capacity,
                    "present": not self.has(BOX_REMOVED),
                },
                "counters": {"stacked": st.stacked, "rejected": st.rejected},
                "last_reject_code": int(st.last_reject),
                "notes_since_clean": st.notes_since_clean,
                "display_on": st.display_on,
                "essp": self.commands.status(),
            }
        )
        return out


class BillValidatorSession(Session):
    """One host connection: an SSP slave link at address 0 in front of the validator."""

    def __init__(self, device: BillValidator) -> None:
        self.device = device
        self.link = SlaveLink(0, device.handle, device.commands.is_sync)
        self._generation = device.state.generation

    def feed(self, data: bytes) -> bytes:
        """Bytes from the host in, framed replies out."""
        device = self.device
        if device.state.generation != self._generation:
            self._generation = device.state.generation
            self.link.restart()
        if device.commands.out_of_service:
            self.link.forget_reply()  # out of service is silent, to retries too
        return self.link.feed(data)
