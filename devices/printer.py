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
"""

from __future__ import annotations

import logging
import random
import weakref
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy
from pydantic import Field

from devices.base import EventSink, Session, StreamDevice, action
from devices.protocols import escpos as p
from devices.protocols import escpos_status as st
from devices.protocols.escpos_page import Page
from workbench.config import Strict
from workbench.errors import DeviceError
from workbench.faults import FaultMode

log = logging.getLogger(__name__)

PAPER_OUT = "printer.paper_out"
NEAR_END = "printer.paper_near_end"
COVER_OPEN = "printer.cover_open"
CUTTER_JAM = "printer.cutter_jam"
OVERHEAT = "printer.head_overheat"
HEAD_DIRTY = "printer.head_dirty"
OFFLINE = "printer.offline"
PAPER_JAM = "printer.paper_jam"
LINE_MM = 25.4 / 6
"""One standard line (1/6 inch): the unit of the line-feed maintenance counter."""
UNKNOWN_PER_SECOND = 20
"""Unknown commands recorded one by one per second; the rest of that second are counted."""
DISCARDS_PER_SECOND = 20
"""Discarded messages recorded one by one per second (host clock); the rest are counted."""


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


class Printer(StreamDevice[PrinterSettings]):
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
        capacity = settings.roll_length_m * 1000.0
        level = capacity if settings.paper_m is None else min(capacity, settings.paper_m * 1000)
        self.paper = simpy.Container(env, capacity=capacity, init=level)
        self.state = PrinterState(distance_mm=settings.head_distance_m * 1000, cuts=settings.cuts)
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
        self._queue: deque[p.Message] = deque()
        self._resettable: dict[int, float] = {
            20: self.state.distance_mm / LINE_MM,
            21: 0.0,
            50: float(settings.cuts),
            70: 0.0,
        }
        """Cumulative counter values at the last ``GS g 0`` (resettable = cumulative - base); a
        printer that starts with wear on its counters starts freshly serviced."""
        self._sessions: weakref.WeakSet[PrinterSession] = weakref.WeakSet()
        self._online = True
        self._unknown = _Throttle("unknown_command", "unknown_commands_suppressed")
        self._discards = _Throttle("data_discarded", "data_discards_suppressed")
        self._not_laid_out: set[bytes] = set()
        """Chunks seen not to be plain print data (:meth:`print_whole` leaves them alone)."""
        self._check_paper()

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
        return float(self.paper.level) - self.state.pending_mm

    def condition(self) -> st.Condition:
        """What the sensors and error logic report now (the source of every status byte)."""
        out, cover, feeding = self.has(PAPER_OUT), self.has(COVER_OPEN), self.state.feeding
        cutter, jam, hot = self.has(CUTTER_JAM), self.has(PAPER_JAM), self.has(OVERHEAT)
        error = cutter or jam or hot or self.has(OFFLINE)
        return st.Condition(
            offline=out or cover or feeding or error,
            cover_open=cover,
            feeding=feeding,
            paper_end_stop=out,
            error=error,
            cutter_error=cutter,
            unrecoverable_error=jam,
            auto_recoverable_error=hot,
            near_end=out or self.has(NEAR_END),
            paper_end=out,
        )

    @property
    def online(self) -> bool:
        """Whether print data is being printed (not held in the receive buffer)."""
        return self._online

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

    # -- paper and head physics ------------------------------------------------------------------
    def _advance(self, mm: float, rows: int) -> None:
        """Paper moved ``mm`` past the head with ``rows`` dot rows printed."""
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
        self._take_pending()
        self._check_paper()
        if self.state.since_clean_mm >= self.settings.head_clean_interval_m * 1000:
            self.worn(HEAD_DIRTY)

    def _take_pending(self) -> None:
        """Take the paper used so far from the roll (no sensor checks)."""
        s = self.state
        if s.pending_mm > 0:
            take = min(s.pending_mm, float(self.paper.level))
            s.pending_mm = 0.0
            if take > 0:
                self.paper.get(take)

    def _check_paper(self) -> None:
        level = float(self.paper.level)
        if level <= self.settings.near_end_m * 1000:
            self.worn(NEAR_END)
        if level <= 1e-9:
            self.worn(PAPER_OUT)

    # -- faults ------------------------------------------------------------------------------------
    def _apply(self, fault_id: str, active: bool) -> None:
        s = self.state
        if fault_id in (PAPER_OUT, NEAR_END) and active:
            self._take_pending()  # the roll as it is now, before the fault sets it
        if fault_id == PAPER_OUT and active and self.paper.level > 0:
            self.paper.get(self.paper.level)  # an injected paper-out: the roll is at its end
            if NEAR_END in self.modes:
                self.inject(NEAR_END)
        elif fault_id == NEAR_END and active:
            excess = float(self.paper.level) - self.settings.near_end_m * 1000
            if excess > 0:
                self.paper.get(excess)
        elif fault_id in (PAPER_OUT, NEAR_END) and not active:
            self._load_roll()
        elif fault_id == HEAD_DIRTY:
            # The resettable line-feed counter (20) runs from the last cleaning, as service staff
            # reset it when they clean: a dirty head shows it past the cleaning interval.
            interval = self.settings.head_clean_interval_m * 1000
            s.since_clean_mm = max(s.since_clean_mm, interval) if active else 0.0
            self._resettable[20] = (s.distance_mm - s.since_clean_mm) / LINE_MM
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
        if self._queue and self._online:
            self._drain()
        for session in list(self._sessions):
            session.push_status()

    def _load_roll(self) -> None:
        missing = self.paper.capacity - float(self.paper.level)
        if missing > 0:
            self.paper.put(missing)
        self.state.pending_mm = 0.0
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
        self.state.since_clean_mm = 0.0
        self._resettable[20] = self.state.distance_mm / LINE_MM
        if HEAD_DIRTY in self.modes:
            self.clear(HEAD_DIRTY)
        return "print head cleaned"

    @action("feed-button", "Someone holds the FEED button for SECONDS")
    def feed_button(self, seconds: str = "0.5") -> str:
        """Someone holds the FEED button for ``seconds``: paper feeds, the printer is offline."""
        try:
            duration = float(seconds)
        except ValueError:
            raise DeviceError(f"feed-button seconds(={seconds!r}) must be a number") from None
        if not 0 < duration <= 60:
            raise DeviceError(f"feed-button seconds(={duration}) must be in (0, 60]")
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
        self._advance(self.settings.feed_speed_mm_s * duration, 0)
        self.state.feeding = False
        self.settle()
        self._changed()

    @action("reset", "Power-cycle the printer")
    def reset(self) -> str:
        """Power-cycle (the remote remedy): clears offline and overheat, empties the buffers."""
        self._queue.clear()
        self.state.queued_bytes = 0
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
        taken from the roll in batches (:meth:`_advance` settles once the roll is near its end
        or the head due for cleaning, :meth:`status` always), so the sensors trip on the same
        receipt as with the bytes and a receipt costs no SimPy event."""
        self._advance(mm, rows)
        self.state.cuts += 1
        if receipt:
            self._keep(receipt)

    # -- the data path -------------------------------------------------------------------------------
    def handle(self, msg: p.Message, session: PrinterSession) -> bytes:
        """Act on one message from a host; returns the bytes to answer with right away."""
        if isinstance(msg, p.Command):
            if msg.prefix in _SCANNED or (msg.prefix == b"\x10\x04" and 1 <= msg.n <= 4):
                return b""  # acted on as it arrived (:meth:`realtime`)
            if msg.prefix in _QUERIES:
                return self._answer(msg, session)
        elif isinstance(msg, p.Unknown):
            self._noisy(self._unknown, UNKNOWN_PER_SECOND, 0, hex=msg.data[:16].hex(" "))
            return b""
        elif isinstance(msg, p.Block) and not _modelled(msg):
            # Consumed as a TM-T88 without that function would, and recorded for strict mode.
            head = (msg.prefix + msg.payload[:2]).hex(" ")
            self.record("unsupported_command", hex=head, bytes=len(msg.payload) + 5)
        if self._queue or not self._online:
            self._hold(msg)
        else:
            self._print(msg)
        return b""

    def realtime(self, cmd: p.Command, session: PrinterSession) -> bytes:
        """A real-time command found in the received bytes, acted on as it arrives, whatever the
        parser is in the middle of; ``DLE DC4 8`` and a ``DLE ENQ 2`` that recovers from an error
        also drop what the parser holds (the receive buffer)."""
        if cmd.prefix == b"\x10\x14\x08" or (
            cmd.prefix == b"\x10\x05" and cmd.n == 2 and not self.online
        ):
            self._queue.clear()
            self.state.queued_bytes = 0
            session.restart()
            self.record("buffers_cleared", by=cmd.name)
            return p.CLEAR_RESPONSE if cmd.prefix == b"\x10\x14\x08" else b""
        return self._answer(cmd, session)

    def _noisy(self, throttle: _Throttle, per_second: int, size: int, **detail: Any) -> None:
        """Record an event that line noise can raise thousands of times a megabyte (unknown
        commands, data lost to a full receive buffer) at most ``per_second`` times a second (host
        clock), and the rest of that second in one ``..._suppressed count= bytes=`` record when
        the next one comes: each record is a row in the store, written while the port waits."""
        now = self.env.now
        if now - throttle.start >= self.host_span(1.0):
            if throttle.suppressed:
                extra = {"bytes": throttle.bytes} if throttle.bytes else {}
                self.record(throttle.summary, count=throttle.suppressed, **extra)
            throttle.start, throttle.recorded, throttle.suppressed, throttle.bytes = now, 0, 0, 0
        if throttle.recorded < per_second:
            self.record(throttle.kind, **detail)
            throttle.recorded += 1
        else:
            throttle.suppressed += 1
            throttle.bytes += size

    def _answer(self, msg: p.Command, session: PrinterSession) -> bytes:
        """A real-time command or status query (see :data:`_QUERIES`)."""
        prefix, n, args = msg.prefix, msg.n, msg.args
        if prefix in (b"\x10\x04", b"\x1dr"):
            self.settle()
            cond = self.condition()
            return st.realtime_status(cond, n) if prefix[0] == 0x10 else st.transmit_status(cond, n)
        if prefix == b"\x1dI":
            return st.printer_id(self.identity, n)
        if prefix == b"\x1dg2":
            value = self.counter(int.from_bytes(args[1:3], "little")) if args[0] == 0 else None
            return b"" if value is None else st.counter_reply(value)
        if prefix == b"\x1da":
            session.asb = n & 0x0F
            session.last_asb = st.auto_status(self.condition()) if session.asb else b""
            return session.last_asb
        number = int.from_bytes(args[1:3], "little")
        if prefix == b"\x1dg0" and number in self._resettable and args[0] == 0:
            self._resettable[number] = float(self.counter(number + 128) or 0)
            self.record("counter_reset", counter=number)
        elif prefix == b"\x10\x14\x01":
            self.record("drawer_kick", pin=5 if n else 2)
        return b""

    def print_whole(self, data: bytes) -> bool:
        """Print a whole chunk of print data (a receipt sent in one write) through its layout,
        worked out once and remembered (:meth:`Page.layout`), when the printer is online with
        nothing held, the chunk only lays out, and no sensor can trip inside it. The paper, head
        and cutter take the same steps in the same order as message by message; False (nothing
        done) otherwise, and the caller goes message by message."""
        if self._queue or not self._online or len(data) < p.MEMO_MIN:
            return False
        page = self.page
        layout = page.known_layout(data)
        if layout is None:
            if data in self._not_laid_out:
                return False
            parser = p.Parser()
            messages = parser.feed(data)
            layout = None if parser.pending else page.layout(data, messages)
            if layout is None:
                if len(self._not_laid_out) >= 64:
                    self._not_laid_out.clear()
                self._not_laid_out.add(data)
                return False
        s, settings = self.state, self.settings
        margin = 1e-6  # the step-by-step sums may differ from the total in the last bits
        if (
            self.paper_mm - layout.mm <= settings.near_end_m * 1000 + margin
            or s.since_clean_mm + layout.mm >= settings.head_clean_interval_m * 1000 - margin
        ):
            return False  # near end or a dirty head would show inside it: message by message
        page.adopt(layout.end)
        for mm, rows, receipt in layout.steps:
            if mm:  # what _advance does when no sensor can trip: the same sums, in order
                s.pending_mm += mm
                s.distance_mm += mm
                s.since_clean_mm += mm
                s.energised += rows
            if receipt is not None:
                self._cut(receipt)
        return True

    def _print(self, msg: p.Message) -> None:
        mm, rows, receipt = self.page.apply(msg)
        if mm:
            self._advance(mm, rows)
        if receipt is not None:
            self._cut(receipt)
        elif isinstance(msg, p.Command) and msg.prefix == b"\x1bp":
            self.record("drawer_kick", pin=5 if msg.n in (1, 49) else 2)

    def _cut(self, receipt: str) -> None:
        self.state.cuts += 1
        if receipt:
            self.settle()
            self._keep(receipt)

    def _keep(self, receipt: str) -> None:
        """A receipt was cut: kept (the recent ones) and recorded with its text."""
        self.receipts.append(receipt)
        self.receipts_printed += 1
        if self.log_limit is not None and len(self.receipts) > 2 * self.log_limit:
            del self.receipts[: -self.log_limit]  # recent ones; the store keeps them all
        self.record("receipt", text=receipt)

    def _hold(self, msg: p.Message) -> None:
        size = _size(msg)
        if self.state.queued_bytes + size > self.settings.receive_buffer:
            self._noisy(self._discards, DISCARDS_PER_SECOND, size, bytes=size)
            return
        self._queue.append(msg)
        self.state.queued_bytes += size

    def _drain(self) -> None:
        while self._queue and self._online:
            msg = self._queue.popleft()
            self.state.queued_bytes -= _size(msg)
            self._print(msg)
        self.settle()


