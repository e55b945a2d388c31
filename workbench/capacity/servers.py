"""A FIFO pool of identical servers, such as hotline agents or the remote desk, with optional patience.

Lighter than ``simpy.Resource`` for the two queues every fault passes through: a request is
one event that succeeds with True when a server is free, or with False when the caller's
patience (the remote window) runs out first; the expired request is skipped, not searched for.
"""

from __future__ import annotations

from collections import deque

import simpy


class Servers:
    """``capacity`` servers taken in arrival order; release one with :meth:`release`."""

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity(={capacity}) must be >= 1")
        self.env = env
        self.capacity = capacity
        self.free = capacity
        self.queue: deque[simpy.Event] = deque()

    def take(self) -> bool:
        """Hold a server now if one is free and nobody is waiting (no event needed)."""
        if self.free:
            self.free -= 1
            return True
        return False

    def request(self, patience: float | None = None) -> simpy.Event:
        """An event that succeeds with True once a server is held, or False after ``patience``."""
        event = self.env.event()
        if self.free:
            self.free -= 1
            event.succeed(True)
            return event
        self.queue.append(event)
        if patience is not None:

            def give_up(_: simpy.Event) -> None:
                if not event.triggered:
                    event.succeed(False)

            self.env.timeout(patience).callbacks.append(give_up)
        return event

    def release(self) -> None:
        """A server finished: hand it to the first caller still waiting, or mark it free."""
        queue = self.queue
        while queue:
            event = queue.popleft()
            if not event.triggered:
                event.succeed(True)
                return
        self.free += 1
