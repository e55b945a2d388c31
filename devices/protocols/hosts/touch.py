"""The host side of the touch controller: command packets and their replies, and the touch
packets the controller pushes unasked (kept, never dropped, since they are the user's taps).

    host = TouchHost()
    reply = answer_of(host.command(b"A"))   # the reply payload, its letter first
    taps = host.taps(pushed_bytes)          # finished taps (pen up) in what came unasked
"""

from __future__ import annotations

from devices.protocols import touch as t
from devices.protocols.hosts import Exchange


class TouchHost:
    """A host of one touch controller; touch packets seen on the way are in :attr:`touches`."""

    def __init__(self) -> None:
        self.reader = t.PacketReader()
        self.touches: list[t.TouchPacket] = []

    def command(self, payload: bytes) -> Exchange[bytes]:
        """Send a command packet; the answer is the reply payload (its letter first)."""

        def feed(chunk: bytes) -> bytes | None:
            for item in self.reader.feed(chunk):
                if isinstance(item, t.TouchPacket):
                    self.touches.append(item)
                elif isinstance(item, t.CommandPacket) and item.code == payload[0]:
                    return item.payload
            return None

        return Exchange(t.CommandPacket(payload).encode(), feed, fresh=False)

    @staticmethod
    def taps(data: bytes) -> int:
        """Pen-up packets (finished taps) in whole packets pushed by the controller."""
        items = t.PacketReader().feed(data)
        return sum(1 for item in items if isinstance(item, t.TouchPacket) and not item.down)
