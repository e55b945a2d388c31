"""A host driver's request over a :class:`~remote.diagnostics.links.ByteLink`: one try
(:func:`ask`), the replies still owed to the earlier tries of a request answered late
(:func:`read_owed`), and the reply timeout with a retry level that the SSP, card reader and
touch hosts share (:func:`ask_with_retries`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from devices.protocols.hosts import Exchange
from remote.diagnostics.base import LinkTimeout
from remote.diagnostics.links import ByteLink

log = logging.getLogger(__name__)

R = TypeVar("R")


async def ask(link: ByteLink, exchange: Exchange[R], timeout: float) -> R:
    """One request of a host driver (:mod:`devices.protocols.hosts`) over a link: stale input
    dropped (unless the device pushes data that must be kept), the request written, the answer
    read; :class:`LinkTimeout` when the device stays silent."""
    if exchange.fresh:
        link.drain_input()
    if exchange.request:
        link.write(exchange.request)
    return await link.until(exchange.feed, timeout)


class Heard:
    """The bytes a request's exchanges were fed, from its first try to its answer (:meth:`tap`).
    The chunk that held the answer may hold replies owed to earlier tries after it, which the
    answer's parser passed over and the link no longer has: :func:`read_owed` counts them here
    first."""

    def __init__(self) -> None:
        self.data = bytearray()

    def tap(self, exchange: Exchange[R]) -> Exchange[R]:
        """``exchange``, its bytes kept here as they are fed."""
        feed, data = exchange.feed, self.data

        def tapped(chunk: bytes) -> R | None:
            data.extend(chunk)
            return feed(chunk)

        return Exchange(exchange.request, tapped, exchange.fresh)


async def read_owed(
    link: ByteLink,
    owed: Exchange[bool],
    count: int,
    timeout: float,
    device: str,
    command: str,
    heard: bytes = b"",
) -> bool:
    """Read the ``count`` replies still owed to the earlier tries of a command answered late
    (``owed``: the host driver's exchange for them), so that a later command cannot take one for
    its own. With ``heard`` (what was read up to and with the answer, :class:`Heard`), ``owed``
    counts one more, the answer's own reply: it is fed ``heard`` first, as owed replies may have
    come in the answer's chunk. The rest come within the time the tries took, or never (a try
    lost on the line): that is only logged. False when they did not all come (some may still
    come later)."""
    if heard and owed.feed(heard):
        return True
    try:
        await ask(link, owed, (count + 1) * timeout)
    except LinkTimeout:
        log.info("%s: %d late replies to %s did not all come", device, count, command)
        return False
    return True


@dataclass(frozen=True, slots=True)
class Answered(Generic[R]):
    """A request answered by :func:`ask_with_retries`."""

    answer: R
    round_trip_s: float
    """Seconds from its first try to the answer (the owed replies read after not counted)."""
    every_try_answered: bool
    """Whether the device answered every try, late or not: False when the replies owed to the
    earlier tries did not all come (a try lost on the line, or the device silent a while)."""


async def ask_with_retries(
    link: ByteLink,
    first: Exchange[R],
    again: Callable[[], Exchange[R]],
    timeout: float,
    retries: int,
    owed: Callable[[R, int], Exchange[bool] | None],
    *,
    device: str,
    what: str,
    silent: str,
    how: str = "sending it again",
) -> Answered[R]:
    """A host driver's request with a reply timeout and a retry level, as the SSP, card reader
    and touch hosts make theirs: ``first`` is sent, and on each ``timeout`` with no answer
    ``again()`` (the same packet, or a request for the reply), up to ``retries`` times;
    :class:`LinkTimeout` (``silent``, and the tries) once every try went unanswered. Once it is
    answered on a later try, the replies owed to the earlier ones are read (:func:`read_owed`):
    ``owed(answer, count)`` (None when none are) reads ``count`` replies, and is fed what was read
    up to the answer first (:class:`Heard`), the answer's own reply among it, so ``count`` is
    one more than the replies owed. ``device`` and ``what`` name it in the log. (The display's Get VCP keeps its own loop: see :class:`~remote.diagnostics.display.
    DdcHost`.)"""
    loop = asyncio.get_running_loop()
    started = loop.time()
    heard = Heard()
    exchange = heard.tap(first)
    for attempt in range(retries + 1):
        try:
            answer = await ask(link, exchange, timeout)
        except LinkTimeout:
            if attempt == retries:
                raise LinkTimeout(f"{silent} ({retries + 1} tries of {timeout:g} s)") from None
            log.info("%s: no reply to %s in %g s, %s", device, what, timeout, how)
            exchange = heard.tap(again())
            continue
        round_trip_s = loop.time() - started
        every = True
        if attempt and (replies := owed(answer, attempt + 1)) is not None:
            every = await read_owed(
                link, replies, attempt, timeout, device, what, bytes(heard.data)
            )
        return Answered(answer, round_trip_s, every)
    raise AssertionError("unreachable")
