"""Live time: the SimPy environment follows the scaled wall clock, and asyncio awaits SimPy events."""

from __future__ import annotations

import asyncio

import pytest
import simpy

from workbench.clock import MAX_SPEED, VIRTUAL, LiveClock
from workbench.errors import ConfigError


async def timer_lateness(seconds: float, step: float = 0.01) -> float:
    """The worst lateness (wall s) of asyncio timers over ``seconds``: the event loop's own
    delay on this machine now, the baseline a live clock's lag is compared with."""
    loop = asyncio.get_running_loop()
    worst = 0.0
    end = loop.time() + seconds
    while (due := loop.time() + step) < end:
        await asyncio.sleep(step)
        worst = max(worst, loop.time() - due)
    return worst


@pytest.mark.timeout(5)
async def test_sleep_takes_sim_time_over_speed() -> None:
    env = simpy.Environment()
    processed: list[float] = []
    async with LiveClock(env, speed=100.0) as clock:
        loop = asyncio.get_running_loop()
        wake = env.timeout(20.0)  # 20 simulated s at 100x: due 0.2 wall s after the start
        assert wake.callbacks is not None
        wake.callbacks.append(lambda _ev: processed.append(loop.time()))
        await clock.wait(wake)
        assert env.now >= 20.0
        late = processed[0] - clock.wall_of(20.0)
        assert clock.wall_of(20.0) - clock.wall_of(0.0) == pytest.approx(0.2)
    assert late >= 0.0  # never early: the wall clock paces simulated time
    assert late <= clock.max_lag + 0.005  # and no later than the lag the clock reports


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
        baseline = await timer_lateness(0.3)
    assert env.now >= 0.27 - clock.max_lag  # simulated time followed the wall clock
    # The stepper is about as punctual as a bare asyncio timer in the same run.
    assert clock.max_lag <= 2 * baseline + 0.01, (clock.max_lag, baseline)


def test_speed_must_be_positive() -> None:
    with pytest.raises(ConfigError, match=r"speed\(=0\) must be"):
        LiveClock(simpy.Environment(), speed=0)


@pytest.mark.parametrize("speed", [1e308, float("inf"), float("nan"), MAX_SPEED * 1.01])
def test_speed_past_the_maximum_is_refused(speed: float) -> None:
    # --speed 1e308 was accepted and the kiosk spun at full CPU, deaf to SIGTERM
    with pytest.raises(ConfigError, match=r"must be > 0 and at most 100000"):
        LiveClock(simpy.Environment(), speed=speed)


@pytest.mark.timeout(10)
async def test_a_clock_that_cannot_keep_up_still_lets_the_loop_run() -> None:
    """A simulation heavier than the wall clock allows used to hold the event loop inside one
    ``run(until=...)``: no port answered and SIGTERM waited for it."""
    env = simpy.Environment()

    def busy() -> simpy.events.ProcessGenerator:
        while True:
            yield env.timeout(1e-4)  # 1e9 events per wall second at the maximum speed

    env.process(busy())
    loop = asyncio.get_running_loop()
    async with LiveClock(env, speed=MAX_SPEED):
        late = []
        for _ in range(5):
            asked = loop.time()
            await asyncio.sleep(0.01)
            late.append(loop.time() - asked - 0.01)
    assert env.now > 0
    assert max(late) < 1.0, late  # a 50 ms step budget; the old stepper never came back


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
        baseline = await timer_lateness(0.5)
        assert env.now >= 0.43 - clock.max_lag  # the ticks due by now have run
        assert clock.max_lag <= 2 * baseline + 0.01, (clock.max_lag, baseline)
    assert next(env._eid) < 40  # type: ignore[attr-defined]  # ~10 ticks and their markers


def test_the_host_clock_is_simulated_in_virtual_time_and_the_wall_clock_live() -> None:
    """A host-clock interval in simulated seconds: itself without a host; times the speed live,
    so that it lasts the same wall time at any speed."""
    assert VIRTUAL.host_span(5.0) == 5.0
    for speed in (1.0, 30.0, 60.0):
        clock = LiveClock(simpy.Environment(), speed=speed)
        assert clock.host_span(5.0) == 5.0 * speed
        assert clock.wall_of(clock.host_span(5.0)) - clock.wall_of(0.0) == pytest.approx(5.0)
