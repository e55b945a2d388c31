"""An ITL NV-series banknote validator on SSP, with its cash box: the unit a host talks to.
Its parts are one concept each, sharing one explicit state (:class:`ValidatorState`): the note
path (:mod:`devices.note_path`: read, escrow, stack or reject), the cash box
(:mod:`devices.cash_box`), and here the SSP unit behind the commands, the faults, resets,
customer and staff actions, and the status snapshot; a host's connection to it is
:mod:`devices.bill_validator_session` (importable from here).

POLL returns the one-shot events queued since the last poll, in order, then the ongoing states
(reading, stacking, rejecting, jams, stacker full, cash box out, disabled) that a real unit
repeats at each poll until they end. SSP and eSSP commands (key exchange, encrypted packets and
their counts) reach it through :class:`devices.protocols.ssp_unit.UnitCommands`; jams, fraud,
dirty sensors and a dead link show on the wire as a real unit shows them. Rebooting is the
unit's own mechanics and runs on simulated time.
"""

from __future__ import annotations

import random
from collections.abc import Generator, Sequence
from typing import Any

import simpy

from devices.base import (
    FACE_VALUE,
    KNOWN_NOTE,
    UNKNOWN_NOTE,
    EventSink,
    Kind,
    StreamDevice,
    action,
)
from devices.bill_validator_poll import DISABLED, FAULT_STATES, PHASE_STATES, QUIET_REPLIES
from devices.bill_validator_session import BillValidatorSession
from devices.bill_validator_state import (
    BOX_FULL,
    BOX_NEAR_FULL,
    BOX_REMOVED,
    FRAUD,
    NO_RESPONSE,
    SAFE_JAM,
    SENSOR_DIRTY,
    UNSAFE_JAM,
    BillValidatorSettings,
    ValidatorState,
)
from devices.cash_box import CashBox
from devices.note_path import NotePath
from devices.protocols.essp import UnitKeys
from devices.protocols.ssp_messages import POLL_REPLIES, Counters, Event, SetupData
from devices.protocols.ssp_unit import UnitCommands
from workbench.errors import DeviceError
from workbench.faults import FaultMode

__all__ = ["BillValidator", "BillValidatorSession", "BillValidatorSettings"]


