"""What the parts of the simulated bill validator share: the settings a profile may tune, the
fault ids it implements, the note in its path, and :class:`ValidatorState`, the one record of
the unit's state that the note path (:mod:`devices.note_path`), the cash box
(:mod:`devices.cash_box`) and the SSP unit (:mod:`devices.bill_validator`) all read and write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from pydantic import Field, model_validator

from devices.protocols.essp import DEFAULT_FIXED_KEY
from devices.protocols.ssp_messages import Event, PollEvent, RejectCode
from workbench.config import Strict

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
    entered: float | None = None
    """When the note's escrow stage ran (None before): the escrow time-out counts from it."""
    reason: RejectCode | None = None
    """Why the note is being rejected, once it is."""


@dataclass(slots=True)
class ValidatorState:
    """The unit's state its parts share: what the host set (protocol, enable, inhibits, display),
    the counters, the one-shot poll events queued for the host, the reset generation. The note
    path and the cash box keep only their SimPy resources and the note itself."""

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
    events: list[PollEvent] = field(default_factory=lambda: [PollEvent(Event.SLAVE_RESET)])
    """One-shot poll events queued since the last POLL, in order (a unit powers up with SLAVE
    RESET queued)."""

    def emit(self, code: int, channel: int | None = None) -> None:
        """Queue a one-shot poll event."""
        self.events.append(poll_event(code, channel))


poll_event = lru_cache(maxsize=512)(PollEvent)
"""A poll event, one (immutable) instance for each code and channel: a unit queues the same few
all day, and a cached one is not made again."""
