"""A virtual kiosk application and its customers as SimPy processes: customers arrive (Poisson,
within opening hours), touch the screen, pay by card or in cash and take a receipt, so the
devices wear as in the field. The application reaches the devices only as kiosk software does,
through their byte sessions with bytes built and read by the real codecs.

Enable it in a profile (``usage: {enabled: true, customers_per_hour: 8, ...}``); the terminal
starts :class:`KioskApp` with its devices. One customer is served at a time, in arrival order
(a single FIFO queue, no extra SimPy events for it). Staff rounds at opening time refill the
paper when the application saw near-end and collect the cash box on a schedule.
"""

from __future__ import annotations

import contextlib
import io
import logging
import random
from collections.abc import Generator, Mapping
from dataclasses import asdict, dataclass
from functools import cache, lru_cache
from typing import Any, Literal

import simpy
from pydantic import Field, model_validator

from devices.base import Device, Session, StreamDevice
from devices.protocols import ssp_messages as sm
from devices.protocols import stx_bcc as cr
from devices.protocols.hosts import Exchange
from devices.protocols.hosts.card_reader import CardReaderHost
from devices.protocols.hosts.escpos import PAPER, PRINTER, EscPosStatusHost
from devices.protocols.hosts.ssp import NEGOTIATION, SspAnswer, SspMaster
from devices.protocols.hosts.touch import TouchHost
from workbench.clock import DAY, HOUR
from workbench.config import Strict
from workbench.errors import DeviceError, ProtocolError

log = logging.getLogger(__name__)

BUTTONS = (
    ("480", "300"),
    ("1440", "300"),
    ("480", "780"),
    ("1440", "780"),
    ("960", "960"),
    ("960", "540"),
)
"""Screen pixels of the application's buttons (a 1920x1080 layout; confirm in the middle)."""


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
    notes: list[int] = [5, 10, 20, 50]
    """Face values customers pay with (each note drawn uniformly)."""
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


@cache
def receipt_bytes(method: str, lines: int) -> bytes:
    """A bill-payment receipt as python-escpos emits it (built once per method and length)."""
    logging.getLogger("escpos").setLevel(logging.ERROR)
    from escpos.printer import Dummy

    d = Dummy()
    d.set(align="center", bold=True, double_height=True)
    d.text("CITY SERVICE HALL\n")
    d.set(align="center", bold=False, normal_textsize=True)
    d.text("Terminal payment receipt\n\n")
    d.set(align="left")
    total = 0
    for i in range(lines):
        cents = 125 + 375 * i
        total += cents
        d.text(f"{'Service ' + str(i + 1):<30}{cents // 100:>9}.{cents % 100:02d}\n")
    d.set(bold=True)
    d.text(f"{'TOTAL':<30}{total // 100:>9}.{total % 100:02d}\n")
    d.set(bold=False)
    d.text({"card": "Paid by card ****0119\n", "cash": "Paid in cash\n"}.get(method, "Query\n"))
    with contextlib.redirect_stdout(io.StringIO()):  # python-escpos print()s its renderer
        d.barcode("4006381333931", "EAN13")
    d.text("Thank you\n")
    d.cut()
    return bytes(d.output)


# -- host-side decoding (the shared host drivers; pure functions of reply bytes are cached) -------
@lru_cache(maxsize=512)
def _poll_events(payload: bytes) -> tuple[sm.PollEvent, ...]:
    try:
        return tuple(sm.decode_poll_events(payload))
    except ProtocolError:
        return ()


_CREDIT, _STACKED, _REJECTED, _SLAVE_RESET = (
    int(e) for e in (sm.Event.CREDIT, sm.Event.STACKED, sm.Event.REJECTED, sm.Event.SLAVE_RESET)
)
_JAMS = frozenset(int(e) for e in (sm.Event.SAFE_JAM, sm.Event.UNSAFE_JAM, sm.Event.FRAUD_ATTEMPT))
_POLL, _OK, _KEY_NOT_SET = int(sm.Command.POLL), int(sm.Response.OK), int(sm.Response.KEY_NOT_SET)
"""Poll event codes, POLL and the responses the application acts on, as plain ints (compared
at every poll)."""

_PAPER = EscPosStatusHost.realtime(PAPER)
_PRINTER = EscPosStatusHost.realtime(PRINTER)
"""The printer status queries (an exchange holds no state: asked again and again)."""


