"""The kiosk's customers in counters-only mode (``usage: {mode: counters}``): the same customer
model as :class:`devices.usage.KioskApp` (Poisson arrivals in opening hours, touches, payment
mix, notes, receipts, staff rounds), but each device interaction goes straight to the device's
counters and state-changing methods, with no protocol bytes:

- a customer's touches count on the touchscreen (each one checked against the unresponsive and
  dead-zone faults while either is active);
- a card payment adds head passes and read errors on the card reader;
- a customer's notes are validated (the same reject odds and sensor wear) and stacked into the
  cash box;
- a receipt takes the paper length, dot rows and cut that the printer's page model measured
  for that receipt's real ESC/POS bytes (measured once per receipt kind).

The random draws of the customers (arrivals, think times, buttons, payment, notes, handling
times) are made in bulk with numpy, a week of customers at a time, from a generator seeded by
the application's random stream; the devices' own draws (reject odds, read errors) stay theirs.
So the counters mode serves statistically the same customers as the bytes mode, not the same
ones. A customer is one wait at most (stepping up to the kiosk), passed in place without a
SimPy event when nothing else is due first (:meth:`KioskApp._wait`), and their visit's effects
land on the devices then: a kiosk-year takes a fraction of a second, for trainers who compress a
year of wear.
"""

from __future__ import annotations

import random
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import simpy

from devices.base import Device
from devices.bill_validator import BillValidator
from devices.card_reader import CardReader
from devices.printer import Printer
from devices.protocols import escpos as p
from devices.protocols.escpos_page import Page
from devices.touchscreen import Touchscreen
from devices.usage import BUTTONS, KioskApp, UsageSettings, receipt_bytes
from workbench.clock import DAY, HOUR, VIRTUAL

_BUTTONS = tuple((int(x), int(y)) for x, y in BUTTONS)
"""The application's buttons in whole pixels; the last one is confirm."""
BLOCK_DAYS = 7
"""Days of customers drawn at once."""


@cache
def receipt_wear(method: str, lines: int, columns: int, dpi: int) -> tuple[float, int, str]:
    """(paper mm, dot rows, text) of :func:`receipt_bytes` on a printer's page model."""
    page = Page(columns=columns, dpi=dpi)
    mm, rows, text = 0.0, 0, ""
    for msg in p.Parser().feed(receipt_bytes(method, lines)):
        step_mm, step_rows, receipt = page.apply(msg)
        mm += step_mm
        rows += step_rows
        if receipt is not None:
            text = receipt
    return mm, rows, text


@dataclass(slots=True)
class Draws:
    """The random draws of a block of customers, in arrival order (lists for the hot loop,
    arrays for what only a fault makes the loop read)."""

    arrivals: list[float]
    """When each customer arrives (simulated seconds)."""
    think: list[float]
    """Their time over all their touches."""
    pay: list[float]
    """U(0, 1): cash, card or a look-up by the settings' shares."""
    notes: list[list[int]]
    """The face values they pay with (1..max_notes of them)."""
    note_s: list[list[float]]
    """Cumulative time to put in their first, second... note."""
    card_s: list[float]
    """Time to put the card in (the take-card time comes on top)."""
    touch_s: np.ndarray[Any, np.dtype[np.float64]]
    """(customers, touches): each touch's time, for a visit cut short at the screen."""
    buttons: np.ndarray[Any, np.dtype[np.int64]]
    """(customers, touches): which button each touch aims at."""


