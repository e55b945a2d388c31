"""An Epson-compatible thermal receipt printer (TM-T88 class) speaking ESC/POS: a paper roll that
runs to near-end and out, a print head that wears and gets dirty with distance, an autocutter,
a cover, the FEED button, and the status bytes a real unit answers with.

Hosts talk to it through :meth:`Printer.new_session` (one ESC/POS parser per pty lifetime or TCP
connection; the paper, head, faults and print modes are the one printer's). Printing takes no
simulated time: a receipt is on paper the moment its bytes are processed. Paper running out
stops printing from the next command on (a text run already started finishes without paper).

While the printer is offline (cover open, paper out, an error, the FEED button held) it keeps
receiving as a real one does: print data waits in a receive buffer of
:attr:`PrinterSettings.receive_buffer` bytes and is printed once the printer is back online;
what does not fit is lost (a pty has no flow control to hold the host back) and logged as
``data_discarded`` (one by one up to 20 a second, the rest of that second counted in one
``data_discards_suppressed`` record). Real-time commands (``DLE EOT``, ``DLE ENQ``, ``DLE DC4``) and the status
queries ``GS r``, ``GS I``, ``GS g`` are answered at once in every state.

This module is the printer's faults, stimuli and data path; what its sensors report and its
real-time status answers are :mod:`devices.printer_condition`, the paper roll, head and cutter
:mod:`devices.printer_mechanism`, the host connection and the commands answered at once
:mod:`devices.printer_session`, the receive buffer :mod:`devices.printer_buffer`, the
one-piece receipt path :mod:`devices.printer_layout`, the settings, fault ids and counters
:mod:`devices.printer_settings` (its classes importable from here).
"""

from __future__ import annotations

import logging
import random
import weakref
from collections.abc import Generator
from functools import lru_cache
from typing import Any

import simpy

from devices.base import Arg, EventSink, Kind, StreamDevice, action
from devices.printer_buffer import ReceiveBuffer
from devices.printer_condition import PrinterCondition
from devices.printer_layout import WholeChunks
from devices.printer_mechanism import Mechanism
from devices.printer_session import QUERIES, PrinterSession, acted_on_arrival
from devices.printer_settings import LINE_MM, PrinterSettings, PrinterState
from devices.protocols import escpos as p
from devices.protocols import escpos_status as st
from devices.protocols.escpos_page import Page
from devices.record_throttle import Throttle
from workbench.fault_ids.printer import (
    COVER_OPEN,
    HEAD_DIRTY,
    NEAR_END,
    OFFLINE,
    OVERHEAT,
    PAPER_OUT,
)

# Every fault the printer implements is named in this module (tests/devices/test_contract.py),
# these two read only by its condition (devices.printer_condition)
from workbench.fault_ids.printer import CUTTER_JAM as CUTTER_JAM
from workbench.fault_ids.printer import PAPER_JAM as PAPER_JAM
from workbench.faults import FaultMode

__all__ = ["LINE_MM", "Printer", "PrinterSession", "PrinterSettings", "PrinterState"]

log = logging.getLogger(__name__)

UNKNOWN_PER_SECOND = 20
"""Unknown commands recorded one by one per second; the rest of that second are counted."""


def _feed_seconds(text: str) -> float:
    seconds = float(text)
    if not 0 < seconds <= 60:
        raise ValueError(f"{seconds} s is not in (0, 60]")
    return seconds


FEED_SECONDS = Arg("a number of seconds, more than 0 and at most 60", _feed_seconds)
"""How long ``feed-button`` holds the button."""


