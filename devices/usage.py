"""A virtual kiosk application and its customers as SimPy processes: customers arrive (Poisson,
within opening hours), touch the screen, pay by card or in cash and take a receipt, so the
devices wear as in the field. The application reaches the devices only as kiosk software does,
through their byte sessions with bytes built and read by the real codecs.

Enable it in a profile (``usage: {enabled: true, customers_per_hour: 8, ...}``); the terminal
starts :class:`KioskApp` with its devices. One customer is served at a time, in arrival order
(a single FIFO queue, no extra SimPy events for it). Staff rounds at opening time refill the
paper when the application saw near-end and collect the cash box on a schedule.

Paying in cash (the SSP host side of the bill validator) is :mod:`devices.usage_cash`, paying by
card (the card reader's host side) :mod:`devices.usage_card`, both mixed into :class:`KioskApp`. The settings and counts are :mod:`devices.usage_settings`, the receipt
:mod:`devices.usage_receipt` (importable from here too).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Generator, Mapping
from dataclasses import asdict
from functools import lru_cache
from typing import Any

import simpy

from devices.base import Device, Session, StreamDevice
from devices.protocols.hosts import Exchange
from devices.protocols.hosts.escpos import PAPER, PRINTER, EscPosStatusHost
from devices.protocols.hosts.touch import TouchHost
from devices.touchscreen import Touchscreen
from devices.usage_card import CardPayment
from devices.usage_cash import CashPayment
from devices.usage_receipt import receipt_bytes
from devices.usage_settings import UsageSettings, UsageStats
from workbench.clock import DAY, HOUR, VIRTUAL
from workbench.errors import ProtocolError
from workbench.memo import Memo
from workbench.waits import wait_behind

__all__ = ["BUTTONS", "CONFIRM", "KioskApp", "UsageSettings", "UsageStats", "receipt_bytes"]

BUTTONS = ((480, 300), (1440, 300), (480, 780), (1440, 780), (960, 960), (960, 540))
"""Screen pixels of the application's buttons (a 1920x1080 layout; confirm in the middle)."""
CONFIRM = BUTTONS[-1]
_NBUTTONS = len(BUTTONS)
_BUTTON_BITS = _NBUTTONS.bit_length()
"""The bits ``rng.choice(BUTTONS)`` draws at a time (``Random._randbelow``), until below 6."""


# -- host-side decoding (the shared host drivers; pure functions of reply bytes are cached) -------
_PAPER = EscPosStatusHost.realtime(PAPER)
_PRINTER = EscPosStatusHost.realtime(PRINTER)
"""The printer status queries (an exchange holds no state: asked again and again)."""


def _conditions(exchange: Exchange[set[str]]) -> Callable[[bytes], frozenset[str] | None]:
    """The conditions a reply to ``exchange`` reports, decoded once per reply (a reply is one of
    a few status bytes; the cache is the exchange's own, so only the reply is hashed)."""

    @lru_cache(maxsize=256)
    def of(reply: bytes) -> frozenset[str] | None:
        conditions = exchange.feed(reply)
        return None if conditions is None else frozenset(conditions)

    return of


_paper_sensors = _conditions(_PAPER)
_printer_status = _conditions(_PRINTER)


class _Taps(Memo[bytes, int]):
    """Finished taps in what the controller pushed (whole packets, in process), by the bytes:
    ``_TAPS[data]``. A tap's packets are one ``bytes`` object for as long as its raw point holds
    (:mod:`devices.touch_points`), whose hash Python keeps, so a tap read before is a subscript:
    half the instructions of an ``lru_cache`` hit (about 600 against 1,100), which builds a key
    and moves the entry to the front. Bounded as the cache was, by starting afresh."""

    limit = 4096

    def make(self, key: bytes) -> int:
        return TouchHost.taps(key)


_TAPS = _Taps()


