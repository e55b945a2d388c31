"""How a kind of kiosk is used (the profile's ``usage`` settings: traffic, opening hours, payment
mix, receipts, staff rounds) and what the virtual kiosk application counts while it runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, PositiveInt, model_validator

from workbench.config import Strict


class UsageSettings(Strict):
    """How a kind of kiosk is used: traffic, opening hours, payment mix, receipts, staff rounds."""

    enabled: bool = False
    """Run the customers (virtual time; off in the shipped profiles so live kiosks stay idle)."""
    mode: Literal["bytes", "counters"] = "bytes"
    """``bytes``: every device interaction goes through the device's session as real protocol
    bytes. ``counters``: customers of the same model (drawn in bulk, so not the same ones for
    a seed) wear the devices through their counters only (:mod:`devices.usage_counters`), for
    compressing a year of wear into a fraction of a second."""
    customers_per_hour: float = Field(6.0, gt=0)
    """Mean arrivals per opening hour (Poisson)."""
    opens_h: float = Field(7.0, ge=0, lt=24)
    closes_h: float = Field(21.0, gt=0, le=24)
    cash_share: float = Field(0.5, ge=0, le=1)
    card_share: float = Field(0.4, ge=0, le=1)
    """The rest only look something up and print it."""
    touches: int = Field(5, ge=1)
    """Screen touches per customer (menu, service, amount, confirm...)."""
    think_s: float = Field(2.0, ge=0)
    """Mean time between touches."""
    notes: list[PositiveInt] = Field([5, 10, 20, 50], min_length=1)
    """Face values customers pay with (each note drawn uniformly; whole numbers above 0)."""
    max_notes: int = Field(3, ge=1)
    """Notes per cash payment: 1..max_notes, uniformly."""
    receipt_lines: int = Field(12, ge=0)
    """Item lines on a receipt (plus header, total, barcode and cut)."""
    poll_interval_s: float = Field(0.5, gt=0)
    """SSP POLL period while a payment is open (ITL: 100 ms to 1 s)."""
    note_timeout_s: float = Field(15.0, gt=0)
    """Give up on a note that neither stacks nor comes back within this long."""
    take_card_s: float = Field(2.0, ge=0)
    refill_paper: bool = True
    """Staff put in a new roll at the next opening after the application saw paper near end."""
    collect_cash_every_d: float | None = Field(7.0, gt=0)
    """Cash-in-transit collection: the cash box is emptied at opening every so many days."""
    repair_faults: bool = False
    """Next-business-day service: faults active at opening are cleared (an engineer came)."""

    @model_validator(mode="after")
    def _consistent(self) -> UsageSettings:
        if self.closes_h <= self.opens_h:
            raise ValueError(f"closes_h(={self.closes_h}) must be after opens_h(={self.opens_h})")
        if self.cash_share + self.card_share > 1:
            raise ValueError(
                f"cash_share(={self.cash_share}) + card_share(={self.card_share}) must be <= 1"
            )
        if not self.notes or min(self.notes) <= 0:
            raise ValueError(f"notes(={self.notes}) must be positive face values")
        return self


@dataclass(slots=True)
class UsageStats:
    """What the application counted since it started."""

    customers: int = 0
    card_payments: int = 0
    cash_payments: int = 0
    lookups: int = 0
    notes_credited: int = 0
    cash_credited: int = 0
    notes_returned: int = 0
    card_read_errors: int = 0
    touches_seen: int = 0
    receipts: int = 0
    receipts_skipped: int = 0
    walked_away: int = 0
    paper_refills: int = 0
    cash_collections: int = 0
