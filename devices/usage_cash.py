"""Cash payment at the virtual kiosk: the application's SSP host side of the bill validator
(setup, eSSP key negotiation when the unit asks for it, enabling, polling a customer's notes
into the stacker) as kiosk software does it, over the validator's byte session.

:class:`CashPayment` is a mixin of :class:`devices.usage.KioskApp`: its methods run on the
application itself, so a poll costs no extra attribute hop (this is the hot path of a served
customer; ``bench/customer_steps_bench.py`` measures it).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any

import simpy

from devices.base import Device, Session
from devices.bill_validator import BillValidator
from devices.protocols import ssp_messages as sm
from devices.protocols.hosts.ssp import NEGOTIATION, PollAnswer, SspAnswer, SspMaster
from devices.usage_settings import UsageSettings, UsageStats
from workbench.clock import VIRTUAL
from workbench.errors import ProtocolError
from workbench.memo import Memo
from workbench.waits import wait_behind

__all__ = ["CashPayment"]


def _below(getrandbits: Callable[[int], int], n: int) -> int:
    """``rng._randbelow(n)`` as CPython's :class:`random.Random` draws it
    (``_randbelow_with_getrandbits``): the same bits taken, so the same stream, in one call where
    ``rng.randint(1, n)`` takes six and ``rng.choice`` four (``randint(1, n)`` is
    ``1 + _below(n)``, ``choice(seq)`` is ``seq[_below(len(seq))]``)."""
    if n <= 0:
        raise IndexError("Cannot choose from an empty sequence")
    k = n.bit_length()
    r = getrandbits(k)
    while r >= n:
        r = getrandbits(k)
    return r


_CREDIT, _STACKED, _REJECTED, _SLAVE_RESET = (
    int(e) for e in (sm.Event.CREDIT, sm.Event.STACKED, sm.Event.REJECTED, sm.Event.SLAVE_RESET)
)
_SLAVE_RESET_EVENT = sm.PollEvent(sm.Event.SLAVE_RESET)
_JAMS = frozenset(int(e) for e in (sm.Event.SAFE_JAM, sm.Event.UNSAFE_JAM, sm.Event.FRAUD_ATTEMPT))
_POLL, _OK, _KEY_NOT_SET = int(sm.Command.POLL), int(sm.Response.OK), int(sm.Response.KEY_NOT_SET)
_ENABLE, _DISABLE = int(sm.Command.ENABLE), int(sm.Command.DISABLE)
"""Poll event codes, the commands of every cash customer and the responses the application acts
on, as plain ints (compared at every poll)."""
_ACTED_ON = frozenset({_CREDIT, _STACKED, _REJECTED, _SLAVE_RESET, *_JAMS})
"""The poll events a customer's note is followed by (:meth:`CashPayment._follow_note`); the
others (reading, a note read, stacking, disabled, ...) change nothing there."""


def _acted_on(events: tuple[sm.PollEvent, ...]) -> tuple[int, ...]:
    """The codes of ``events`` that :meth:`CashPayment._follow_note` acts on, in order."""
    return tuple(event.code for event in events if event.code in _ACTED_ON)


class _NotePolls(Memo[bytes, tuple[int | None, tuple[int, ...]]]):
    """A plain POLL reply by its bytes, as a customer's note is followed: the reply's status and
    the codes of its events acted on (:func:`_acted_on`), read from the host's own reading of
    the reply (``polls``, :meth:`SspMaster.poll`'s memo, a pure function of the bytes). Most
    polls report only that a note is being read or stacked: their loop over the events was a
    fifth of a poll's steps, and the reply is looked up anyway."""

    limit = 256

    def __init__(self, polls: Mapping[bytes, PollAnswer]) -> None:
        super().__init__()
        self.polls = polls

    def make(self, key: bytes) -> tuple[int | None, tuple[int, ...]]:
        status, events = self.polls[key]
        return status, _acted_on(events)


class CashPayment:
    """A customer paying in notes, for the application that mixes it in.

    The application provides ``env``, ``settings``, ``rng``, ``devices``, ``stats``,
    ``_sessions`` (its byte sessions by device name) and ``record``, and calls
    :meth:`_init_cash` from its constructor.
    """

    env: simpy.Environment
    settings: UsageSettings
    rng: random.Random
    devices: Mapping[str, Device]
    stats: UsageStats
    _sessions: dict[str, Session]
    _timed: Device | None
    inline_waits: bool

    if TYPE_CHECKING:

        def record(self, kind: str, **detail: Any) -> None: ...

        def _wait(self, delay: float) -> simpy.Event | None: ...

    def _init_cash(self) -> None:
        self._validator = SspMaster()
        """The SSP host (sequence flag; the eSSP channel once the validator asked for one)."""
        self._note_polls = _NotePolls(self._validator._polls)
        s = self.settings  # (copied once, as KioskApp copies what a customer reads)
        self._note_plan = (s.notes, s.max_notes, s.note_timeout_s, s.poll_interval_s)
        self._validator_ready = False
        validator = self.devices.get("bill_validator")
        self._cash_unit = validator if isinstance(validator, BillValidator) else None
        """The bill validator a customer offers notes to (its sessions see the host's bytes)."""

    def _ssp(self, code: int, params: bytes = b"") -> tuple[int, bytes] | None:
        """A command's answer (None: silence, or a reply the host cannot read); one without
        parameters (ENABLE and DISABLE, twice a cash customer) in one host call,
        :meth:`SspMaster.ask`."""
        host = self._validator
        if params:
            answer = self._ask_validator(host.request(code, params))
        else:
            answer = host.ask(code, self._sessions["bill_validator"].feed)
        # A validator that requires eSSP answers KEY NOT SET: negotiate a key as ITL's host
        # library does, then send the command again, encrypted.
        wants_key = answer is not None and answer[0] == _KEY_NOT_SET
        if wants_key and code not in NEGOTIATION and self._negotiate():
            answer = self._ask_validator(self._validator.request(code, params))
        return answer

    def _poll(self) -> tuple[sm.PollEvent, ...]:
        """The events of one POLL (none: silence, a reply not OK, or one the host cannot read)."""
        status, events = self._validator.poll(self._sessions["bill_validator"].feed)
        return events if status == _OK else self._not_polled(status)

    def _not_polled(self, status: int | None) -> tuple[sm.PollEvent, ...]:
        """The events after a POLL answered ``status``, not OK: none, unless the unit asked for a
        key (as :meth:`_ssp` does: negotiate, then POLL again, encrypted)."""
        if status != _KEY_NOT_SET or not self._negotiate():
            return ()
        status, events = self._validator.poll(self._sessions["bill_validator"].feed)
        return events if status == _OK else ()

    def _ask_validator(self, request: bytes) -> SspAnswer | None:
        """The answer to a frame already made (:meth:`_ssp` does the same for a command)."""
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
        rng = self.rng
        validator = self._cash_unit
        assert validator is not None  # (a kiosk with a bill validator pays cash)
        set_up = self._validator_ready
        if not set_up:
            self._validator_ready = self._validator_setup()
        answer = self._ssp(_ENABLE)
        if answer is not None and answer[0] == sm.Response.OK:
            # The events left from before are not this customer's, but a SLAVE RESET among
            # them, on a unit set up before, says it rebooted since the last customer (a power
            # cycle, a staff reset): its channels are inhibited again, so set it up afresh.
            events = self._poll()  # set up or not: it takes the events left
            if set_up and _SLAVE_RESET_EVENT in events:
                self._validator_ready = self._validator_setup()
                answer = self._ssp(_ENABLE) if self._validator_ready else None
        if answer is None or answer[0] != sm.Response.OK:
            self._validator_ready = False
            self.record("cash_refused", reason="validator")
            return False
        credited = 0
        # rng.randint(1, max_notes), rng.uniform(2.0, 5.0) and rng.choice(notes), each drawn
        # as random.Random draws it (uniform is a + (b - a) * random()): the same stream.
        getrandbits = rng.getrandbits
        notes, max_notes, _, _ = self._note_plan
        for _ in range(1 + _below(getrandbits, max_notes)):
            reach = 2.0 + 3.0 * rng.random()
            if (wait := self._wait(reach)) is not None:
                yield wait
            value = notes[_below(getrandbits, len(notes))]
            # The insert-note action's body (the settings hold face values already: no string
            # to format for the action to parse back)
            if "taken in" not in validator.insert(value):
                break
            outcome = yield from self._follow_note()
            if outcome == "credit":
                credited += value
            elif outcome != "rejected":
                break
        self._ssp(_DISABLE)
        if not credited:
            self.record("cash_refused", reason="no_credit")
            return False
        self.stats.cash_payments += 1
        self.stats.cash_credited += credited
        return True

    def _follow_note(self) -> Generator[simpy.Event, Any, str]:
        """Poll until the note is stacked or returned; ``credit``, ``rejected`` or a failure.

        The hot path of a cash customer (about six polls a note), so two calls a poll are
        written out here: :meth:`_wait`'s usual case (nothing due before the poll period ends),
        with :func:`workbench.waits.wait_behind` called straight for the rest (a note's stages
        are due meanwhile), and :meth:`SspMaster.poll`'s plain case (the flag toggled, one of
        POLL's two frames, the reply looked up among those read before, with only the events
        acted on below: :class:`_NotePolls`); ``tests/devices/test_usage_cash_twin.py`` holds
        them to the calls they replace and the loop over every event."""
        env, host = self.env, self._validator
        feed = self._sessions["bill_validator"].feed
        _, _, timeout, period = self._note_plan
        deadline = env.now + timeout
        credit = False
        timed = self._timed
        assert timed is not None  # (the validator, if no other device, is one)
        queue = env._queue
        frames, replies = host._poll_frames, self._note_polls
        # As _wait decides at every wait: the same for every poll of a note (a device's clock is
        # the one it was built with, and inline_waits is the application's class's)
        in_place = self.inline_waits and timed.clock is VIRTUAL
        while env._now < deadline:  # the now property's own read, once a poll (simpy<5 pinned)
            if in_place:
                at = env._now + period
                if not queue or queue[0][0] > at:
                    env._now = at
                elif (wait := wait_behind(env, period)) is not None:
                    yield wait
            elif (wait := self._wait(period)) is not None:
                yield wait
            # The host's whole POLL exchange (SspMaster.poll; sealed, it is that call)
            if host.crypto is None:
                seq = host._seq = not host._seq
                host._last = last = frames[seq]
                status, acted = replies[feed(last[0])]
            else:
                status, events = host.poll(feed)
                acted = _acted_on(events)
            if status != _OK:
                acted = _acted_on(self._not_polled(status))
            for code in acted:
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
