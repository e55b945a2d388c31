"""Erlang C through the Erlang B recursion, and the model reduced to M/M/c to check against it.

The reduction runs the real :class:`~workbench.capacity.dispatch.Dispatcher` with one centre,
``c`` engineers always on shift, no travel, no hotline, no remote desk, exponential service and
Poisson arrivals from one pooled source. Each replication starts from a draw of the M/M/c
stationary distribution (memoryless service makes that exact), so no warm-up is discarded.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import simpy

from workbench.capacity.dispatch import Dispatcher, Engineer
from workbench.capacity.stats import Estimate, mean_ci
from workbench.errors import ConfigError


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/M/c/c with offered load ``load`` (erlangs), by recursion."""
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def _check(arrival_rate: float, service_rate: float, servers: int) -> float:
    if not arrival_rate > 0:
        raise ConfigError(f"arrival rate(={arrival_rate}) must be > 0")
    if not service_rate > 0:
        raise ConfigError(f"service rate(={service_rate}) must be > 0")
    if servers < 1:
        raise ConfigError(f"servers(={servers}) must be >= 1")
    load = arrival_rate / service_rate
    if load >= servers:
        raise ConfigError(
            f"load {load:g} erlangs >= servers(={servers}): the queue grows without bound"
        )
    return load


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C), stable even at c in the hundreds."""
    load = _check(arrival_rate, service_rate, servers)
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1 - b))


def mean_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean wait in queue of M/M/c, in the time unit of the rates."""
    return erlang_c(arrival_rate, service_rate, servers) / (servers * service_rate - arrival_rate)


def _stationary_count(rng: random.Random, load: float, servers: int, p_wait: float) -> int:
    """A draw of the number in system from the M/M/c stationary distribution."""
    rho = load / servers
    if rng.random() < p_wait:
        return servers + int(math.log(1.0 - rng.random()) / math.log(rho)) if rho > 0 else servers
    logs = [0.0]
    for n in range(1, servers):
        logs.append(logs[-1] + math.log(load / n))
    top = max(logs)
    weights = [math.exp(x - top) for x in logs]
    return rng.choices(range(servers), weights=weights)[0]


@dataclass(frozen=True)
class MMcRun:
    """One replication: share of counted customers who waited, and their mean wait.

    ``mean_wait`` is the conditional-expectation estimator (the expected wait given the queue
    each arrival found); ``observed_wait`` is the plain mean of the waits as they happened.
    Both are unbiased; the first has a somewhat smaller variance (a few per cent to a third).
    """

    customers: int
    p_wait: float
    mean_wait: float
    observed_wait: float


def simulate_mmc(
    arrival_rate: float, service_rate: float, servers: int, customers: int, seed: int
) -> MMcRun:
    """Run the reduced model for ``customers`` arrivals after a stationary start."""
    load = _check(arrival_rate, service_rate, servers)
    if customers < 1:
        raise ConfigError(f"customers(={customers}) must be >= 1")
    rng = random.Random(seed)
    env = simpy.Environment()
    engineers = [Engineer(i, 0, 0, (0,)) for i in range(servers)]
    dispatcher = Dispatcher(env, [0], engineers, priorities=1, skills=1)
    expo = rng.expovariate
    done = env.event()
    tally: dict[str, float] = {"n": 0, "waited": 0, "wait": 0.0, "expected": 0.0}
    drain = servers * service_rate

    def serve(event: simpy.Event) -> None:
        eng: Engineer = event.value  # type: ignore[assignment]
        env.timeout(expo(service_rate)).callbacks.append(lambda _: dispatcher.release(eng))

    def counted(arrived: float) -> simpy.Event:
        ahead = dispatcher.queue_length(0)
        event = dispatcher.request(0, 0, 0, 0)
        if not event.triggered:
            # Conditional expectation of this wait given the queue it joined: every one of
            # ``ahead + 1`` departures takes Exp(c*mu). Same mean, somewhat smaller variance.
            tally["expected"] += (ahead + 1) / drain

        def started(ev: simpy.Event) -> None:
            wait = env.now - arrived
            tally["n"] += 1
            if wait > 0:
                tally["waited"] += 1
                tally["wait"] += wait
            serve(ev)
            if tally["n"] == customers:
                done.succeed()

        event.callbacks.append(started)
        return event

    def arrivals() -> simpy.events.ProcessGenerator:
        for _ in range(customers):
            yield env.timeout(expo(arrival_rate))
            counted(env.now)

    for _ in range(
        _stationary_count(rng, load, servers, erlang_c(arrival_rate, service_rate, servers))
    ):
        dispatcher.request(0, 0, 0, 0).callbacks.append(serve)
    env.process(arrivals())
    env.run(until=done)
    n = int(tally["n"])
    return MMcRun(n, tally["waited"] / n, tally["expected"] / n, tally["wait"] / n)


