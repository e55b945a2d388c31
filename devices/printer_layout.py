"""The one-piece receipt path: a whole chunk of print data (a receipt sent in one write) printed
through its layout, worked out once and remembered (:meth:`Page.layout`), instead of message by
message. The paper, head and cutter take the same steps in the same order either way."""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.protocols import escpos as p

if TYPE_CHECKING:
    from devices.printer import Printer

NOT_LAID_OUT_KEPT = 64
"""Chunks remembered as not plain print data before that memory starts afresh."""


class WholeChunks:
    """A printer's one-piece path; it remembers the chunks seen not to lay out."""

    def __init__(self) -> None:
        self.not_laid_out: set[bytes] = set()
        """Chunks seen not to be plain print data (:meth:`print` leaves them alone)."""

    def print(self, printer: Printer, data: bytes) -> bool:
        """Print ``data`` on ``printer`` (online, nothing held, ``data`` at least
        :data:`escpos.MEMO_MIN` bytes: :meth:`Printer.print_whole` asks) through its layout when
        the chunk only lays out and the roll cannot run out inside it; False (nothing done)
        otherwise, and the caller goes message by message. When no sensor can trip inside it,
        the paper and head sums are done here in one loop."""
        page = printer.page
        layout = page.known_layout(data)
        if layout is None:
            if data in self.not_laid_out:
                return False
            parser = p.Parser()
            messages = parser.feed(data)
            layout = None if parser.pending else page.layout(data, messages)
            if layout is None:
                if len(self.not_laid_out) >= NOT_LAID_OUT_KEPT:
                    self.not_laid_out.clear()
                self.not_laid_out.add(data)
                return False
        s, settings = printer.state, printer.settings
        margin = 1e-6  # the step-by-step sums may differ from the total in the last bits
        left = printer.mechanism.paper_mm - layout.mm
        if left <= margin:  # the roll may run out inside it (offline: the rest is held)
            return False
        page.adopt(layout.end)
        if (
            left <= settings.near_end_m * 1000 + margin
            or s.since_clean_mm + layout.mm >= settings.head_clean_interval_m * 1000 - margin
        ):
            # The near-end sensor or the head's dirt may trip inside it (neither takes the printer
            # offline): each message's paper through the mechanism, as Printer._print does it.
            advance = printer.mechanism.advance
            for mm, rows, receipt in layout.steps:
                if mm:
                    advance(mm, rows)
                if receipt is not None:
                    printer.cut_receipt(receipt)
            return True
        # What Mechanism.advance does when no sensor can trip: the same sums, in the same order
        # (so the same bits), in local variables written back before each cut.
        pending, distance, since, energised = (
            s.pending_mm,
            s.distance_mm,
            s.since_clean_mm,
            s.energised,
        )
        for mm, rows, receipt in layout.steps:
            if mm:
                pending += mm
                distance += mm
                since += mm
                energised += rows
            if receipt is not None:
                s.pending_mm, s.distance_mm, s.since_clean_mm = pending, distance, since
                s.energised = energised
                printer.cut_receipt(receipt)
        s.pending_mm, s.distance_mm, s.since_clean_mm, s.energised = (
            pending,
            distance,
            since,
            energised,
        )
        return True
