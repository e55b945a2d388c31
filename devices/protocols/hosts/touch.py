"""The host side of the touch controller: command packets and their replies, and the touch
packets the controller pushes unasked (kept, never dropped, since they are the user's taps).

    host = TouchHost()
    reply = answer_of(host.command(b"A"))   # the reply payload, its letter first
    taps = host.taps(pushed_bytes)          # finished taps (pen up) in what came unasked

A reply echoes its command's letter, and the host takes only a reply with the letter it sent.
When none comes in time (:data:`REPLY_TIMEOUT_S`) a query is sent again (:data:`RETRIES`,
:func:`retry_safe`); the controller answers every packet it gets, so the replies owed to the
earlier tries are still on their way, and the host reads them (:meth:`TouchHost.owed`) before a
later command with the same letter could take one for its own. A command that changes the
controller (recalibrate, reset, store a calibration) is sent once and waited for as long as a
query's tries together: the protocol has no way to ask for a reply again.
"""

from __future__ import annotations

from typing import Final

from devices.protocols import touch as t
from devices.protocols.hosts import Exchange, owed_replies

REPLY_TIMEOUT_S = 0.5
"""How long a host waits for the reply to one command packet before it tries again."""
RETRIES = 3
"""How many times a host sends a query again before it calls the controller silent (with
:data:`REPLY_TIMEOUT_S`, a reply up to 2 s late is still taken); a command that is not a query
waits ``RETRIES + 1`` times :data:`REPLY_TIMEOUT_S` for its one reply."""
QUERIES: Final = frozenset({t.CHECK_ACTIVE, t.FIRMWARE, t.CONTROLLER_TYPE, t.GET_CALIBRATION})
"""Commands that only read (check active, firmware, controller type, get calibration): sent again
when no reply came."""


def retry_safe(code: int) -> bool:
    """Whether a command (by its letter) may be sent again when its reply does not come: a
    recalibration or a reset carried out twice runs twice (a second recalibration started while
    the first is settling, a reset that drops the first one's reply), so those are sent once."""
    return code in QUERIES


class TouchHost:
    """A host of one touch controller; touch packets seen on the way are in :attr:`touches`."""

    def __init__(self) -> None:
        self.reader = t.PacketReader()
        self.touches: list[t.TouchPacket] = []

    def command(self, payload: bytes) -> Exchange[bytes]:
        """Send a command packet; the answer is the reply payload (its letter first)."""

        code = payload[0]

        def feed(chunk: bytes) -> bytes | None:
            answer = None
            for item in self.reader.feed(chunk):
                if isinstance(item, t.TouchPacket):
                    self.touches.append(item)  # also those after the reply: never lost
                elif answer is None and isinstance(item, t.CommandPacket) and item.code == code:
                    answer = item.payload
            return answer

        return Exchange(t.CommandPacket(payload).encode(), feed, fresh=False)

    def owed(self, code: int, count: int) -> Exchange[bool]:
        """Read ``count`` more replies with letter ``code`` (those owed to the earlier tries of a
        command answered late), keeping the touch packets that come with them; the answer is
        True once all have come. Nothing is sent."""

        def owed(item: object) -> bool:
            if isinstance(item, t.TouchPacket):
                self.touches.append(item)  # a touch between them: kept for the caller
                return False
            return isinstance(item, t.CommandPacket) and item.code == code

        return owed_replies(self.reader.feed, owed, count)

    @staticmethod
    def taps(data: bytes) -> int:
        """Pen-up packets (finished taps) in whole packets pushed by the controller."""
        items = t.PacketReader().feed(data)
        return sum(1 for item in items if isinstance(item, t.TouchPacket) and not item.down)
