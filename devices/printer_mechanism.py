"""The paper roll, print head and cutter of a receipt printer: the paper printing uses and when it
is taken from the roll, the head's running distance and dirt, the maintenance counters they
drive, and the sensor thresholds (near end, paper out, head due for cleaning) they cross.

The printer (:mod:`devices.printer`) owns the faults; the mechanism tells it through ``worn``
when wear crosses a threshold, and the printer's fault reactions call back into it (a roll run
out or cut to its near end, a new roll, a dirty or cleaned head).
"""

from __future__ import annotations

from collections.abc import Callable

import simpy

from devices.printer_settings import LINE_MM, PrinterSettings, PrinterState
from workbench.fault_ids.printer import HEAD_DIRTY, NEAR_END, PAPER_OUT


class Mechanism:
    """The paper path and head of one printer (its counters are in :attr:`state`)."""

    def __init__(
        self, env: simpy.Environment, settings: PrinterSettings, worn: Callable[[str], None]
    ) -> None:
        self.env = env
        self.settings = settings
        self._worn = worn
        capacity = settings.roll_length_m * 1000.0
        level = capacity if settings.paper_m is None else min(capacity, settings.paper_m * 1000)
        self.paper = simpy.Container(env, capacity=capacity, init=level)
        self.state = PrinterState(distance_mm=settings.head_distance_m * 1000, cuts=settings.cuts)
        self._resettable: dict[int, float] = {
            20: self.state.distance_mm / LINE_MM,
            21: 0.0,
            50: float(settings.cuts),
            70: 0.0,
        }
        """Cumulative counter values at the last ``GS g 0`` (resettable = cumulative - base); a
        printer that starts with wear on its counters starts freshly serviced."""

    @property
    def paper_mm(self) -> float:
        """Paper left on the roll."""
        return float(self.paper.level) - self.state.pending_mm

    # -- paper and head physics --------------------------------------------------------------
    def advance(self, mm: float, rows: int) -> None:
        """Paper moved ``mm`` past the head with ``rows`` dot rows printed. The paper used waits
        in :attr:`PrinterState.pending_mm` and is taken from the roll (:meth:`settle`) once the
        roll reaches its near end or the head is due for cleaning, the only points where a sensor
        can trip, and whenever the status is read: a receipt costs no SimPy event and the status
        bytes are those of the paper as it is."""
        s = self.state
        left = self.paper_mm
        mm = min(mm, left)
        s.pending_mm += mm
        s.distance_mm += mm
        s.since_clean_mm += mm
        s.energised += rows
        if left - mm <= self.settings.near_end_m * 1000 or (
            s.since_clean_mm >= self.settings.head_clean_interval_m * 1000
        ):
            self.settle()

    def settle(self) -> None:
        """Take the paper used so far from the roll and raise what the sensors now see."""
        self.take_pending()
        self.check_paper()
        if self.state.since_clean_mm >= self.settings.head_clean_interval_m * 1000:
            self._worn(HEAD_DIRTY)

    def take_pending(self) -> None:
        """Take the paper used so far from the roll (no sensor checks)."""
        s = self.state
        if s.pending_mm > 0:
            take = min(s.pending_mm, float(self.paper.level))
            s.pending_mm = 0.0
            if take > 0:
                self.paper.get(take)

    def check_paper(self) -> None:
        """Raise near end and paper out when the roll is down to them."""
        level = float(self.paper.level)
        if level <= self.settings.near_end_m * 1000:
            self._worn(NEAR_END)
        if level <= 1e-9:
            self._worn(PAPER_OUT)

    # -- what faults and staff do to it ------------------------------------------------------
    def run_out(self) -> bool:
        """An injected paper-out: the roll is at its end (False when it was already)."""
        if self.paper.level <= 0:
            return False
        self.paper.get(self.paper.level)
        return True

    def cut_to_near_end(self) -> None:
        """An injected near-end: the roll is down to the near-end mark."""
        excess = float(self.paper.level) - self.settings.near_end_m * 1000
        if excess > 0:
            self.paper.get(excess)

    def load_roll(self) -> None:
        """A new roll: the paper is full again, and nothing is pending."""
        missing = self.paper.capacity - float(self.paper.level)
        if missing > 0:
            self.paper.put(missing)
        self.state.pending_mm = 0.0

    def head_dirty(self, active: bool) -> None:
        """The head got dirty (at least one cleaning interval's distance on it) or was cleaned.
        The resettable line-feed counter (20) runs from the last cleaning, as service staff reset
        it when they clean: a dirty head shows it past the cleaning interval."""
        s = self.state
        interval = self.settings.head_clean_interval_m * 1000
        s.since_clean_mm = max(s.since_clean_mm, interval) if active else 0.0
        self._resettable[20] = (s.distance_mm - s.since_clean_mm) / LINE_MM

    def clean_head(self) -> None:
        """Staff cleaned the head: no dirt, and counter 20 starts again."""
        self.state.since_clean_mm = 0.0
        self._resettable[20] = self.state.distance_mm / LINE_MM

    # -- maintenance counters ----------------------------------------------------------------
    def counter(self, number: int) -> int | None:
        """A ``GS g 2`` maintenance counter (20/21/50/70 resettable, +128 cumulative)."""
        values = {
            20: self.state.distance_mm / LINE_MM,
            21: float(self.state.energised),
            50: float(self.state.cuts),
            70: self.env.now / 3600.0,
        }
        if number in values:
            return int(values[number] - self._resettable[number])
        if number - 128 in values:
            return int(values[number - 128])
        return None

    def reset_counter(self, number: int) -> bool:
        """``GS g 0``: a resettable counter starts again from zero; False for any other."""
        if number not in self._resettable:
            return False
        self._resettable[number] = float(self.counter(number + 128) or 0)
        return True