def _simulate(args: tuple[float, float, int, int, int]) -> MMcRun:
    """Picklable entry point for worker processes."""
    return simulate_mmc(*args)


@dataclass(frozen=True)
class ErlangCheck:
    """Simulated vs Erlang C: probability of waiting and mean wait, with 95 % CIs."""

    arrival_rate: float
    service_rate: float
    servers: int
    theory_p_wait: float
    theory_mean_wait: float
    p_wait: Estimate
    mean_wait: Estimate
    observed_wait: Estimate
    customers: int
    reps: int

    @property
    def p_wait_error(self) -> float:
        """Relative error of the simulated probability of waiting."""
        return abs(self.p_wait.mean - self.theory_p_wait) / self.theory_p_wait

    @property
    def mean_wait_error(self) -> float:
        """Relative error of the simulated mean wait."""
        return abs(self.mean_wait.mean - self.theory_mean_wait) / self.theory_mean_wait

    def to_json(self) -> dict[str, object]:
        """A JSON-ready record of the comparison."""
        return {
            "arrival_rate": self.arrival_rate,
            "service_rate": self.service_rate,
            "servers": self.servers,
            "load": self.arrival_rate / (self.service_rate * self.servers),
            "customers_per_rep": self.customers,
            "reps": self.reps,
            "erlang_c": {"p_wait": self.theory_p_wait, "mean_wait": self.theory_mean_wait},
            "simulated": {
                "p_wait": {"mean": self.p_wait.mean, "ci95": self.p_wait.half},
                "mean_wait": {"mean": self.mean_wait.mean, "ci95": self.mean_wait.half},
                "observed_wait": {"mean": self.observed_wait.mean, "ci95": self.observed_wait.half},
            },
            "relative_error": {"p_wait": self.p_wait_error, "mean_wait": self.mean_wait_error},
        }


def check_mmc(
    arrival_rate: float,
    service_rate: float,
    servers: int,
    customers: int = 200_000,
    reps: int = 10,
    seed: int = 1,
    workers: int = 1,
) -> ErlangCheck:
    """Replicate the reduced model (on ``workers`` local processes) and set it beside Erlang C."""
    if reps < 2:
        raise ConfigError(f"reps(={reps}) must be >= 2 for a confidence interval")
    _check(arrival_rate, service_rate, servers)
    seeds = [seed * 1_000_003 + r for r in range(reps)]
    args = [(arrival_rate, service_rate, servers, customers, s) for s in seeds]
    runs: Sequence[MMcRun]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            runs = list(pool.map(_simulate, args))
    else:
        runs = [_simulate(a) for a in args]
    p = mean_ci([r.p_wait for r in runs])
    w = mean_ci([r.mean_wait for r in runs])
    o = mean_ci([r.observed_wait for r in runs])
    return ErlangCheck(
        arrival_rate,
        service_rate,
        servers,
        erlang_c(arrival_rate, service_rate, servers),
        mean_wait(arrival_rate, service_rate, servers),
        Estimate(*p),
        Estimate(*w),
        Estimate(*o),
        customers,
        reps,
    )
