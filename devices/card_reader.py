"""A motorised magnetic-stripe and chip card reader (ICT3K5 / CRT-310 style) with a shutter, a
retain bin and a read head that gets dirtier with every card pass.

Customers insert and take cards (``insert-card [TRACK2]``, ``take-card``); staff empty the retain
bin and clean the head. The host drives it through :mod:`devices.protocols.stx_bcc`, over the
session of :mod:`devices.card_reader_session`; the cards and replies, as remembered values, are
:mod:`devices.card_reader_cards`, the settings and mechanical state
:mod:`devices.card_reader_settings` (importable from here).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

import simpy

from devices.base import Arg, EventSink, Kind, StreamDevice, action
from devices.card_reader_cards import (
    DEFAULT_ATR,
    DEFAULT_TRACK2,
    Card,
    Framed,
    card_from_track2,
    pan_of,
    reply_of,
    status_data,
    track_bytes,
)
from devices.card_reader_session import CardReaderSession
from devices.card_reader_settings import CardReaderSettings, CardReaderState
from devices.protocols import stx_bcc as p
from workbench.errors import DeviceError
from workbench.faults import FaultMode

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_ATR",
    "DEFAULT_TRACK2",
    "Card",
    "CardReader",
    "CardReaderSettings",
    "CardReaderState",
    "card_from_track2",
]

JAM = "card_reader.card_jam"
HEAD_DIRTY = "card_reader.head_dirty"
SHUTTER_STUCK = "card_reader.shutter_stuck"
BIN_FULL = "card_reader.retain_bin_full"
NO_RESPONSE = "card_reader.no_response"
CHIP_FAULT = "card_reader.chip_contact_fault"


TRACK2 = Arg("track 2 data, PAN=YYMMSSS... (digits and '=')", card_from_track2)
"""The card ``insert-card`` pushes, read from its track 2."""


_INSERTED, _EJECTED, _TAKEN = Kind("card_inserted", "pan"), Kind("card_ejected"), Kind("card_taken")
_NEGATIVE = Kind("negative_reply", "cm", "pm", "error")
"""The records of every card payment, and of a refused command (three a payment once the head
is dirty: Device.record_values, no detail dict of their own)."""


class CardReader(StreamDevice[CardReaderSettings]):
    """The simulated card reader; serve :meth:`new_session` on a pty."""

    kind = "card_reader"

    def __init__(
        self,
        env: simpy.Environment,
        settings: CardReaderSettings,
        modes: list[FaultMode],
        *,
        name: str | None = None,
        rng: random.Random | None = None,
        sink: EventSink | None = None,
    ) -> None:
        super().__init__(env, settings, modes, name=name, rng=rng, sink=sink)
        self.state = CardReaderState()
        self._handlers = {
            p.CM_INIT: self._init,
            p.CM_STATUS: self._status,
            p.CM_CARRY: self._carry,
            p.CM_READ: self._read,
            p.CM_ENTRY: self._entry,
            p.CM_ICC: self._icc,
        }
        """What carries out each command code."""
        self.hung = False
        """Whether the reader answers nothing at all (its no-response fault is active): kept up
        to date as the fault is raised and cleared (:meth:`_apply`), read at every command."""

    # -- derived state ---------------------------------------------------------------------
    @property
    def position(self) -> str:
        """Card position as the status reply reports it (``jammed`` while a jam is active)."""
        return "jammed" if JAM in self.active else self.state.position

    @property
    def shutter(self) -> str:
        """``open``, ``closed`` or ``stuck``."""
        if SHUTTER_STUCK in self.active:
            return "stuck"
        return "open" if self.state.shutter_open else "closed"

    @property
    def bin_full(self) -> bool:
        """Whether the retain bin reports full."""
        return BIN_FULL in self.active or self.state.retained >= self.settings.retain_capacity

    def read_error_probability(self) -> float:
        """Chance that one track read fails, from the passes since the head was cleaned."""
        ratio = self.state.passes / self.settings.head_dirty_passes
        return min(1.0, self.settings.read_error_at_dirty * ratio * ratio)

    def status(self) -> dict[str, Any]:
        """Snapshot: faults, card position, shutter, retain bin, head wear."""
        return {
            **super().status(),
            "position": self.position,
            "shutter": self.shutter,
            "retained": self.state.retained,
            "retain_capacity": self.settings.retain_capacity,
            "retain_bin_full": self.bin_full,
            "head_passes": self.state.passes,
            "total_passes": self.state.total_passes,
            "read_error_probability": round(self.read_error_probability(), 4),
        }

    # -- wear ------------------------------------------------------------------------------
    def _pass(self) -> None:
        """A card moved over the read head."""
        self.state.passes += 1
        self.state.total_passes += 1
        if self.state.passes >= self.settings.head_dirty_passes and HEAD_DIRTY not in self.active:
            self.worn(HEAD_DIRTY)  # (once dirty, every card passes here: worn would do nothing)

    def _apply(self, fault_id: str, active: bool) -> None:
        if fault_id == JAM and not active:
            # The engineer opens the transport and takes the stuck card out.
            if self.state.card is not None:
                self.record("card_removed", by="service")
            self.state.card, self.state.position = None, "none"
        elif fault_id == HEAD_DIRTY:
            if active:
                # An injected dirty head reads like one three cleaning intervals overdue.
                self.state.passes = max(self.state.passes, 3 * self.settings.head_dirty_passes)
            else:
                self.state.passes = 0
        elif fault_id == BIN_FULL and not active:
            self.state.retained = 0
        elif fault_id == NO_RESPONSE:
            self.hung = active

    # -- customer and staff stimuli --------------------------------------------------------
    @action(
        "insert-card",
        "A customer pushes a card (track 2 data; a test card by default)",
        track2=TRACK2,
    )
    def insert_card(self, track2: str = DEFAULT_TRACK2) -> str:
        """A customer pushes a card into the slot; the motor draws it in if the shutter is open."""
        card = card_from_track2(track2)  # TRACK2.parse, called directly: a customer path
        if self.state.position != "none" or JAM in self.active:
            raise DeviceError("a card is already in the reader")
        if self.shutter != "open":
            self.record("insert_refused", shutter=self.shutter)
            return f"the shutter is {self.shutter}; the card does not go in"
        self.state.card, self.state.position = card, "inside"
        self.state.shutter_open = False
        self.record_values(_INSERTED, pan_of(card.track2))
        self._pass()
        return "card drawn in"

    def pass_counted(self) -> tuple[str, int]:
        """A card payment without STX/BCC frames (``usage.mode: counters``): the card goes in,
        track 2 is read (up to 3 tries, the same error odds), it goes out to the gate and the
        customer takes it. Returns (``refused`` | ``busy`` | ``read`` | ``unreadable``, failed
        reads); ``refused``: the reader would not open its shutter or answer.

        A counters-mode kiosk-year passes some 12,000 cards, so :meth:`_pass` and
        :meth:`read_error_probability` are written out here (the same arithmetic in the same
        order, the state read again after each head wear, which a dirty head's fault changes);
        ``tests/devices/test_counters_fast_path.py`` holds them to those two methods."""
        active = self.active
        if NO_RESPONSE in active or SHUTTER_STUCK in active:
            return "refused", 0
        state = self.state
        if state.position != "none" or JAM in active:
            return "busy", 0
        s = self.settings
        dirty_at = s.head_dirty_passes
        state.passes += 1  # drawn in
        state.total_passes += 1
        if state.passes >= dirty_at and HEAD_DIRTY not in active:
            self.worn(HEAD_DIRTY)
        errors = 0
        draw = self.rng.random
        for _ in range(3):
            ratio = state.passes / dirty_at
            chance = s.read_error_at_dirty * ratio * ratio
            if not chance < 1.0:  # min(1.0, chance)
                chance = 1.0
            if chance > 0 and draw() < chance:
                errors += 1
                continue
            outcome = "read"  # out to the gate
            break
        else:
            outcome = "unreadable"
        state.passes += 1
        state.total_passes += 1
        if state.passes >= dirty_at and HEAD_DIRTY not in active:
            self.worn(HEAD_DIRTY)
        return outcome, errors

    @action("take-card", "The customer takes the card waiting at the gate")
    def take_card(self) -> str:
        """The customer takes the card waiting at the gate."""
        if self.state.position != "gate":
            raise DeviceError("no card at the gate")
        self.state.card, self.state.position = None, "none"
        self.record_values(_TAKEN, ())
        return "card taken"

    @action("empty-retain-bin", "Staff empty the retain bin")
    def empty_retain_bin(self) -> str:
        """Staff empty the retain bin (clears a full bin)."""
        count = self.state.retained
        self.state.retained = 0
        self.record("retain_bin_emptied", cards=count)
        if self.has(BIN_FULL):
            self.clear(BIN_FULL)
        return f"{count} cards removed from the retain bin"

    @action("clean-head", "Staff run a cleaning card through the reader")
    def clean_head(self) -> str:
        """Staff run a cleaning card through the reader."""
        self.state.passes = 0
        self.record("head_cleaned")
        if self.has(HEAD_DIRTY):
            self.clear(HEAD_DIRTY)
        return "read head cleaned"

    @action("reinit", "Power-cycle the reader")
    def reinit(self) -> str:
        """Power-cycle the reader (the remote remedy): frees a stuck shutter, revives a hung unit."""
        self.record("power_cycle")
        for fault_id in (NO_RESPONSE, SHUTTER_STUCK):
            if self.has(fault_id):
                self.clear(fault_id)
        self.state.chip_powered = False
        self.state.initialised = False
        return "card reader power-cycled"

    # -- the protocol ----------------------------------------------------------------------
    def _reply(self, cmd: p.Command, data: bytes = b"") -> Framed:
        # st0 and st1 are the position and bin_full properties, read here without their calls
        # (every reply carries them; the handlers test faults with `in self.active` likewise).
        active, state = self.active, self.state
        st0 = "3" if JAM in active else p.POSITION_CODES[state.position]
        full = BIN_FULL in active or state.retained >= self.settings.retain_capacity
        return reply_of(True, cmd.cm, cmd.pm, st0 + ("1" if full else "0"), data)

    def _error(self, cmd: p.Command, code: str) -> Framed:
        """A negative reply, recorded (a handler's last step, so after anything it recorded)."""
        self.record_values(_NEGATIVE, (cmd.cm, cmd.pm, code))
        return reply_of(False, cmd.cm, cmd.pm, code)

    def execute(self, cmd: p.Command) -> p.Reply:
        """Carry out one host command and build the reply (the handshake is the session's)."""
        return self.execute_framed(cmd)[0]

    def execute_framed(self, cmd: p.Command) -> Framed:
        """:meth:`execute`, with the reply's frames (what the session sends)."""
        return self.handler(cmd.cm)(cmd)

    def handler(self, cm: str) -> Callable[[p.Command], Framed]:
        """What carries out commands of code ``cm`` (every command of an unknown code is
        refused, :data:`stx_bcc.E_UNDEFINED`); a session may keep it for a command it knows."""
        return self._handlers.get(cm, self._undefined)

    @staticmethod
    def _undefined(cmd: p.Command) -> Framed:
        return reply_of(False, cmd.cm, cmd.pm, p.E_UNDEFINED)  # (not recorded, as ever)

    def _init(self, cmd: p.Command) -> Framed:
        if cmd.pm not in "012":
            return self._error(cmd, p.E_PARAMETER)
        if JAM in self.active:
            return self._error(cmd, p.E_JAM)
        if SHUTTER_STUCK in self.active:
            return self._error(cmd, p.E_SHUTTER)
        if self.state.position == "inside":
            if cmd.pm == "0":
                self._to_gate()
            elif cmd.pm == "1":
                if self.bin_full:
                    return self._error(cmd, p.E_BIN_FULL)
                self._capture()
        self.state.chip_powered = False
        self.state.initialised = True
        self.record("initialised", mode=cmd.pm)
        return self._reply(cmd, f"{self.settings.model} {self.settings.firmware}".encode())

    def _status(self, cmd: p.Command) -> Framed:
        if cmd.pm != "0":
            return self._error(cmd, p.E_PARAMETER)
        return self._reply(cmd, status_data(self.shutter, self.state.retained))

    def _carry(self, cmd: p.Command) -> Framed:
        if cmd.pm not in "01":
            return self._error(cmd, p.E_PARAMETER)
        if JAM in self.active:
            return self._error(cmd, p.E_JAM)
        if self.state.position != "inside":
            return self._error(cmd, p.E_SEQUENCE)
        if cmd.pm == "0":
            if SHUTTER_STUCK in self.active:
                return self._error(cmd, p.E_SHUTTER)
            self._to_gate()
        else:
            if self.bin_full:
                return self._error(cmd, p.E_BIN_FULL)
            self._capture()
        return self._reply(cmd)

    def _to_gate(self) -> None:
        self.state.position = "gate"
        self.state.chip_powered = False
        self.record_values(_EJECTED, ())
        self._pass()

    def _capture(self) -> None:
        self.state.card, self.state.position = None, "none"
        self.state.chip_powered = False
        self.state.retained += 1
        self.record("card_captured", retained=self.state.retained)
        if self.state.retained >= self.settings.retain_capacity:
            self.worn(BIN_FULL)

    def _read(self, cmd: p.Command) -> Framed:
        if cmd.pm not in "123":
            return self._error(cmd, p.E_PARAMETER)
        if JAM in self.active:
            return self._error(cmd, p.E_JAM)
        card = self.state.card
        if card is None or self.state.position != "inside":
            return self._error(cmd, p.E_SEQUENCE)
        chance = self.read_error_probability()
        if chance > 0 and self.rng.random() < chance:
            return self._error(cmd, p.E_READ)
        track = (card.track1, card.track2, card.track3)[int(cmd.pm) - 1]
        if not track:
            return self._error(cmd, p.E_NO_DATA)
        return self._reply(cmd, track_bytes(track))

    def _entry(self, cmd: p.Command) -> Framed:
        if cmd.pm not in "01":
            return self._error(cmd, p.E_PARAMETER)
        if SHUTTER_STUCK in self.active:
            return self._error(cmd, p.E_SHUTTER)
        self.state.shutter_open = cmd.pm == "0" and self.state.position == "none"
        return self._reply(cmd)

    def _icc(self, cmd: p.Command) -> Framed:
        if cmd.pm not in "01":
            return self._error(cmd, p.E_PARAMETER)
        card = self.state.card
        if card is None or self.state.position != "inside" or JAM in self.active:
            return self._error(cmd, p.E_SEQUENCE)
        if cmd.pm == "1":
            self.state.chip_powered = False
            return self._reply(cmd)
        if CHIP_FAULT in self.active or not card.atr:
            return self._error(cmd, p.E_NO_ATR)
        self.state.chip_powered = True
        return self._reply(cmd, card.atr)

    def new_session(self) -> CardReaderSession:
        """A host connection (one per pty lifetime)."""
        return CardReaderSession(self)
