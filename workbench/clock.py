"""Simulated time: a SimPy environment run in virtual time, or stepped live against the wall clock.

In **virtual time** the environment runs as fast as the CPU allows (regression, CI,
capacity planning). In **live time** a :class:`LiveClock` task steps the environment up to
the scaled wall clock (``speed`` 1.0 = real time, 60 = a simulated minute per wall second),
so that real clients on real ports see devices that take real time. Protocol handlers are
asyncio code; when one must wait for a simulated duration it awaits :meth:`LiveClock.wait`,
a bridge from a SimPy event to an asyncio future. There are no threads between the two.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

import simpy

from workbench.errors import ConfigError

log = logging.getLogger(__name__)

HOUR = 3600.0
DAY = 24 * HOUR
YEAR = 365 * DAY


def run_virtual(env: simpy.Environment, seconds: float) -> None:
    """Advance ``env`` by ``seconds`` of simulated time as fast as the CPU allows."""
    env.run(until=env.now + seconds)


class LiveClock:
    """Keeps a SimPy environment in step with the (scaled) wall clock from an asyncio task.

    Use as an async context manager, or call :meth:`start` and later :meth:`close`.
    ``lag`` is how late (wall seconds) the most recent due event was processed, and
    ``max_lag`` the worst seen: the figures that say whether live time keeps up.
    """

    def __init__(self, env: simpy.Environment, speed: float = 1.0, max_sleep: float = 1.0) -> None:
        if not speed > 0 or math.isinf(speed):
            raise ConfigError(f"speed(={speed}) must be a finite number > 0")
        self.env = env
        self.speed = speed
        self.max_sleep = max_sleep
        self.lag = 0.0
        self.max_lag = 0.0
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._t0_wall = 0.0
        self._t0_sim = env.now

    # -- time arithmetic ---------------------------------------------------------------
    def sim_target(self) -> float:
        """The simulated time the wall clock says it is now."""
        loop = asyncio.get_running_loop()
        return self._t0_sim + (loop.time() - self._t0_wall) * self.speed

    def _wall_of(self, sim_time: float) -> float:
        return self._t0_wall + (sim_time - self._t0_sim) / self.speed

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Start stepping; simulated 'now' is anchored to the current wall time."""
        loop = asyncio.get_running_loop()
        self._t0_wall = loop.time()
        self._t0_sim = self.env.now
        self._task = loop.create_task(self._run(), name="live-clock")

    async def close(self) -> None:
        """Stop stepping (the environment keeps its state)."""
        if self._task is not None:
            # Python 3.11's wait_for() swallows a cancel that lands as the wake-up fires; the
            # flag (and the wake) end the stepper then too.
            self._stopping = True
            self.wake()
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
            self._stopping = False

    async def __aenter__(self) -> LiveClock:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def wake(self) -> None:
        """Tell the stepper that new events were scheduled (called by :meth:`wait`)."""
        self._wakeup.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            target = self.sim_target()
            due = self.env.peek()
            if due <= target:
                self.lag = max(0.0, loop.time() - self._wall_of(due))
                self.max_lag = max(self.max_lag, self.lag)
            if target > self.env.now:
                self.env.run(until=target)
            self._settle()
            nxt = self.env.peek()
            delay = (
                self.max_sleep if math.isinf(nxt) else max(0.0, self._wall_of(nxt) - loop.time())
            )
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=min(delay, self.max_sleep))
            except TimeoutError:
                pass

    def _settle(self) -> None:
        """Process what is due at 'now', including the spent ``until`` marker that SimPy 4.1's
        ``run(until=...)`` leaves in the queue: left there, ``peek()`` says an event is due and
        the stepper spins at full CPU on an idle environment."""
        env = self.env
        while env.peek() <= env.now:
            env.step()

    # -- the bridge --------------------------------------------------------------------
    async def wait(self, event: simpy.Event) -> Any:
        """Await a SimPy event from asyncio code; returns the event's value."""
        if event.processed:
            return event.value
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def done(ev: simpy.Event) -> None:
            if fut.done():
                return
            if ev.ok:
                fut.set_result(ev.value)
            else:
                ev.defused = True
                fut.set_exception(
                    ev.value if isinstance(ev.value, BaseException) else RuntimeError(ev.value)
                )

        assert event.callbacks is not None
        event.callbacks.append(done)
        self.wake()
        return await fut

    async def sleep(self, sim_seconds: float) -> None:
        """Wait ``sim_seconds`` of simulated time (wall time divided by the speed)."""
        await self.wait(self.env.timeout(sim_seconds))