def draw_customers(
    g: np.random.Generator, s: UsageSettings, day0: int, days: int, after: float
) -> Draws:
    """The customers of ``days`` days from day number ``day0`` who arrive after ``after``: a
    Poisson number a day, at uniform times between opening and closing (a Poisson stream that
    only runs while the kiosk is open, as :meth:`KioskApp._customers` draws it one by one)."""
    opens, closes = s.opens_h * HOUR, s.closes_h * HOUR
    counts = g.poisson(s.customers_per_hour * (s.closes_h - s.opens_h), days)
    day = np.repeat(np.arange(day0, day0 + days, dtype=np.float64), counts)
    at = np.sort(day * DAY + opens + g.random(day.size) * (closes - opens))
    at = at[at >= after]
    n = at.size
    touch_s = (0.5 + g.random((n, s.touches))) * s.think_s
    k = g.integers(1, s.max_notes, size=n, endpoint=True)
    values = np.asarray(s.notes)[g.integers(0, len(s.notes), size=(n, s.max_notes))]
    cum_s = np.cumsum(g.uniform(2.0, 5.0, size=(n, s.max_notes)), axis=1)
    return Draws(
        arrivals=at.tolist(),
        think=touch_s.sum(axis=1).tolist(),
        pay=g.random(n).tolist(),
        notes=[row[:m] for row, m in zip(values.tolist(), k.tolist(), strict=True)],
        note_s=cum_s.tolist(),
        card_s=g.uniform(2.0, 6.0, size=n).tolist(),
        touch_s=touch_s,
        buttons=g.integers(0, len(_BUTTONS), size=(n, s.touches)),
    )


