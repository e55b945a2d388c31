"""Live time: the SimPy environment follows the scaled wall clock, and asyncio awaits SimPy events."""

from __future__ import annotations

import asyncio

import pytest
import simpy

from workbench.clock import LiveClock
from workbench.errors import ConfigError


@pytest.mark.timeout(5)
async def test_sleep_takes_sim_time_over_speed() -> None:
    env = simpy.Environment()
    async with LiveClock(env, speed=100.0) as clock:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await clock.sleep(20.0)  # 20 simulated s at 100x = 0.2 wall s
        elapsed = loop.time() - t0
    assert env.now >= 20.0
    assert 0.18 <= elapsed < 1.0


@pytest.mark.timeout(5)
async def test_wait_returns_the_event_value_and_processes_run_in_order() -> None:
    env = simpy.Environment()
    log: list[tuple[float, str]] = []

    def worker(env: simpy.Environment):
        yield env.timeout(3)
        log.append((env.now, "a"))
        yield env.timeout(2)
        log.append((env.now, "b"))
        return "done"

    async with LiveClock(env, speed=200.0) as clock:
        value = await clock.wait(env.process(worker(env)))
    assert value == "done"
    assert log == [(3, "a"), (5, "b")]


@pytest.mark.timeout(5)
async def test_failed_event_raises_in_asyncio() -> None:
    env = simpy.Environment()

    def boom(env: simpy.Environment):
        yield env.timeout(1)
        raise ValueError("jammed")

    async with LiveClock(env, speed=100.0) as clock:
        with pytest.raises(ValueError, match="jammed"):
            await clock.wait(env.process(boom(env)))


@pytest.mark.timeout(5)
async def test_clock_keeps_up_with_a_busy_environment() -> None:
    env = simpy.Environment()

    def ticker(env: simpy.Environment):
        while True:
            yield env.timeout(0.01)

    for _ in range(20):
        env.process(ticker(env))
    async with LiveClock(env, speed=1.0) as clock:
        await clock.sleep(0.3)
    assert clock.max_lag < 0.05


def test_speed_must_be_positive() -> None:
    with pytest.raises(ConfigError, match=r"speed\(=0\) must be"):
        LiveClock(simpy.Environment(), speed=0)


@pytest.mark.timeout(5)
async def test_an_idle_clock_sleeps_instead_of_spinning() -> None:
    """SimPy 4.1 leaves the spent ``until`` marker of ``run(until=...)`` queued; the stepper
    must not take it for a due event (it did, and burnt a core per idle kiosk host)."""
    env = simpy.Environment()

    def tick() -> simpy.events.ProcessGenerator:
        while True:
            yield env.timeout(0.05)

    env.process(tick())
    async with LiveClock(env, speed=1.0) as clock:
        await asyncio.sleep(0.5)
        assert env.now >= 0.4
        assert clock.max_lag < 0.04
    assert next(env._eid) < 40  # type: ignore[attr-defined]  # ~10 ticks and their markers