@dataclass(slots=True)
class _Throttle:
    """One second's records of a noisy event (see :meth:`Printer._noisy`)."""

    kind: str
    summary: str
    """The kind of the record that counts the suppressed ones."""
    start: float = float("-inf")
    recorded: int = 0
    suppressed: int = 0
    bytes: int = 0


def _modelled(msg: p.Block) -> bool:
    """Whether the page model renders this block: QR codes (``GS ( k`` cn 49) and raster
    graphics (``GS ( L``/``GS 8 L``); PDF417, MaxiCode and the rest are not modelled."""
    if msg.prefix == b"\x1d(k":
        return bool(msg.payload) and msg.payload[0] == 49
    return msg.prefix in (b"\x1d(L", b"\x1d8L")


def _size(msg: p.Message) -> int:
    if isinstance(msg, p.Text | p.Unknown):
        return len(msg.data)
    if isinstance(msg, p.Raster | p.BitImage | p.Barcode):
        return len(msg.data) + 8
    if isinstance(msg, p.Block):
        return len(msg.payload) + 7
    if isinstance(msg, p.Command):
        return len(msg.prefix) + len(msg.args)
    return 1


_QUERIES = frozenset(
    {b"\x10\x04", b"\x10\x05", b"\x10\x14\x01", b"\x10\x14\x02", b"\x10\x14\x08"}
    | {b"\x1dr", b"\x1dI", b"\x1dg2", b"\x1dg0", b"\x1da"}
)
"""Real-time commands and status queries: answered at once, whatever the printer's state."""
_STATUS_QUERIES = {
    bytes((0x10, 0x04, n)): p.Command(b"\x10\x04", bytes((n,))) for n in (1, 2, 3, 4)
}
"""``DLE EOT 1-4``, the status query a host sends most, by its bytes."""
_SCANNED = frozenset({b"\x10\x05", b"\x10\x14\x01", b"\x10\x14\x08"})
"""Real-time commands :class:`escpos.RealtimeScanner` finds in the raw bytes (with ``DLE EOT
1-4``): the parser's copy of them is not acted on twice."""