class CountersApp(KioskApp):
    """:class:`KioskApp` with every device interaction put on the devices' counters."""

    def __init__(
        self,
        env: simpy.Environment,
        devices: Mapping[str, Device],
        settings: UsageSettings,
        *,
        rng: random.Random | None = None,
        name: str = "app",
    ) -> None:
        super().__init__(env, devices, settings, rng=rng, name=name)
        self.draws = np.random.default_rng(self.rng.getrandbits(64))
        """Where the customers' draws come from (seeded by the application's stream)."""

        def used(kind: str, cls: type[Device]) -> Any:
            device = devices.get(kind)
            return device if isinstance(device, cls) and kind in self._sessions else None

        self._screen: Touchscreen | None = used("touchscreen", Touchscreen)
        self._validator_unit: BillValidator | None = used("bill_validator", BillValidator)
        self._card_reader: CardReader | None = used("card_reader", CardReader)
        self._printer: Printer | None = used("printer", Printer)
        self._receipts: dict[str, tuple[float, int, str]] = {}
        if self._printer is not None:
            ps = self._printer.settings
            for method in ("card", "cash", "lookup"):
                self._receipts[method] = receipt_wear(
                    method, settings.receipt_lines, ps.columns, ps.dpi
                )

    def _customers(self) -> Generator[simpy.Event, Any, None]:
        """One wait per customer: their visit's effects land on the devices when they step
        up, and the next customer steps up when this one's time at the kiosk is over."""
        env, visit, wait, timed = self.env, self._visit, self._wait, self._timed
        queue = env._queue
        free = after = env.now
        day = int(env.now // DAY)
        while True:
            block = draw_customers(self.draws, self.settings, day, BLOCK_DAYS, after)
            day += BLOCK_DAYS
            for i, at in enumerate(block.arrivals):
                start = at if at > free else free
                now = env._now
                if start > now:
                    delay = start - now
                    at = now + delay
                    if (
                        (not queue or queue[0][0] > at)
                        and self.inline_waits
                        and timed is not None
                        and timed.clock is VIRTUAL
                    ):
                        env._now = at  # _wait's usual case, here: most customers are next due
                    elif (step := wait(delay)) is not None:
                        yield step
                free = start + visit(block, i)

    def _visit(self, d: Draws, i: int) -> float:
        """Serve customer ``i`` of the block on the counters; returns their time at the kiosk."""
        s, stats = self.settings, self.stats
        stats.customers += 1
        busy = 0.0
        screen = self._screen
        if screen is not None:
            if screen.taps_counted(s.touches):
                busy = d.think[i]
                stats.touches_seen += s.touches
            else:
                busy, served = self._touch_one_by_one(screen, d, i)
                if not served:
                    return busy
        r = d.pay[i]
        cash_ok, card_ok = self._validator_unit is not None, self._card_reader is not None
        method = "lookup"
        if r < s.cash_share and cash_ok:
            method = "cash"
        elif r < s.cash_share + s.card_share and card_ok:
            method = "card"
        elif r < s.cash_share + s.card_share:
            method = "cash" if cash_ok else "lookup"
        paid = True
        if method == "cash":
            paid, took = self._cash(d, i)
            busy += took
            if not paid and card_ok:  # cash refused: try the card
                method = "card"
                paid, took = self._card_pass(d, i)
                busy += took
        elif method == "card":
            paid, took = self._card_pass(d, i)
            busy += took
        else:
            stats.lookups += 1
        if not paid:
            stats.walked_away += 1
            return busy
        printer = self._printer
        if printer is not None:
            if printer.active or printer.state.feeding:
                self._print(method)
            else:  # online, paper plenty (sensors quiet): what _print does then, written out
                self.paper_low = False
                printer.print_counted(*self._receipts[method])
                stats.receipts += 1
        return busy

    def _touch_one_by_one(self, screen: Touchscreen, d: Draws, i: int) -> tuple[float, bool]:
        """The touches while a screen fault may lose them: each on its button, or confirm when
        that one is lost; a customer whose touch is lost on both walks away."""
        busy = 0.0
        confirm = _BUTTONS[-1]
        for took, button in zip(d.touch_s[i].tolist(), d.buttons[i].tolist(), strict=True):
            busy += took
            if screen.touch_counted(*_BUTTONS[button]) or screen.touch_counted(*confirm):
                self.stats.touches_seen += 1
                continue
            self.stats.walked_away += 1
            self.record("walked_away", reason="screen")
            return busy, False
        return busy, True

    def _card_pass(self, d: Draws, i: int) -> tuple[bool, float]:
        reader = self._card_reader
        assert reader is not None
        outcome, errors = reader.pass_counted()
        if outcome == "refused":
            self.record("card_refused", reason="reader")
            return False, 0.0
        took = d.card_s[i]
        if outcome == "busy":
            self.record("card_refused", reason="slot_busy")
            return False, took
        self.stats.card_read_errors += errors
        took += self.settings.take_card_s
        if outcome == "unreadable":
            self.record("card_unreadable")
            return False, took
        self.stats.card_payments += 1
        return True, took

    def _cash(self, d: Draws, i: int) -> tuple[bool, float]:
        stats, validator = self.stats, self._validator_unit
        assert validator is not None
        if not validator.answering:  # BillValidator.responsive(), read as it reads it
            self.record("cash_refused", reason="validator")
            return False, 0.0
        notes = d.notes[i]
        stacked, credited, rejected = validator.path.stack_counted(notes)
        taken = stacked + rejected
        # The notes taken in, and the one refused after them if the customer stopped there.
        took = d.note_s[i][min(taken, len(notes) - 1)]
        took += stacked * validator.settings.stack_s + rejected * validator.settings.reject_s
        stats.notes_credited += stacked
        stats.notes_returned += rejected
        if not credited:
            self.record("cash_refused", reason="no_credit")
            return False, took
        stats.cash_payments += 1
        stats.cash_credited += credited
        return True, took

    def _print(self, method: str) -> None:
        printer = self._printer
        if printer is None:
            return
        low = False
        if printer.active or printer.state.feeding:  # else online, paper plenty (sensors quiet)
            cond = printer.condition()
            low = cond.near_end or cond.paper_end
            if low and not self.paper_low:
                sensors = ["near_end"] + (["paper_end"] if cond.paper_end else [])
                self.record("paper_low", sensors=",".join(sensors))
            if cond.offline or cond.paper_end:
                self.paper_low = low
                self.stats.receipts_skipped += 1
                return
        self.paper_low = low
        printer.print_counted(*self._receipts[method])
        self.stats.receipts += 1
