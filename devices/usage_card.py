"""Card payment at the virtual kiosk: the application's host side of the card reader (setup,
opening the slot, the customer inserting the card, reading its track, ejecting it and the customer
taking it) as kiosk software does it, over the reader's byte session with the commands framed by
:class:`devices.protocols.hosts.card_reader.CardReaderHost`.

:class:`CardPayment` is a mixin of :class:`devices.usage.KioskApp`, as
:class:`devices.usage_cash.CashPayment` is: its methods run on the application itself, so a
payment costs no extra attribute hop.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any

import simpy

from devices.base import Device, Session
from devices.protocols import stx_bcc as cr
from devices.protocols.hosts.card_reader import CardReaderHost
from devices.usage_settings import UsageSettings, UsageStats
from workbench.errors import DeviceError, ProtocolError
from workbench.memo import Memo

log = logging.getLogger("devices.usage")
"""The application's logger (:mod:`devices.usage`'s, as before the card payment moved here)."""

__all__ = ["CardPayment"]

_INIT, _OPEN, _SHUT, _STATUS, _READ, _EJECT = (
    CardReaderHost.request(cm, pm)
    for cm, pm in (
        (cr.CM_INIT, "0"),
        (cr.CM_ENTRY, "0"),
        (cr.CM_ENTRY, "1"),
        (cr.CM_STATUS, "0"),
        (cr.CM_READ, "2"),
        (cr.CM_CARRY, "0"),
    )
)
"""The card reader commands a customer's payment sends (framed once; the same bytes objects)."""
_answer, _ACK = CardReaderHost.answer, CardReaderHost.ACK


class _Answers(Memo[bytes, "cr.Reply | None"]):
    """What the host reads in the reader's answer to a command, by its bytes: the reply
    :meth:`CardReaderHost.answer` parses from an ACK and a whole reply frame, None where it
    raises (no ACK, a frame it cannot read). A pure function of the bytes, read by subscript:
    a reader gives the same few answers all day, and the ``lru_cache`` behind ``answer`` builds
    a key for every ``bytes`` argument."""

    limit = 1024

    def make(self, key: bytes) -> cr.Reply | None:
        try:
            return _answer(key)
        except ProtocolError:
            return None


_ANSWERS = _Answers()


class CardPayment:
    """A customer paying by card, for the application that mixes it in.

    The application provides ``devices``, ``settings``, ``rng``, ``stats``, ``name``,
    ``_sessions`` (its byte sessions by device name), ``record`` and ``_wait``, and calls
    :meth:`_init_card` from its constructor.
    """

    name: str
    settings: UsageSettings
    rng: random.Random
    devices: Mapping[str, Device]
    stats: UsageStats
    _sessions: dict[str, Session]
    _card_actions: tuple[Callable[..., Any], Callable[..., Any]] | None

    if TYPE_CHECKING:

        def record(self, kind: str, **detail: Any) -> None: ...

        def _wait(self, delay: float) -> simpy.Event | None: ...

    def _init_card(self) -> None:
        self._reader_ready = False
        reader = self.devices.get("card_reader")
        self._card_actions = (
            (reader.actions["insert-card"], reader.actions["take-card"])
            if reader is not None
            else None
        )
        """The customer's stimuli of the card reader (``insert-card``, ``take-card``), called as
        :meth:`devices.usage.KioskApp._touches` taps the screen: without ``Device.act``, which
        has nothing to catch up inside a SimPy process and raises their DeviceError as it is."""

    def _card(self, feed: Callable[[bytes], bytes], request: bytes) -> cr.Reply | None:
        """Send a framed command (:class:`CardReaderHost`'s request) through ``feed`` (the
        reader's session) and ACK its reply."""
        raw = feed(request)
        if not raw:
            return None
        reply = _ANSWERS[raw]
        if reply is None:
            log.debug("%s: unreadable card reader reply %s", self.name, raw.hex(" "))
            return None
        feed(_ACK)
        return reply

    def _pay_card(self) -> Generator[simpy.Event, Any, bool]:
        assert self._card_actions is not None
        insert, take = self._card_actions
        feed, card = self._sessions["card_reader"].feed, self._card
        if not self._reader_ready:
            init = card(feed, _INIT)
            self._reader_ready = init is not None and init.positive
        opened = card(feed, _OPEN)
        if opened is None or not opened.positive:
            self.record("card_refused", reason="reader" if opened is None else opened.code)
            self._reader_ready = False
            return False
        fumble = 2.0 + 4.0 * self.rng.random()  # rng.uniform(2.0, 6.0), as random.py computes it
        if (wait := self._wait(fumble)) is not None:
            yield wait
        try:
            insert()
        except DeviceError:
            self.record("card_refused", reason="slot_busy")
            return False
        status = card(feed, _STATUS)
        if status is None or status.code[0] != cr.POSITION_CODES["inside"]:
            card(feed, _SHUT)
            self.record("card_refused", reason="not_inside")
            return False
        track = None
        for _ in range(3):
            reply = card(feed, _READ)
            if reply is not None and reply.positive:
                track = reply.data
                break
            self.stats.card_read_errors += 1
        ejected = card(feed, _EJECT)
        if ejected is None or not ejected.positive:
            self.record("card_stuck", error="none" if ejected is None else ejected.code)
            self._reader_ready = False
            return False
        if (wait := self._wait(self.settings.take_card_s)) is not None:
            yield wait
        take()
        if track is None:
            self.record("card_unreadable")
            return False
        self.stats.card_payments += 1
        return True