class PrinterSession(Session):
    """One host connection: its own parser over the shared printer; automatic status back goes
    out through the writer the pty attaches."""

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self.parser = p.Parser()
        self.scanner = p.RealtimeScanner()
        self.asb = 0
        """``GS a`` mask: automatic status back is on when non-zero."""
        self.last_asb = b""

    def push_status(self) -> None:
        """Send the 4-byte automatic status when it changed and ASB is on."""
        if not self.asb or self._write is None:
            return
        block = st.auto_status(self.printer.condition())
        if block != self.last_asb:
            self.last_asb = block
            self._write(block)

    def restart(self) -> None:
        """Drop a partly received command (buffers cleared, or the printer power-cycled)."""
        self.parser = p.Parser()
        self.scanner.reset()

    def feed(self, data: bytes) -> bytes:
        """Bytes from the host in; the immediate answers out.

        Real-time commands are acted on where they end in ``data`` (the parser reads the same
        bytes as it always does), so a host polling ``DLE EOT`` gets its answer even while the
        parser sits inside a long image or block."""
        printer = self.printer
        query = _STATUS_QUERIES.get(data)
        if query is not None and not self.parser.pending and not self.scanner.pending:
            # A lone DLE EOT n between commands: the parser would read it as a command acted on
            # as it arrived and do nothing more with it, so only its answer is left to give.
            out = printer.realtime(query, self)
            printer.settle()
            return out
        out = b""
        start = 0
        for end, cmd in self.scanner.scan(data):
            out += self._parse(data[start:end])
            out += printer.realtime(cmd, self)
            start = end
        out += self._parse(data[start:] if start else data)
        printer.settle()
        return out

    def _parse(self, data: bytes) -> bytes:
        if not self.parser.pending and self.printer.print_whole(data):
            return b""  # a whole chunk of print data, parsed and laid out before
        out = b""
        handle = self.printer.handle
        for msg in self.parser.feed(data):
            reply = handle(msg, self)
            if reply:
                out += reply
        return out
