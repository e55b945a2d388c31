"""A card reader's profile-tunable settings (model, retain bin, head cleaning interval, read
errors of a dirty head) and its mechanical state (the card and where it is, the shutter, the
retain bin, the head's passes since cleaning), for :class:`devices.card_reader.CardReader`
(both importable from :mod:`devices.card_reader`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from devices.card_reader_cards import Card
from workbench.config import Strict

__all__ = ["CardReaderSettings", "CardReaderState"]


class CardReaderSettings(Strict):
    """Profile-tunable values of a card reader."""

    model: str = "ICT3K5-3R6940"
    firmware: str = "SIM1.00"
    serial_number: str = "CR24000117"
    retain_capacity: int = Field(30, gt=0)
    """Cards the retain (capture) bin holds."""
    head_dirty_passes: int = Field(15000, gt=0)
    """Card passes over the read head after which it counts as dirty (cleaning interval)."""
    read_error_at_dirty: float = Field(0.2, ge=0.0, le=1.0)
    """Read-error probability when the head is exactly due for cleaning; it grows with the
    square of the passes since cleaning (a quarter of it at half the interval)."""


@dataclass(slots=True)
class CardReaderState:
    """The reader's mechanical state."""

    card: Card | None = None
    position: str = "none"
    """``none``, ``gate`` (ejected, waiting to be taken) or ``inside``."""
    shutter_open: bool = False
    retained: int = 0
    passes: int = 0
    """Card passes over the head since it was last cleaned."""
    total_passes: int = 0
    chip_powered: bool = False
    initialised: bool = False
