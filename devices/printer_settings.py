"""What a receipt printer is set up as and what it counts: the profile settings of a TM-T88 class
printer and its mechanical counters (paper moved past the head, dot rows, cuts); its fault ids
are in :mod:`workbench.fault_ids.printer`."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from workbench.config import Strict

LINE_MM = 25.4 / 6
"""One standard line (1/6 inch): the unit of the line-feed maintenance counter."""


class PrinterSettings(Strict):
    """Profile-tunable values of a receipt printer."""

    model: str = "TM-T88V"
    maker: str = "EPSON"
    firmware: str = "30.07 ESC/POS"
    serial_number: str = "X4ZA012345"
    model_id: int = Field(0x20, ge=0, le=255)
    type_id: int = Field(0x02, ge=0, le=255)
    """``GS I 2``: bit 1 = autocutter fitted."""
    rom_version_id: int = Field(0x0F, ge=0, le=255)
    roll_length_m: float = Field(80.0, gt=0)
    """A new roll (80 mm x 80 m thermal paper)."""
    paper_m: float | None = Field(None, ge=0)
    """Paper left at start (a full roll when not given)."""
    near_end_m: float = Field(5.0, ge=0)
    """Paper left when the near-end sensor trips."""
    dpi: int = Field(180, gt=0)
    columns: int = Field(42, gt=0)
    """Characters of font A per line."""
    head_clean_interval_m: float = Field(5000.0, gt=0)
    """Paper moved past the head after which it counts as dirty and wants cleaning."""
    head_distance_m: float = Field(0.0, ge=0)
    """Head running distance already on the counters at start (an older printer)."""
    cuts: int = Field(0, ge=0)
    cooldown_s: float | None = Field(60.0, gt=0)
    """An overheated head recovers by itself after this long (None: only when cleared)."""
    feed_speed_mm_s: float = Field(100.0, gt=0)
    """Paper speed while the FEED button is held."""
    receive_buffer: int = Field(4096, gt=0)
    """Bytes of print data held while offline."""


@dataclass(slots=True)
class PrinterState:
    """Counters and mechanical state (the print modes live in :class:`Page`)."""

    distance_mm: float = 0.0
    """Cumulative head running distance (paper moved past the head)."""
    since_clean_mm: float = 0.0
    energised: int = 0
    """Head dot rows energised, cumulative."""
    cuts: int = 0
    feeding: bool = False
    """The FEED button is held."""
    pending_mm: float = 0.0
    """Paper used by printing not yet taken from the roll container (settled in batches)."""
    queued_bytes: int = 0
