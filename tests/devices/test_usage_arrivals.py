"""The customers' arrivals (KioskApp._customers, its draw written out as random.Random's
expovariate computes it and its usual wait taken in place) come at the times of a Poisson stream
drawn with ``rng.expovariate`` that only runs while the kiosk is open, event or no event between
them."""

from __future__ import annotations

import random
from collections.abc import Generator, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.usage import KioskApp
from devices.usage_settings import UsageSettings
from workbench.clock import DAY, HOUR, VIRTUAL


def expected(rng: random.Random, s: UsageSettings, t: float) -> Iterator[float]:
    """The arrival times, drawn one by one with ``rng.expovariate`` (the stream's definition)."""
    rate = s.customers_per_hour / HOUR
    opens, closes = s.opens_h * HOUR, s.closes_h * HOUR

    def next_opening(t: float) -> float:
        day, into = divmod(t, DAY)
        return day * DAY + opens if into < opens else (day + 1) * DAY + opens

    while True:
        into = t % DAY
        if not opens <= into < closes:
            t = next_opening(t)
            into = opens
        gap = rng.expovariate(rate)
        if into + gap < closes:
            t += gap
            yield t
        else:
            t = next_opening(t - into + closes)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    per_hour=st.sampled_from([0.5, 6.0, 40.0]),
    hours=st.sampled_from([(7.0, 21.0), (0.0, 24.0), (22.0, 23.5)]),
    tick=st.sampled_from([None, 7.0, 600.0]),
    inline=st.booleans(),
)
def test_customers_arrive_as_the_expovariate_stream_within_opening_hours(
    seed: int,
    per_hour: float,
    hours: tuple[float, float],
    tick: float | None,
    inline: bool,
) -> None:
    s = UsageSettings(customers_per_hour=per_hour, opens_h=hours[0], closes_h=hours[1])
    env = simpy.Environment(initial_time=3 * HOUR)
    device: Any = SimpleNamespace(clock=VIRTUAL)  # what the application's waits follow
    app = KioskApp(env, {"clock": device}, s, rng=random.Random(seed))
    app.inline_waits = inline
    came: list[float] = []

    def serve() -> Generator[simpy.Event, Any, None]:
        came.append(env.now)
        yield from ()

    app._serve = serve  # type: ignore[method-assign]

    def ticking(every: float) -> Generator[simpy.Event, Any, None]:
        while True:  # something else due now and then: some waits become events
            yield env.timeout(every)

    if tick is not None:
        env.process(ticking(tick))
    app.start()
    env.run(until=3 * HOUR + 4 * DAY)
    drawn = random.Random(seed)
    stream = expected(drawn, s, 3 * HOUR)
    want = [next(stream) for _ in range(len(came) + 1)]
    # (a wait made an event ends at now + (at - now), which may differ from at in the last bit)
    assert came == pytest.approx(want[:-1], rel=1e-12, abs=0)
    assert want[-1] > env.now  # none missed before the end of the run: the next one is due
    assert app.rng.getstate() == drawn.getstate()  # the same draws, no more, no fewer


def test_a_customer_never_arrives_while_the_kiosk_is_closed() -> None:
    s = UsageSettings(customers_per_hour=30.0, opens_h=9.0, closes_h=17.0)
    env = simpy.Environment()
    device: Any = SimpleNamespace(clock=VIRTUAL)
    app = KioskApp(env, {"clock": device}, s, rng=random.Random(5))
    came: list[float] = []

    def serve() -> Generator[simpy.Event, Any, None]:
        came.append(env.now)
        yield from ()

    app._serve = serve  # type: ignore[method-assign]
    app.start()
    env.run(until=3 * DAY)
    assert len(came) > 100
    assert all(9 * HOUR <= at % DAY < 17 * HOUR for at in came)
