"""The kiosk's customers in counters-only mode (``usage: {mode: counters}``): the same customers
as :class:`devices.usage.KioskApp` (arrivals, touches, payment mix, notes, receipts, staff
rounds, drawn from the same random stream in the same order), but each device interaction
goes straight to the device's counters and state-changing methods, with no protocol bytes:

- a touch counts on the touchscreen (unless it is unresponsive or the touch is in a dead zone);
- a card payment adds head passes and read errors on the card reader;
- a note is validated (the same reject odds and sensor wear) and stacked into the cash box;
- a receipt takes the paper length, dot rows and cut that the printer's page model measured
  for that receipt's real ESC/POS bytes (measured once per receipt kind).

A customer is at most one SimPy timeout (waiting for the kiosk) instead of one per touch and
poll, so a kiosk-year takes a fraction of a second: for trainers who compress a year of wear.
"""

from __future__ import annotations

from collections.abc import Generator
from functools import cache
from typing import Any

import simpy

from devices.bill_validator import BillValidator
from devices.card_reader import CardReader
from devices.printer import Printer
from devices.protocols import escpos as p
from devices.protocols.escpos_page import Page
from devices.touchscreen import Touchscreen
from devices.usage import BUTTONS, KioskApp, receipt_bytes

_BUTTONS = tuple((int(x), int(y)) for x, y in BUTTONS)
"""The application's buttons in whole pixels (as many as :data:`BUTTONS`: the same draws)."""


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


class CountersApp(KioskApp):
    """:class:`KioskApp` with every device interaction put on the devices' counters."""

    def _customers(self) -> Generator[simpy.Event, Any, None]:
        """One timeout per customer: their visit's effects land on the devices when they step
        up, and the next customer steps up when this one's drawn time at the kiosk is over."""
        env = self.env
        free = env.now
        for at in self._arrivals():
            start = max(at, free)
            if start > env.now:
                yield env.timeout(start - env.now)
            free = start + self._visit()

    def _visit(self) -> float:
        """Serve one customer on the counters; returns their time at the kiosk."""
        s, rng, stats = self.settings, self.rng, self.stats
        stats.customers += 1
        busy = 0.0
        screen = self.devices.get("touchscreen")
        if isinstance(screen, Touchscreen) and "touchscreen" in self._sessions:
            think, buttons, confirm, draw = s.think_s, _BUTTONS, _BUTTONS[-1], rng.random
            for _ in range(s.touches):
                busy += (0.5 + draw()) * think  # rng.uniform(0.5, 1.5), the same draw
                x, y = rng.choice(buttons)
                if screen.touch_counted(x, y) or screen.touch_counted(*confirm):
                    stats.touches_seen += 1
                    continue
                stats.walked_away += 1
                self.record("walked_away", reason="screen")
                return busy
        r = rng.random()
        method = "lookup"
        if r < s.cash_share and "bill_validator" in self._sessions:
            method = "cash"
        elif r < s.cash_share + s.card_share and "card_reader" in self._sessions:
            method = "card"
        elif r < s.cash_share + s.card_share:
            method = "cash" if "bill_validator" in self._sessions else "lookup"
        paid = True
        if method == "cash":
            paid, took = self._cash()
            busy += took
            if not paid and "card_reader" in self._sessions:
                method = "card"
                paid, took = self._card_pass()
                busy += took
        elif method == "card":
            paid, took = self._card_pass()
            busy += took
        else:
            stats.lookups += 1
        if not paid:
            stats.walked_away += 1
            return busy
        self._print(method)
        return busy

    def _card_pass(self) -> tuple[bool, float]:
        reader = self.devices["card_reader"]
        assert isinstance(reader, CardReader)
        outcome, errors = reader.pass_counted()
        if outcome == "refused":
            self.record("card_refused", reason="reader")
            return False, 0.0
        took = self.rng.uniform(2.0, 6.0)
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

    def _cash(self) -> tuple[bool, float]:
        s, rng, stats = self.settings, self.rng, self.stats
        validator = self.devices["bill_validator"]
        assert isinstance(validator, BillValidator)
        if not validator.responsive():
            self.record("cash_refused", reason="validator")
            return False, 0.0
        took, credited = 0.0, 0
        for _ in range(rng.randint(1, s.max_notes)):
            took += rng.uniform(2.0, 5.0)
            value = rng.choice(self._note_args)
            outcome = validator.stack_counted(int(value))
            if outcome == "refused":
                break
            if outcome == "stacked":
                took += validator.settings.stack_s
                credited += int(value)
                stats.notes_credited += 1
            else:
                took += validator.settings.reject_s
                stats.notes_returned += 1
        if not credited:
            self.record("cash_refused", reason="no_credit")
            return False, took
        stats.cash_payments += 1
        stats.cash_credited += credited
        return True, took

    def _print(self, method: str) -> None:
        printer = self.devices.get("printer")
        if not isinstance(printer, Printer) or "printer" not in self._sessions:
            return
        printer.settle()
        cond = printer.condition()
        low = cond.near_end or cond.paper_end
        if low and not self.paper_low:
            sensors = ["near_end"] + (["paper_end"] if cond.paper_end else [])
            self.record("paper_low", sensors=",".join(sensors))
        self.paper_low = low
        if cond.offline or cond.paper_end:
            self.stats.receipts_skipped += 1
            return
        ps = printer.settings
        printer.print_counted(
            *receipt_wear(method, self.settings.receipt_lines, ps.columns, ps.dpi)
        )
        self.stats.receipts += 1