_ENABLED, _DISABLED = Kind("enabled"), Kind("disabled")
"""The records of ENABLE and DISABLE, twice a cash customer (Device.record_values: no detail
dict of their own)."""


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
        self.cash_box = CashBox(self, self.state)
        self.path = NotePath(self, self.state, self.cash_box)
        self.commands = UnitCommands(
            self,
            require_encryption=settings.require_encryption,
            keys=UnitKeys(settings.fixed_key),
            on_wrong_count=self._wrong_count,
        )
        self.handle = self.commands.handle
        """SSP command data in, reply data out (None: silent)."""
        self.answering = True
        """:meth:`responsive`, kept up to date where what it depends on changes (rebooting, the
        no_response fault), as a session reads it at every command from the host."""
        if settings.cash_box_notes:
            self.cash_box.check_fill()

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
        return self.answering

    def _check_answering(self) -> None:
        """Work :attr:`answering` out again (rebooting began or ended, no_response changed)."""
        self.answering = not (self.state.resetting or NO_RESPONSE in self.active)

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
            self.record_values(_ENABLED if enabled else _DISABLED, ())

    def set_accepting(self, channels: set[int]) -> None:
        """SET INHIBITS: the channels the host lets through (others are rejected, code 0x06)."""
        self.state.accepting = {c for c in channels if c <= len(self.settings.denominations)}
        self.record("inhibits", accepting=sorted(self.state.accepting))

    def set_display(self, on: bool) -> None:
        """DISPLAY ON / OFF: the bezel light."""
        self.state.display_on = on

    def host_reject(self) -> bool:
        """REJECT from the host: send the note in escrow back (False when there is none)."""
        return self.path.host_reject()

    def host_hold(self) -> bool:
        """HOLD from the host: keep the note in escrow, restarting the escrow time-out."""
        return self.path.host_hold()

    def poll_reply(self, params: bytes = b"") -> bytes:
        """Answer a POLL: accept a note whose escrow the host has seen, then drain the events;
        the reply's data (OK, then the events). The command table runs it as POLL's function
        (``params``: POLL has none), so a poll is one call here, encoding included; a poll with
        no event queued, no fault and the unit enabled (most of a note's polls) answers with the
        note's phase alone, looked up (:data:`QUIET_REPLIES`)."""
        state, path = self.state, self.path
        state.last_contact = self.env._now  # the now property's own read (simpy>=4.1,<5 pinned)
        note = path.note
        phase = None if note is None else note.phase
        if phase == "escrow":  # only such a note is touched
            assert note is not None
            path.seen_in_escrow(note)
            phase = note.phase
        events = state.events
        active = self.active
        if not events and not active and state.enabled:
            return QUIET_REPLIES[phase]
        state.events = []
        # The ongoing states a real unit repeats at every poll, after the one-shot events.
        ongoing = PHASE_STATES[phase]
        if ongoing is not None and ongoing not in events:
            events.append(ongoing)
        if active:
            for fault, ongoing in FAULT_STATES:
                if fault in active and ongoing not in events:
                    events.append(ongoing)
        if not state.enabled and DISABLED not in events:
            events.append(DISABLED)
        return POLL_REPLIES[tuple(events)]

    # -- notes offered -------------------------------------------------------------------------
    def channel_of(self, value: int) -> int | None:
        """The 1-based channel of a face value in the dataset, or None."""
        return self.path.channel_of(value)

    def insert(self, value: int, genuine: bool = True) -> str:
        """A customer offers a note; returns what happened, as the customer sees it."""
        return self.path.insert(value, genuine)

    def stack_counted(self, values: Sequence[int]) -> tuple[int, int, int]:
        """Genuine notes offered without SSP (``usage.mode: counters``): see
        :meth:`devices.note_path.NotePath.stack_counted`. Returns (notes stacked, their total
        value, notes rejected)."""
        return self.path.stack_counted(values)

    # -- faults ----------------------------------------------------------------------------------
    def _apply(self, fault_id: str, active: bool) -> None:
        box = self.cash_box
        if fault_id == NO_RESPONSE:
            self._check_answering()
        if fault_id in (SAFE_JAM, UNSAFE_JAM):
            self.path.jam(fault_id, active)
        elif fault_id == FRAUD and active:
            note = self.path.stop_note("fraud")
            channel = note.channel if note is not None else 0
            self.state.emit(Event.FRAUD_ATTEMPT, channel)
        elif fault_id == SENSOR_DIRTY and not active:
            self.state.notes_since_clean = 0
        elif fault_id == BOX_FULL:
            if active:
                box.fill_to(self.settings.cash_box_capacity)
                box.check_fill()
            else:
                box.empty()
        elif fault_id == BOX_NEAR_FULL:
            if active:
                box.fill_to(box.near_full_level())
            else:
                box.empty()
        elif fault_id == BOX_REMOVED:
            self.state.emit(Event.CASHBOX_REMOVED if active else Event.CASHBOX_REPLACED)

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
        self._check_answering()
        self.state.generation += 1
        self.commands.power_up()  # any eSSP key is gone: the host negotiates again
        self.record("reset")
        self.env.process(self._reboot())

    def _reboot(self) -> Generator[simpy.Event, Any, None]:
        note = self.path.stop_note("reset")
        self.state.events.clear()
        yield self.env.timeout(self.settings.reset_s)
        st = self.state
        st.enabled, st.accepting, st.display_on = False, set(), True
        st.protocol = self.settings.protocol_version
        st.resetting = False
        self._check_answering()
        st.emit(Event.SLAVE_RESET)
        for fault_id in (FRAUD, NO_RESPONSE):
            self.clear(fault_id)
        if note is not None:
            self.path.clear_from_path(note, into_cash_box=note.phase == "stacking")
        self.record("ready")

    # -- actions ---------------------------------------------------------------------------------
    def note_refusal(self) -> str | None:
        """Why a note offered now would not be taken in (the note actions wait on it)."""
        return self.path.refusal()

    @action(
        "insert-note",
        "A customer offers a note of face VALUE",
        waits_on="note_refusal",
        value=KNOWN_NOTE,
    )
    def _act_insert_note(self, value: str) -> str:
        # A value not of its form raises ValueError here: Device.act says it as declared.
        return self.insert(KNOWN_NOTE.parse(value))

    @action(
        "insert-unknown-note",
        "A customer offers a note of face VALUE the unit does not know (a foreign or withdrawn "
        "note; the unit rejects it)",
        waits_on="note_refusal",
        value=UNKNOWN_NOTE,
    )
    def _act_insert_unknown_note(self, value: str) -> str:
        # A genuine note, as insert-note's, that the unit's dataset lacks: the note path reads it
        # and rejects it as a real unit does. A value the unit knows is refused here, so that
        # Device.act says it as declared (that note is insert-note), as a scenario's check does.
        face = UNKNOWN_NOTE.parse(value)
        if face in self.settings.denominations:
            raise DeviceError(f"{face} is a note the unit knows")
        return self.insert(face)

    @action(
        "insert-counterfeit",
        "A customer offers a counterfeit note (of face VALUE; none named by default)",
        waits_on="note_refusal",
        value=FACE_VALUE,
    )
    def _act_insert_counterfeit(self, value: str | None = None) -> str:
        # As insert-note's: a value not of its form is said as declared ('abc' was taken as 0).
        return self.insert(0 if value is None else FACE_VALUE.parse(value), genuine=False)

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
        self.cash_box.empty()
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
        if self.path.jammed is None:
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
        st, path = self.state, self.path
        note = path.note
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
                "escrow": [
                    {"value": n.value, "channel": n.channel}
                    for n in (path.escrowed,)
                    if n is not None
                ],
                "note": None if note is None else {"value": note.value, "phase": note.phase},
                "jammed": path.jammed is not None,
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
