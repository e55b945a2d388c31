"""The one-piece receipt path: a whole chunk of print data (a receipt sent in one write) printed
through its layout, worked out once and remembered (:meth:`Page.layout`), instead of message by
message. The paper, head and cutter take the same steps in the same order either way."""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.protocols import escpos as p
from devices.protocols.escpos_page import Layout
from workbench.fault_ids.printer import NEAR_END

if TYPE_CHECKING:
    from devices.printer import Printer

NOT_LAID_OUT_KEPT = 64
"""Chunks remembered as not plain print data before that memory starts afresh."""
AFTER_KEPT = 64
"""Chunks remembered after a layout (:attr:`WholeChunks.after`) before that memory starts
afresh (a kiosk prints a few receipts, one after another)."""


class WholeChunks:
    """A printer's one-piece path; it remembers the chunks seen not to lay out."""

    def __init__(self) -> None:
        self.not_laid_out: set[bytes] = set()
        """Chunks seen not to be plain print data (:meth:`print` leaves them alone)."""
        self.after: dict[tuple[Layout, bytes], tuple[Layout, bool]] = {}
        """What a chunk did on a page left as a layout's end (:attr:`Page.settled`, nothing
        printed since): its layout, and whether that leaves the page as it found it (so adopting
        the end changes nothing). A kiosk's next receipt is found here without working out the
        page's state for the layouts' memo (:meth:`Page.known_layout`), and, as the page ends a
        receipt in the state it began it, the page is not copied over either."""

    def print(self, printer: Printer, data: bytes) -> bool:
        """Print ``data`` on ``printer`` (online, nothing held, ``data`` at least
        :data:`escpos.MEMO_MIN` bytes: :meth:`Printer.print_whole` asks) through its layout when
        the chunk only lays out and the roll cannot run out inside it; False (nothing done)
        otherwise, and the caller goes message by message. When no sensor can trip inside it,
        the paper and head sums are done here in one loop."""
        page = printer.page
        settled = page.settled
        after = self.after.get((settled, data)) if settled is not None else None
        if after is not None:
            layout, unchanged = after
        else:
            found = page.known_layout(data)
            if found is None:
                if data in self.not_laid_out:
                    return False
                parser = p.Parser()
                messages = parser.feed(data)
                found = None if parser.pending else page.layout(data, messages)
                if found is None:
                    if len(self.not_laid_out) >= NOT_LAID_OUT_KEPT:
                        self.not_laid_out.clear()
                    self.not_laid_out.add(data)
                    return False
            layout, unchanged = found, False
            if settled is not None:
                if len(self.after) >= AFTER_KEPT:
                    self.after.clear()
                unchanged = layout.end == settled.end  # (the page is as settled.end: equal)
                self.after[settled, data] = (layout, unchanged)
        s, settings = printer.state, printer.settings
        margin = 1e-6  # the step-by-step sums may differ from the total in the last bits
        # Mechanism.paper_mm, read as it reads it (SimPy's Container.level is its _level: simpy
        # pinned >=4.1,<5, as workbench/waits.py reads the clock): two calls fewer a receipt
        left = float(printer.paper._level) - s.pending_mm - layout.mm
        if left <= margin:  # the roll may run out inside it (offline: the rest is held)
            return False
        if not unchanged:
            page.adopt(layout.end)
        page.settled = layout
        if (
            left <= settings.near_end_m * 1000 + margin
            or s.since_clean_mm + layout.mm >= settings.head_clean_interval_m * 1000 - margin
        ):
            if _near_end_taken(printer, layout):
                return True
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


def _near_end_taken(printer: Printer, layout: Layout) -> bool:
    """Print ``layout`` in the roll's near-end window with the sensor already tripped, the head
    not due for cleaning inside it and nothing pending, the way Mechanism.advance would step by
    step, without its steps; False (nothing done) when that cannot be shown exact.

    There every message's advance takes its paper from the roll at once (a SimPy Container get
    each) and trips nothing: near end is on already, the roll cannot run out (the caller checked),
    the head does not reach its interval. The same subtractions are done here on a local level,
    and the paper is taken in one get per cut whose amount gives exactly that level (checked:
    the difference of two close floats is exact, but it is verified, not assumed); the head sums
    are the same additions in the same order."""
    s, settings, mechanism = printer.state, printer.settings, printer.mechanism
    if s.pending_mm or not (NEAR_END in printer.active or NEAR_END not in printer.modes):
        return False
    interval = settings.head_clean_interval_m * 1000
    if s.since_clean_mm + layout.mm >= interval - 1e-6:
        return False
    near_end = settings.near_end_m * 1000
    level = start = float(mechanism.paper.level)
    takes: list[float] = []  # the paper each get takes: up to each cut, and the rest
    for mm, _rows, receipt in layout.steps:
        if mm:
            if level - mm > near_end or level - mm <= 1e-9:
                return False  # advance would not settle here, or the roll would run out
            level -= mm
        if receipt is not None:
            take = start - level
            if start - take != level:
                return False
            takes.append(take)
            start = level
    take = start - level
    if start - take != level:
        return False
    takes.append(take)
    get = mechanism.paper.get
    distance, since, energised = s.distance_mm, s.since_clean_mm, s.energised
    cut = 0
    for mm, rows, receipt in layout.steps:
        if mm:
            distance += mm
            since += mm
            energised += rows
        if receipt is not None:
            if takes[cut]:
                get(takes[cut])
            cut += 1
            s.distance_mm, s.since_clean_mm, s.energised = distance, since, energised
            printer.cut_receipt(receipt)
    if takes[cut]:
        get(takes[cut])
    s.distance_mm, s.since_clean_mm, s.energised = distance, since, energised
    return True
