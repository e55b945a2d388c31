"""Simulated time: a SimPy environment run in virtual time, or stepped live against the wall clock.

In **virtual time** the environment runs as fast as the CPU allows (regression, CI,
capacity planning). In **live time** a :class:`LiveClock` task steps the environment up to
the scaled wall clock (``speed`` 1.0 = real time, 60 = a simulated minute per wall second),
so that real clients on real ports see devices that take real time. Protocol handlers are
asyncio code; when one must wait for a simulated duration it awaits :meth:`LiveClock.wait`,
a bridge from a SimPy event to an asyncio future. There are no threads between the two.

**Two clocks.** A device lives by two clocks, and this module is where the rule is kept:

- the *simulated* clock (``env.now``) runs physics: wear, MTBF faults, consumables,
  customers, scenario timelines. At ``speed`` 60 a simulated hour of wear takes a wall minute;
- the *host* clock runs every time that a host's behaviour drives: escrow and poll time-outs,
  reply deadlines, inter-byte and sequence time-outs, command time-outs, echo pacing. In live
  time it is the wall clock, whatever the speed, so real kiosk software that polls at its own
  rate works at 1x and at 60x alike. In virtual time there is no host, and it is the simulated
  clock.

Both are offered by a :class:`Timebase`: :class:`VirtualTime` (no host) or :class:`LiveClock`.
A device asks :meth:`Timebase.host_span` for the simulated length of a host-clock interval and
waits that long in SimPy. In live time simulated time is a fixed linear function of the wall
clock (``sim = sim0 + (wall - wall0) * speed``), so ``host_span(5.0)`` is ``5 * speed``
simulated seconds and a SimPy timeout of that length ends 5 wall seconds later; device tests
in virtual time keep their exact ``(time, event)`` logs.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any, Protocol

import simpy

from workbench.errors import ConfigError

log = logging.getLogger(__name__)

HOUR = 3600.0
DAY = 24 * HOUR
YEAR = 365 * DAY
MAX_SPEED = 100_000.0
"""Fastest live time (a simulated day in under a wall second). Past it a kiosk only ever catches
up: its stepper has more simulated time to process than wall time to do it in."""
STEP_BUDGET_S = 0.05
"""Longest the stepper processes events before it lets the event loop run (ports, signals)."""


def check_speed(speed: float) -> float:
    """``speed`` when live time can run at it (more than 0, at most :data:`MAX_SPEED`), else a
    :class:`ConfigError` saying so; checked before anything is started or signed for it."""
    if not 0 < speed <= MAX_SPEED:
        raise ConfigError(f"speed(={speed:g}) must be > 0 and at most {MAX_SPEED:g}")
    return speed


def run_virtual(env: simpy.Environment, seconds: float) -> None:
    """Advance ``env`` by ``seconds`` of simulated time as fast as the CPU allows."""
    env.run(until=env.now + seconds)


class Timebase(Protocol):
    """The two clocks as a device and its ports see them (see the module docstring)."""

    def host_span(self, host_seconds: float) -> float:
        """The simulated seconds that pass while the host's clock advances ``host_seconds``."""
        ...

    def catch_up(self) -> None:
        """Bring the environment up to 'now' before the outside world is answered."""
        ...

    def wake(self) -> None:
        """Say that new SimPy events were scheduled (so they run on time)."""
        ...


class VirtualTime:
    """No host: the environment runs as fast as the CPU allows and the host's clock is the
    simulated one (``host_span`` is the identity; catching up and waking are nothing to do)."""

    def host_span(self, host_seconds: float) -> float:
        """Host seconds are simulated seconds."""
        return host_seconds

    def catch_up(self) -> None:
        """The environment is always at 'now' in virtual time."""

    def wake(self) -> None:
        """Nothing steps the environment but its own run."""


VIRTUAL = VirtualTime()
"""The timebase of every device until a live clock is attached."""


class LiveClock:
    """Keeps a SimPy environment in step with the (scaled) wall clock from an asyncio task.

    Use as an async context manager, or call :meth:`start` and later :meth:`close`.
    ``lag`` is how late (wall seconds) the most recent due event was processed, and
    ``max_lag`` the worst seen: the figures that say whether live time keeps up.
    It is a :class:`Timebase` whose host clock is the wall clock.
    """

    def __init__(self, env: simpy.Environment, speed: float = 1.0, max_sleep: float = 1.0) -> None:
        check_speed(speed)
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

    def wall_of(self, sim_time: float) -> float:
        """The wall time (event-loop clock) at which simulated time ``sim_time`` is due."""
        return self._t0_wall + (sim_time - self._t0_sim) / self.speed

    def host_now(self) -> float:
        """The host's clock: the event loop's monotonic wall clock, in seconds."""
        return asyncio.get_running_loop().time()

    def host_span(self, host_seconds: float) -> float:
        """Simulated seconds spanning ``host_seconds`` of wall time (``host_seconds * speed``)."""
        return host_seconds * self.speed

    def catch_up(self) -> None:
        """Advance the environment to the wall clock's 'now' before a port answers the outside
        world. Nothing to do from inside a SimPy process (the environment is at 'now' there),
        before the clock starts, or outside a running event loop."""
        env = self.env
        if env.active_process is not None or self._task is None:
            return
        try:
            target = self.sim_target()
        except RuntimeError:  # no running event loop
            return
        if target > env.now:
            env.run(until=target)

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

    async def advance(self, sim_seconds: float) -> None:
        """Jump simulated time ahead by ``sim_seconds`` (wear, consumables, customers, timelines
        all run through it at once), then keep the usual pace; returns when the environment is
        there. Time the host's behaviour drives is unaffected."""
        if not sim_seconds >= 0 or math.isinf(sim_seconds):
            raise ConfigError(f"advance(={sim_seconds}) must be a finite number >= 0")
        target = self.sim_target() + sim_seconds
        self._t0_sim += sim_seconds
        self.wake()
        while self.env.now < target and self._task is not None:
            await asyncio.sleep(0)
            if self.env.now < target:
                self.env.run(until=target)
                self._settle()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            target = self.sim_target()
            due = self.env.peek()
            if due <= target:
                self.lag = max(0.0, loop.time() - self.wall_of(due))
                self.max_lag = max(self.max_lag, self.lag)
            if not self._advance(target, time.monotonic() + STEP_BUDGET_S):
                await asyncio.sleep(0)  # behind: let ports and signal handlers run, go on
                continue
            self._settle()
            nxt = self.env.peek()
            delay = self.max_sleep if math.isinf(nxt) else max(0.0, self.wall_of(nxt) - loop.time())
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=min(delay, self.max_sleep))
            except TimeoutError:
                pass

    def _advance(self, target: float, deadline: float) -> bool:
        """Process the events due before ``target`` and move 'now' there; False when the wall
        ``deadline`` came first (a kiosk that is behind still answers its ports and SIGTERM)."""
        env, steps = self.env, 0
        while env.peek() < target:
            env.step()
            steps += 1
            if not steps & 255 and time.monotonic() > deadline:
                return False
        if target > env.now:
            env.run(until=target)
        return True

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
