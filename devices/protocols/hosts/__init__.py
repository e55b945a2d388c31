"""Host-side drivers, one per device protocol: what kiosk software sends and how it reads the
answers, with no I/O and no clock (sans-I/O). The simulated kiosk's customers
(:mod:`devices.usage`) and the remote diagnostics (:mod:`remote.diagnostics`) both drive their
devices through these, and kiosk software teams can use them in their own tests.

Every request is an :class:`Exchange`: the bytes to send, and a parser to feed whatever bytes
come back until it returns the answer. The caller does the I/O its own way::

    host = SspMaster()
    ask = host.command(Command.SYNC)
    port.write(ask.request)
    while (answer := ask.feed(port.read(64))) is None:
        pass
    status, payload = answer

A synchronous byte session (a simulator in virtual time) answers at once:
``ask.feed(session.feed(ask.request))``. Modules: :mod:`.ssp` (bill validator, plain and eSSP),
:mod:`.card_reader` (STX/ETX/BCC with the ACK/NAK handshake), :mod:`.escpos` (printer status),
:mod:`.ddc` (DDC/CI monitor control), :mod:`.touch` (touch controller commands).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Exchange(Generic[R]):
    """One request and the parser of its answer."""

    request: bytes
    """The bytes to send (empty for an answer that comes unasked)."""
    feed: Callable[[bytes], R | None]
    """Feed received bytes (any chunking); returns the answer once it is complete, else None."""
    fresh: bool = True
    """Bytes that arrived before the request are stale and may be dropped (False when the
    device pushes data unasked that the caller must not lose, e.g. touch packets)."""


def owed_replies(
    read: Callable[[bytes], Iterable[Any]], owed: Callable[[Any], bool], count: int
) -> Exchange[bool]:
    """Read ``count`` more replies of a command answered late: a device answers every try of
    it, so the replies owed to the earlier tries are read here, and none is left on the line for
    a later command, or the next session, to take for its own. ``read`` turns received bytes into
    the items the host's reader finds in them; ``owed`` says whether an item is one of those
    replies (the command's own code, flag or letter). The answer is True once all have come;
    nothing is sent, and bytes that came first are not stale (``fresh=False``)."""
    left = count

    def feed(chunk: bytes) -> bool | None:
        nonlocal left
        for item in read(chunk):
            if owed(item):
                left -= 1
        return True if left <= 0 else None

    return Exchange(b"", feed, fresh=False)


__all__ = ["Exchange", "owed_replies"]