class Printer(PrinterCondition, StreamDevice[PrinterSettings]):
    """The simulated receipt printer; serve :meth:`new_session` on a pty and a TCP port."""

    kind = "printer"

    def __init__(
        self,
        env: simpy.Environment,
        settings: PrinterSettings,
        modes: list[FaultMode],
        *,
        name: str | None = None,
        rng: random.Random | None = None,
        sink: EventSink | None = None,
    ) -> None:
        super().__init__(env, settings, modes, name=name, rng=rng, sink=sink)
        self.mechanism = Mechanism(env, settings, self.worn)
        self.paper = self.mechanism.paper
        self.state = self.mechanism.state
        self.page = Page(columns=settings.columns, dpi=settings.dpi)
        self.identity = st.Identity(
            settings.model_id,
            settings.type_id,
            settings.rom_version_id,
            settings.firmware,
            settings.maker,
            settings.model,
            settings.serial_number,
        )
        self.receipts: list[str] = []
        self.receipts_printed = 0
        self._buffer = ReceiveBuffer(self.state, settings.receive_buffer)
        self._sessions: weakref.WeakSet[PrinterSession] = weakref.WeakSet()
        self._online = True
        self._unknown = Throttle("unknown_command", "unknown_commands_suppressed")
        self._whole = WholeChunks()
        self._init_condition()
        self.mechanism.check_paper()

    # -- sessions ----------------------------------------------------------------------------
    def new_session(self) -> PrinterSession:
        """A host connection with its own parser (pty lifetime or one TCP connection)."""
        session = PrinterSession(self)
        self._sessions.add(session)
        return session

    # -- derived state -----------------------------------------------------------------------
    @property
    def paper_mm(self) -> float:
        """Paper left on the roll."""
        return self.mechanism.paper_mm

    @property
    def online(self) -> bool:
        """Whether print data is being printed (not held in the receive buffer)."""
        return self._online

    @property
    def holding(self) -> bool:
        """Whether print data waits in the receive buffer."""
        return bool(self._buffer)

    def counter(self, number: int) -> int | None:
        """A ``GS g 2`` maintenance counter (20/21/50/70 resettable, +128 cumulative)."""
        return self.mechanism.counter(number)

    def reset_counter(self, number: int) -> None:
        """``GS g 0``: a resettable maintenance counter starts again from zero (others: nothing)."""
        if self.mechanism.reset_counter(number):
            self.record("counter_reset", counter=number)

    def status(self) -> dict[str, Any]:
        """Snapshot: faults, paper, head wear, counters, receipts, receive buffer."""
        self.settle()
        return {
            **super().status(),
            "online": self.online,
            "paper_mm": round(self.paper_mm, 1),
            "roll_mm": self.paper.capacity,
            "head_distance_m": round(self.state.distance_mm / 1000, 3),
            "head_dirt": round(
                self.state.since_clean_mm / (self.settings.head_clean_interval_m * 1000), 4
            ),
            "cuts": self.state.cuts,
            "receipts": self.receipts_printed,
            "queued_bytes": self.state.queued_bytes,
        }

    # -- paper and head (:mod:`devices.printer_mechanism`) ----------------------------------
    def settle(self) -> None:
        """Take the paper used so far from the roll and raise what the sensors now see."""
        self.mechanism.settle()

    # -- faults ------------------------------------------------------------------------------------
    def _apply(self, fault_id: str, active: bool) -> None:
        mechanism = self.mechanism
        if fault_id in (PAPER_OUT, NEAR_END) and active:
            mechanism.take_pending()  # the roll as it is now, before the fault sets it
        if fault_id == PAPER_OUT and active and self.paper.level > 0:
            mechanism.run_out()  # an injected paper-out: the roll is at its end
            if NEAR_END in self.modes:
                self.inject(NEAR_END)
        elif fault_id == NEAR_END and active:
            mechanism.cut_to_near_end()
        elif fault_id in (PAPER_OUT, NEAR_END) and not active:
            self._load_roll()
        elif fault_id == HEAD_DIRTY:
            mechanism.head_dirty(active)
        elif fault_id == OVERHEAT and active and self.settings.cooldown_s:
            self.arm("cool-down", self.settings.cooldown_s, self._cooled)
        self._changed()

    def _cooled(self) -> None:
        """The head cooled down: an overheat (still active) clears itself."""
        if self.has(OVERHEAT):
            self.clear(OVERHEAT)

    def _changed(self) -> None:
        """Status changed: print what was held if back online; push automatic status."""
        self._online = not self.condition().offline
        self.answers = self._condition[2]
        if self._buffer and self._online:
            self._drain()
        for session in list(self._sessions):
            session.push_status()

    def _load_roll(self) -> None:
        self.mechanism.load_roll()
        for fault in (PAPER_OUT, NEAR_END):
            if fault in self.modes:
                self.clear(fault)

    # -- stimuli ------------------------------------------------------------------------------------
    @action("refill-paper", "Staff put in a new paper roll")
    def refill_paper(self) -> str:
        """Staff put in a new roll: paper full again, near-end and paper-out cleared."""
        self.settle()
        self.record("paper_refilled", previous_mm=round(self.paper_mm, 1))
        self._load_roll()
        self._changed()
        return f"new roll loaded ({self.settings.roll_length_m:g} m)"

    def _set(self, fault_id: str, active: bool, message: str) -> str:
        if active:
            self.inject(fault_id)
        else:
            self.clear(fault_id)
        return message

    @action("open-cover", "Someone opens the paper cover")
    def open_cover(self) -> str:
        """The cover is opened: the printer goes offline until it is closed."""
        return self._set(COVER_OPEN, True, "cover opened")

    @action("close-cover", "Someone closes the paper cover")
    def close_cover(self) -> str:
        """The cover is closed again."""
        return self._set(COVER_OPEN, False, "cover closed")

    @action("clean-head", "Staff clean the print head")
    def clean_head(self) -> str:
        """Staff clean the print head: dirt gone, the head-dirty fault cleared."""
        self.record("head_cleaned", since_clean_m=round(self.state.since_clean_mm / 1000, 3))
        self.mechanism.clean_head()
        if HEAD_DIRTY in self.modes:
            self.clear(HEAD_DIRTY)
        return "print head cleaned"

    @action("feed-button", "Someone holds the FEED button for SECONDS", seconds=FEED_SECONDS)
    def feed_button(self, seconds: str = "0.5") -> str:
        """Someone holds the FEED button for ``seconds``: paper feeds, the printer is offline."""
        duration = FEED_SECONDS.parse(seconds)  # ValueError: act says the declared form
        if self.state.feeding:
            return "FEED is already held"
        cond = self.condition()
        if cond.cover_open or cond.paper_end or cond.error:
            return "FEED ignored: the printer cannot feed now"
        self.env.process(self._feed(duration))
        return f"FEED held for {duration:g} s"

    def _feed(self, duration: float) -> Generator[simpy.Event, Any, None]:
        self.state.feeding = True
        self.record("feed_button", seconds=duration)
        self._changed()
        yield self.env.timeout(duration)
        self.mechanism.advance(self.settings.feed_speed_mm_s * duration, 0)
        self.state.feeding = False
        self.settle()
        self._changed()

    @action("reset", "Power-cycle the printer")
    def reset(self) -> str:
        """Power-cycle (the remote remedy): clears offline and overheat, empties the buffers."""
        self.drop_held()
        self.page.reset()
        for session in list(self._sessions):
            session.restart()  # a command cut off mid-block is gone with the power
        self.record("reset")
        for fault in (OFFLINE, OVERHEAT):
            if fault in self.modes:
                self.clear(fault)
        return "printer reset"

    # -- counters-only use (``usage.mode: counters``) ----------------------------------------------
    def print_counted(self, mm: float, rows: int, receipt: str) -> None:
        """A receipt printed without its bytes: the paper, head and cutter wear of one that the
        page model measured as ``mm`` of feed and ``rows`` dot rows, then the cut. The paper is
        taken from the roll in batches (:meth:`Mechanism.advance` settles once the roll is near its end
        or the head due for cleaning, :meth:`status` always), so the sensors trip on the same
        receipt as with the bytes and a receipt costs no SimPy event.

        A counters-mode kiosk-year prints some 26,000 receipts, so :meth:`Mechanism.advance`
        and :meth:`cut_receipt` are written out here (the same arithmetic in the same order);
        ``tests/devices/test_counters_fast_path.py`` holds them to those two methods."""
        mechanism = self.mechanism
        s, ms = self.state, mechanism.settings
        left = float(mechanism.paper._level) - s.pending_mm  # Mechanism.paper_mm
        if left < mm:  # min(mm, left)
            mm = left
        s.pending_mm += mm
        s.distance_mm += mm
        s.since_clean_mm += mm
        s.energised += rows
        if left - mm <= ms.near_end_m * 1000 or s.since_clean_mm >= ms.head_clean_interval_m * 1000:
            mechanism.settle()
        s.cuts += 1
        if not receipt:
            return
        receipts = self.receipts
        receipts.append(receipt)
        self.receipts_printed += 1
        if self.log_limit is not None and len(receipts) > 2 * self.log_limit:
            del receipts[: -self.log_limit]
        self.record_values(_RECEIPT, _text_of(receipt))

    # -- the data path -------------------------------------------------------------------------------
    def handle(self, msg: p.Message, session: PrinterSession) -> bytes:
        """Act on one message from a host; returns the bytes to answer with right away."""
        if isinstance(msg, p.Command):
            if acted_on_arrival(msg):
                return b""  # acted on as it arrived (:meth:`PrinterSession.realtime`)
            if msg.prefix in QUERIES:
                return session.answer(msg)
        elif isinstance(msg, p.Unknown):
            self._unknown.note(self, UNKNOWN_PER_SECOND, 0, hex=msg.data[:16].hex(" "))
            return b""
        elif isinstance(msg, p.Block) and not _modelled(msg):
            # Consumed as a TM-T88 without that function would, and recorded for strict mode.
            head = (msg.prefix + msg.payload[:2]).hex(" ")
            self.record("unsupported_command", hex=head, bytes=len(msg.payload) + 5)
        if self._buffer or not self._online:
            self._buffer.hold(msg, self)
        else:
            self._print(msg)
        return b""

    def print_whole(self, data: bytes) -> bool:
        """Print a whole chunk of print data (a receipt sent in one write) through its layout,
        worked out once and remembered (:mod:`devices.printer_layout`), when the printer is
        online with nothing held; False (nothing done) when it cannot go in one piece, and the
        caller goes message by message."""
        if self._buffer.queue or not self._online or len(data) < p.MEMO_MIN:
            return False
        return self._whole.print(self, data)

    def _print(self, msg: p.Message) -> None:
        mm, rows, receipt = self.page.apply(msg)
        if mm:
            self.mechanism.advance(mm, rows)
        if receipt is not None:
            self.cut_receipt(receipt)
        elif isinstance(msg, p.Command) and msg.prefix == b"\x1bp":
            self.record("drawer_kick", pin=5 if msg.n in (1, 49) else 2)

    def cut_receipt(self, receipt: str) -> None:
        """The cutter cut: counted, and a receipt with text on it kept (the recent ones) and
        recorded with its text."""
        self.state.cuts += 1
        if not receipt:
            return
        self.receipts.append(receipt)
        self.receipts_printed += 1
        if self.log_limit is not None and len(self.receipts) > 2 * self.log_limit:
            del self.receipts[: -self.log_limit]  # recent ones; the store keeps them all
        self.record_values(_RECEIPT, _text_of(receipt))

    def drop_held(self) -> None:
        """Empty the receive buffer (cleared by the host, or power-cycled)."""
        self._buffer.clear()

    def _drain(self) -> None:
        while self._buffer and self._online:
            self._print(self._buffer.pop())
        self.settle()


_RECEIPT = Kind("receipt", "text")


@lru_cache(maxsize=256)
def _text_of(receipt: str) -> tuple[str]:
    """A receipt record's values (one tuple a receipt text, kept: a kiosk prints a few all day,
    and a record then holds no detail of its own in the log)."""
    return (receipt,)


def _modelled(msg: p.Block) -> bool:
    """Whether the page model renders this block: QR codes (``GS ( k`` cn 49) and raster
    graphics (``GS ( L``/``GS 8 L``); PDF417, MaxiCode and the rest are not modelled."""
    if msg.prefix == b"\x1d(k":
        return bool(msg.payload) and msg.payload[0] == 49
    return msg.prefix in (b"\x1d(L", b"\x1d8L")