class KioskApp(CashPayment, CardPayment):
    """The kiosk application and the customers in front of it, on one terminal's devices."""

    inline_waits = True
    """Take waits in place in virtual time (:meth:`_wait`); False makes every wait an event,
    as a test that checks the two runs alike does."""

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
        screen = devices.get("touchscreen")
        self._screen = screen if touch is not None and isinstance(screen, Touchscreen) else None
        """The touchscreen the customers tap (its packets come back on the session)."""
        if touch is not None:
            touch.attach(self._on_touch_bytes)
        self._receipt_data = (  # python-escpos builds them now, not mid-simulation
            {m: receipt_bytes(m, settings.receipt_lines) for m in ("card", "cash", "lookup")}
            if "printer" in devices
            else {}
        )
        # The settings a customer reads, copied once: they are immutable, and a pydantic
        # model's field costs about four plain attribute reads (the model has __getattr__)
        self._mix = (settings.cash_share, settings.cash_share + settings.card_share)
        """The payment draw's bounds: below the first cash, below the second card."""
        self._touch_plan = (settings.touches, settings.think_s)
        self._timed = next(iter(devices.values()), None)
        """A device whose clock the application's waits follow (every device has the terminal's)."""
        self._init_card()
        self._init_cash()

    # -- bookkeeping ---------------------------------------------------------------------------
    def record(self, kind: str, **detail: Any) -> None:
        """Append ``(now, "kind k=v ...")`` to the application's log."""
        text = kind + "".join(f" {k}={v}" for k, v in detail.items())
        self.log.append((self.env.now, text))

    def _wait(self, delay: float) -> simpy.Event | None:
        """The event to yield for ``delay`` seconds, or None when they passed in place (virtual
        time: :func:`workbench.waits.wait_in_place`). Every wait of a customer and of the cash
        payment goes through here, but for the usual case of a think time and of the wait for
        the next arrival, which :meth:`_touches` and :meth:`_customers` take in place with the
        same test (the staff's round at opening, once a day, is an event)."""
        env = self.env
        timed = self._timed
        if self.inline_waits and timed is not None and timed.clock is VIRTUAL:
            # wait_in_place's usual case, nothing due before the end nor at it, taken here (a
            # customer waits about twenty times, and the call was a frame each time), the rest
            # behind what is due (wait_behind: wait_in_place without that test again)
            at = env._now + delay
            queue = env._queue
            if not queue or queue[0][0] > at:
                env._now = at
                return None
            return wait_behind(env, delay)
        return env.timeout(delay)

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

    def _customers(self) -> Generator[simpy.Event, Any, None]:
        """Serve customers one at a time in arrival order (a FIFO queue in front of one kiosk),
        who arrive as a Poisson stream that only runs while the kiosk is open.

        The gap to the next arrival is ``rng.expovariate(rate)`` written out as
        :class:`random.Random` computes it, ``-log(1.0 - random()) / rate``, and the wait for
        it takes :meth:`_wait`'s usual case (nothing due before it ends) here, as
        :meth:`_touches` does: an arrival was a generator's step and two calls (the draw and
        the wait) besides the customer's own."""
        env, s, timed = self.env, self.settings, self._timed
        rate = s.customers_per_hour / HOUR
        opens, closes = s.opens_h * HOUR, s.closes_h * HOUR
        random, queue, ln = self.rng.random, env._queue, math.log
        at = env.now
        while True:
            into = at % DAY
            if not opens <= into < closes:
                at = self._next_opening(at)
                into = opens
            gap = -ln(1.0 - random()) / rate
            if into + gap >= closes:  # memoryless: start afresh at the next opening
                at = self._next_opening(at - into + closes)
                continue
            at += gap
            delay = at - env._now  # > 0 exactly when at > now (floats differ by 0 only if equal)
            if delay > 0:
                end = env._now + delay  # what _wait waits until (not always at, in the last bit)
                if (
                    (not queue or queue[0][0] > end)
                    and self.inline_waits
                    and timed is not None
                    and timed.clock is VIRTUAL
                ):
                    env._now = end
                elif (wait := self._wait(delay)) is not None:
                    yield wait
            yield from self._serve()

    # -- one customer --------------------------------------------------------------------------
    def _serve(self) -> Generator[simpy.Event, Any, None]:
        rng, stats = self.rng, self.stats
        stats.customers += 1
        if self._screen is not None and not (yield from self._touches()):
            stats.walked_away += 1
            self.record("walked_away", reason="screen")
            return
        r = rng.random()
        method = "lookup"
        cash, cash_or_card = self._mix
        if r < cash and "bill_validator" in self._sessions:
            method = "cash"
        elif r < cash_or_card and "card_reader" in self._sessions:
            method = "card"
        elif r < cash_or_card:
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

    def _touches(self) -> Generator[simpy.Event, Any, bool]:
        """The customer's touches, each after a think time: a button, and the confirm button if
        the first was not seen; False when neither was (the customer walks away).

        The draws are ``rng.uniform(0.5, 1.5)`` and ``rng.choice(BUTTONS)`` written out as
        :class:`random.Random` makes them, bit for bit: ``0.5 + (1.5 - 0.5) * random()``, and
        3 bits drawn until they are below 6 (``_randbelow_with_getrandbits``). A touch is the
        commonest step of a customer, and those calls were three frames; the usual case of
        :meth:`_wait` (nothing due before the think time ends) is written out for the same reason.
        The customer taps the controller itself (:meth:`Touchscreen.tap`), not through
        ``Device.act`` and its strings: in live time too the application runs inside a SimPy
        process, where act's ``catch_up`` has nothing to do and the stepper looks at the queue
        after every event. Whether a tap was seen is what the application read in the
        controller's packets (:meth:`_on_touch_bytes`)."""
        screen, rng, stats, env, timed = self._screen, self.rng, self.stats, self.env, self._timed
        assert screen is not None and timed is not None
        random, bits = rng.random, rng.getrandbits
        touches, think_s = self._touch_plan
        queue = env._queue
        in_place = (
            self.inline_waits and timed.clock is VIRTUAL
        )  # (_wait's test, the same all along)
        for _ in range(touches):
            think = (0.5 + random()) * think_s
            at = env._now + think
            if in_place and (not queue or queue[0][0] > at):
                env._now = at  # _wait's usual case, here: a think time is most often next due
            elif (wait := self._wait(think)) is not None:
                yield wait
            button = bits(_BUTTON_BITS)
            while button >= _NBUTTONS:
                button = bits(_BUTTON_BITS)
            seen = stats.touches_seen
            px, py = BUTTONS[button]
            screen.tap(px, py)
            if stats.touches_seen == seen:
                screen.tap(*CONFIRM)
                if stats.touches_seen == seen:
                    return False
        return True

    def _on_touch_bytes(self, data: bytes) -> None:
        self.stats.touches_seen += _TAPS[data]

    # -- receipt -------------------------------------------------------------------------------
    def _print(self, method: str) -> None:
        session = self._sessions.get("printer")
        if session is None:
            return
        stats = self.stats
        try:
            sensors = _paper_sensors(session.feed(_PAPER.request))
            status = _printer_status(session.feed(_PRINTER.request))
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
        session.feed(self._receipt_data[method])
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