@lru_cache(maxsize=256)
def _status_of(exchange: Exchange[set[str]], reply: bytes) -> frozenset[str] | None:
    """The conditions a status reply reports (decoded once per reply)."""
    conditions = exchange.feed(reply)
    return None if conditions is None else frozenset(conditions)


_taps = lru_cache(maxsize=4096)(TouchHost.taps)
"""Finished taps in what the controller pushed (whole packets, in process)."""


class KioskApp:
    """The kiosk application and the customers in front of it, on one terminal's devices."""

    def __init__(
        self,
        env: simpy.Environment,
        devices: Mapping[str, Device],
        settings: UsageSettings,
        *,
        rng: random.Random | None = None,
        name: str = "app",
    ) -> None:
        self.env = env
        self.settings = settings
        self.rng = rng or random.Random(0)
        self.name = name
        self.devices = devices
        self.stats = UsageStats()
        self.log: list[tuple[float, str]] = []
        self.paper_low = False
        """The printer said paper near end (or out) at the last check."""
        self._sessions: dict[str, Session] = {}
        for dev in ("printer", "bill_validator", "card_reader", "touchscreen"):
            device = devices.get(dev)
            if isinstance(device, StreamDevice):
                self._sessions[dev] = device.new_session()
        touch = self._sessions.get("touchscreen")
        if touch is not None:
            touch.attach(self._on_touch_bytes)
        if "printer" in devices:  # python-escpos builds them now, not mid-simulation
            for method in ("card", "cash", "lookup"):
                receipt_bytes(method, settings.receipt_lines)
        self._validator = SspMaster()
        """The SSP host (sequence flag; the eSSP channel once the validator asked for one)."""
        self._reader = CardReaderHost()
        self._validator_ready = False
        self._reader_ready = False
        self._note_args = [str(v) for v in settings.notes]

    # -- bookkeeping ---------------------------------------------------------------------------
    def record(self, kind: str, **detail: Any) -> None:
        """Append ``(now, "kind k=v ...")`` to the application's log."""
        text = kind + "".join(f" {k}={v}" for k, v in detail.items())
        self.log.append((self.env.now, text))

    def status(self) -> dict[str, Any]:
        """The application's counters (JSON-able)."""
        return asdict(self.stats)

    def start(self) -> None:
        """Start the customers and the staff rounds."""
        self.env.process(self._customers())
        s = self.settings
        if s.refill_paper or s.collect_cash_every_d or s.repair_faults:
            self.env.process(self._staff())

    # -- time of day ---------------------------------------------------------------------------
    def _next_opening(self, t: float) -> float:
        day, into = divmod(t, DAY)
        opens = self.settings.opens_h * HOUR
        return day * DAY + opens if into < opens else (day + 1) * DAY + opens

    def _arrivals(self) -> Generator[float, None, None]:
        """Arrival times of a Poisson stream that only runs while the kiosk is open."""
        s = self.settings
        rate = s.customers_per_hour / HOUR
        opens, closes = s.opens_h * HOUR, s.closes_h * HOUR
        t = self.env.now
        expo = self.rng.expovariate
        while True:
            into = t % DAY
            if not opens <= into < closes:
                t = self._next_opening(t)
                into = opens
            gap = expo(rate)
            if into + gap < closes:
                t += gap
                yield t
            else:  # memoryless: start afresh at the next opening
                t = self._next_opening(t - into + closes)

    def _customers(self) -> Generator[simpy.Event, Any, None]:
        """Serve customers one at a time in arrival order (a FIFO queue in front of one kiosk)."""
        env = self.env
        for at in self._arrivals():
            if at > env.now:
                yield env.timeout(at - env.now)
            yield from self._serve()

    # -- one customer --------------------------------------------------------------------------
    def _serve(self) -> Generator[simpy.Event, Any, None]:
        s, rng, stats = self.settings, self.rng, self.stats
        stats.customers += 1
        if "touchscreen" in self._sessions:
            for _ in range(s.touches):
                yield self.env.timeout(rng.uniform(0.5, 1.5) * s.think_s)
                if not self._tap(rng.choice(BUTTONS)) and not self._tap(BUTTONS[-1]):
                    stats.walked_away += 1
                    self.record("walked_away", reason="screen")
                    return
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
            paid = yield from self._pay_cash()
            if not paid and "card_reader" in self._sessions:  # cash refused: try the card
                method = "card"
                paid = yield from self._pay_card()
        elif method == "card":
            paid = yield from self._pay_card()
        else:
            stats.lookups += 1
        if not paid:
            stats.walked_away += 1
            return
        self._print(method)

    def _tap(self, where: tuple[str, str]) -> bool:
        seen = self.stats.touches_seen
        self.devices["touchscreen"].act("touch", *where)
        return self.stats.touches_seen > seen

    def _on_touch_bytes(self, data: bytes) -> None:
        self.stats.touches_seen += _taps(data)

    # -- card ----------------------------------------------------------------------------------
    def _card(self, cm: str, pm: str) -> cr.Reply | None:
        session = self._sessions["card_reader"]
        raw = session.feed(self._reader.request(cm, pm))
        if not raw:
            return None
        try:
            reply = self._reader.answer(raw)
        except ProtocolError:
            log.debug("%s: unreadable card reader reply %s", self.name, raw.hex(" "))
            return None
        session.feed(self._reader.ack())
        return reply

    def _pay_card(self) -> Generator[simpy.Event, Any, bool]:
        reader = self.devices["card_reader"]
        if not self._reader_ready:
            init = self._card(cr.CM_INIT, "0")
            self._reader_ready = init is not None and init.positive
        opened = self._card(cr.CM_ENTRY, "0")
        if opened is None or not opened.positive:
            self.record("card_refused", reason="reader" if opened is None else opened.code)
            self._reader_ready = False
            return False
        yield self.env.timeout(self.rng.uniform(2.0, 6.0))
        try:
            reader.act("insert-card")
        except DeviceError:
            self.record("card_refused", reason="slot_busy")
            return False
        status = self._card(cr.CM_STATUS, "0")
        if status is None or status.code[0] != cr.POSITION_CODES["inside"]:
            self._card(cr.CM_ENTRY, "1")
            self.record("card_refused", reason="not_inside")
            return False
        track = None
        for _ in range(3):
            reply = self._card(cr.CM_READ, "2")
            if reply is not None and reply.positive:
                track = reply.data
                break
            self.stats.card_read_errors += 1
        ejected = self._card(cr.CM_CARRY, "0")
        if ejected is None or not ejected.positive:
            self.record("card_stuck", error="none" if ejected is None else ejected.code)
            self._reader_ready = False
            return False
        yield self.env.timeout(self.settings.take_card_s)
        reader.act("take-card")
        if track is None:
            self.record("card_unreadable")
            return False
        self.stats.card_payments += 1
        return True

    # -- cash ----------------------------------------------------------------------------------
    def _ssp(self, code: int, params: bytes = b"") -> tuple[int, bytes] | None:
        ask = self._ask_validator
        answer = ask(self._validator.request(code, params))
        # A validator that requires eSSP answers KEY NOT SET: negotiate a key as ITL's host
        # library does, then send the command again, encrypted.
        wants_key = answer is not None and answer[0] == _KEY_NOT_SET
        if wants_key and code not in NEGOTIATION and self._negotiate():
            answer = ask(self._validator.request(code, params))
        return answer

    def _ask_validator(self, request: bytes) -> SspAnswer | None:
        raw = self._sessions["bill_validator"].feed(request)
        if not raw:
            return None
        try:
            return self._validator.answer(raw)
        except ProtocolError:
            return None

    def _negotiate(self) -> bool:
        """eSSP key negotiation (SET GENERATOR, SET MODULUS, REQUEST KEY EXCHANGE)."""
        payload = b""
        for _, exchange in self._validator.negotiation():
            answer = self._ask_validator(exchange.request)
            if answer is None or answer[0] != sm.Response.OK:
                return False
            payload = answer[1]
        try:
            self._validator.finish_negotiation(payload)
        except ProtocolError:
            return False
        return True

    def _validator_setup(self) -> bool:
        """SYNC, SETUP REQUEST (the dataset: how many channels) and SET INHIBITS (accept all)."""
        answer = self._ssp(sm.Command.SYNC)
        if answer is None or answer[0] != sm.Response.OK:
            return False
        answer = self._ssp(sm.Command.SETUP_REQUEST)
        if answer is None or answer[0] != sm.Response.OK:
            return False
        try:
            channels = len(sm.SetupData.decode(answer[1]).values)
        except ProtocolError:
            return False
        answer = self._ssp(sm.Command.SET_INHIBITS, sm.inhibit_mask(range(1, channels + 1)))
        return answer is not None and answer[0] == sm.Response.OK

    def _pay_cash(self) -> Generator[simpy.Event, Any, bool]:
        s, rng = self.settings, self.rng
        validator = self.devices["bill_validator"]
        if not self._validator_ready:
            self._validator_ready = self._validator_setup()
        answer = self._ssp(sm.Command.ENABLE)
        if answer is None or answer[0] != sm.Response.OK:
            self._validator_ready = False
            self.record("cash_refused", reason="validator")
            return False
        self._ssp(sm.Command.POLL)  # events left from before are not this customer's
        credited = 0
        for _ in range(rng.randint(1, s.max_notes)):
            yield self.env.timeout(rng.uniform(2.0, 5.0))
            value = rng.choice(self._note_args)
            if "taken in" not in validator.act("insert-note", value):
                break
            outcome = yield from self._follow_note()
            if outcome == "credit":
                credited += int(value)
            elif outcome != "rejected":
                break
        self._ssp(sm.Command.DISABLE)
        if not credited:
            self.record("cash_refused", reason="no_credit")
            return False
        self.stats.cash_payments += 1
        self.stats.cash_credited += credited
        return True

    def _follow_note(self) -> Generator[simpy.Event, Any, str]:
        """Poll until the note is stacked or returned; ``credit``, ``rejected`` or a failure."""
        s = self.settings
        deadline = self.env.now + s.note_timeout_s
        credit = False
        while self.env.now < deadline:
            yield self.env.timeout(s.poll_interval_s)
            answer = self._ssp(_POLL)
            if answer is None or answer[0] != _OK:
                continue
            for event in _poll_events(answer[1]):
                code = event.code
                if code == _CREDIT:
                    credit = True
                    self.stats.notes_credited += 1
                elif code == _STACKED:
                    return "credit"
                elif code == _REJECTED:
                    self.stats.notes_returned += 1
                    return "rejected"
                elif code in _JAMS:
                    self.record("note_jammed", event=sm.Event(code).name)
                    return "credit" if credit else "jam"
                elif code == _SLAVE_RESET:
                    self._validator_ready = False
        return "credit" if credit else "timeout"

    # -- receipt -------------------------------------------------------------------------------
    def _print(self, method: str) -> None:
        session = self._sessions.get("printer")
        if session is None:
            return
        stats = self.stats
        try:
            sensors = _status_of(_PAPER, session.feed(_PAPER.request))
            status = _status_of(_PRINTER, session.feed(_PRINTER.request))
        except ProtocolError:
            sensors = status = None
        if sensors is None:
            sensors = frozenset({"paper_end"})
        offline = status is None or "offline" in status
        low = bool(sensors)
        if low and not self.paper_low:
            self.record("paper_low", sensors=",".join(sorted(sensors)))
        self.paper_low = low
        if offline or "paper_end" in sensors:
            stats.receipts_skipped += 1
            return
        session.feed(receipt_bytes(method, self.settings.receipt_lines))
        stats.receipts += 1

    # -- staff ---------------------------------------------------------------------------------
    def _staff(self) -> Generator[simpy.Event, Any, None]:
        s = self.settings
        next_collection = (
            self.env.now + s.collect_cash_every_d * DAY if s.collect_cash_every_d else None
        )
        while True:
            yield self.env.timeout(self._next_opening(self.env.now) - self.env.now)
            if s.refill_paper and self.paper_low and "printer" in self.devices:
                self.devices["printer"].act("refill-paper")
                self.paper_low = False
                self.stats.paper_refills += 1
                self.record("paper_refilled")
            if next_collection is not None and self.env.now >= next_collection:
                if "bill_validator" in self.devices:
                    self.devices["bill_validator"].act("empty-cashbox")
                    self.stats.cash_collections += 1
                    self.record("cash_collected")
                assert s.collect_cash_every_d is not None
                next_collection += s.collect_cash_every_d * DAY
            if s.repair_faults:
                for device in self.devices.values():
                    for fault_id in sorted(device.active):
                        device.clear(fault_id)
                        self.record("repaired", fault=fault_id)
