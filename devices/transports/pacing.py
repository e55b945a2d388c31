"""How a port shares the event loop with every other port of the kiosk: a device is fed its
input in slices, and a connection gives the loop up once it has held it for a turn
(:data:`TURN_S`), so a client flooding one port (19 MB of noise at a printer's port 9100, which it
parses at a few MB/s) never stalls another port or the control socket.

A slice is about what the device gets through in half a turn, learnt from the slices before
(between :data:`MIN_SLICE` and :data:`MAX_SLICE` bytes): the printer parsing noise is fed 1 KiB at
a time, a session that only counts bytes 16 KiB.

While a connection's backlog waits for its turns the port stops reading from it (a TCP port
through its ``StreamReader``'s limit, which pauses the socket; a pty by dropping its reader), so
the flooding client is pushed back by the kernel instead of filling the kiosk's memory.
"""

from __future__ import annotations

import asyncio
import time

MIN_SLICE = 512
"""Fewest bytes a device is fed at once (the first slice of a connection is twice that)."""
MAX_SLICE = 16384
"""Most bytes a device is fed at once, however fast it parses (noise can follow fast text)."""
TURN_S = 0.001
"""Longest a connection holds the event loop before it lets the other ports run."""


class Turn:
    """One connection's share of the event loop: the time spent working for it (inside ``with
    turn:``, or ``with turn.feeding(n):`` for an ``n``-byte slice) since it last let the others
    run, and the size of its next slice. Time spent waiting for bytes does not count."""

    def __init__(self, turn_s: float = TURN_S) -> None:
        self.turn_s = turn_s
        self.held = 0.0
        """Seconds of work since the connection last gave the loop up."""
        self.size = 2 * MIN_SLICE
        """Bytes to feed next: about what the device parses in half a turn."""
        self.passes = 0
        """Times the connection gave the loop up (how often it let the others run)."""
        self._bytes = 0
        self._t0 = 0.0

    def cut(self, data: bytes | bytearray | memoryview) -> tuple[bytes, int]:
        """The next slice of ``data`` and its length."""
        piece = bytes(data[: self.size])
        return piece, len(piece)

    def feeding(self, n: int) -> Turn:
        """Time the feeding of an ``n``-byte slice (``with turn.feeding(n): ...``)."""
        self._bytes = n
        return self

    def __enter__(self) -> Turn:
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        spent = time.perf_counter() - self._t0
        self.held += spent
        if self._bytes:
            fit = int(self._bytes * self.turn_s / 2 / max(spent, 1e-6))
            self.size = max(MIN_SLICE, min(fit, 2 * self.size, MAX_SLICE))
            self._bytes = 0

    def over(self) -> bool:
        """Whether the connection has held the loop for a whole turn."""
        return self.held >= self.turn_s

    def passed(self) -> None:
        """The others have run (a new turn begins)."""
        self.held = 0.0
        self.passes += 1

    async def pass_if_over(self) -> None:
        """Let every other ready callback and socket run when the turn is over."""
        if self.over():
            await asyncio.sleep(0)
            self.passed()
