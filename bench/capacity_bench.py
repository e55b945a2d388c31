"""Capacity model benchmark: the full model against a bare SimPy skeleton run in the same process.

Prints, for one simulated year:
- raw SimPy and the bare skeleton of docs/performance.md (pooled exponential failures at MTBF
  2,000 h, a ``simpy.Resource`` of 200 engineers, lognormal travel 1 h + repair 1.5 h);
- for 10,000 and 100,000 terminals (the whole organisation, engineers, hotline agents and
  desk engineers, scaled with the fleet as in the shipped plan): the skeleton at the plan's
  failure rate (the same fault count and crew as the full model) and the full model
  (hotline, remote desk, shifts, dispatch, travel, parts, standbys, inspections, SLA
  clocks), once in this process and once with its regions on 2 local worker processes;
  wall time, CPU time (worker processes included) and their ratio to the skeleton;
- a sweep's wall time on 1 and 2 local worker processes, and on a Dask ``LocalCluster`` of
  1 and of 2 worker processes, beside the machine's own 2-process speed-up.

Usage: ``.venv/bin/python bench/capacity_bench.py [--terminals N ...] [--sweep-reps R]``.
The machine is shared: every line says the load average when it was measured; read the
ratios, which are measured in the same run. CPU time is what other jobs disturb least.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import resource
import time
from pathlib import Path

import simpy

from workbench.capacity.config import Plan, load_plan
from workbench.capacity.model import Inputs, Model
from workbench.capacity.scaling import vary, with_engineers, with_terminals
from workbench.capacity.sweep import run_raw, run_reps
from workbench.faults import FaultCatalog

ROOT = Path(__file__).resolve().parents[1]
HOURS_PER_YEAR = 365 * 24.0


def _events(env: simpy.Environment) -> int:
    return next(env._eid)  # type: ignore[attr-defined]  # SimPy's scheduled-event counter


def raw_simpy(events: int = 1_000_000) -> dict[str, float]:
    """Raw SimPy: one process yielding ``env.timeout(1)`` in a loop (docs/performance.md's baseline)."""
    env = simpy.Environment()

    def loop() -> simpy.events.ProcessGenerator:
        for _ in range(events):
            yield env.timeout(1)

    env.process(loop())
    t, cpu = time.perf_counter(), time.process_time()
    env.run()
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    n = _events(env)
    return {"wall": wall, "cpu": cpu, "events": n, "faults": 0, "rate": n / cpu}


def skeleton(
    terminals: int, engineers: int, mtbf_h: float, years: float, seed: int = 1
) -> dict[str, float]:
    """The bare model: one pooled failure source, a Resource of engineers, travel + repair."""
    env = simpy.Environment()
    rng = random.Random(seed)
    crew = simpy.Resource(env, engineers)
    horizon = years * HOURS_PER_YEAR
    sigma = math.sqrt(math.log1p(0.5**2))
    travel_mu, repair_mu = math.log(1.0) - sigma**2 / 2, math.log(1.5) - sigma**2 / 2
    faults = 0

    def job() -> simpy.events.ProcessGenerator:
        with crew.request() as req:
            yield req
            yield env.timeout(rng.lognormvariate(travel_mu, sigma))
            yield env.timeout(rng.lognormvariate(repair_mu, sigma))

    def failures() -> simpy.events.ProcessGenerator:
        nonlocal faults
        rate = terminals / mtbf_h
        while True:
            yield env.timeout(rng.expovariate(rate))
            if env.now >= horizon:
                return
            faults += 1
            env.process(job())

    env.process(failures())
    t, cpu = time.perf_counter(), time.process_time()
    env.run()
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    events = _events(env)
    return {"wall": wall, "cpu": cpu, "events": events, "faults": faults, "rate": events / cpu}


def scaled(terminals: int) -> Plan:
    """The shipped plan with its fleet and its whole organisation scaled to ``terminals``."""
    shipped = load_plan()
    f = terminals / shipped.terminals
    plan = with_engineers(with_terminals(shipped, terminals), round(shipped.engineers * f))
    plan = vary(plan, "hotline", max(1, round(shipped.hotline.agents * f)))
    return vary(plan, "desk", max(1, round(shipped.remote.desk_engineers * f)))


def _cpu() -> float:
    """CPU seconds of this process and of its finished worker processes."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def full_model(inputs: Inputs, plan: Plan, years: float, workers: int) -> dict[str, float]:
    """One replication of the whole capacity model: in this process (``workers=1``), or with
    its regions on that many local worker processes (started inside the timing)."""
    model = Model(plan, inputs, 1, years)  # for the rate only
    load = os.getloadavg()[0]
    t, cpu = time.perf_counter(), _cpu()
    metrics = run_raw([plan], inputs, [0], 1, years, workers=workers)[0][0]
    wall, cpu = time.perf_counter() - t, _cpu() - cpu
    return {
        "metrics": metrics,  # type: ignore[dict-item]
        "wall": wall,
        "cpu": cpu,
        "events": metrics["events"],
        "faults": metrics["overall.faults"],
        "rate": metrics["events"] / cpu,
        "per_terminal_rate": model.total_rate / model.terminals,
        "utilisation": metrics["overall.utilisation"],
        "load": max(load, os.getloadavg()[0]),
    }


def _row(name: str, r: dict[str, float]) -> None:
    print(
        f"{name:<52} {r['wall']:>7.2f} {r['cpu']:>7.2f} {r['events']:>10,.0f} "
        f"{r['rate']:>12,.0f} {r['faults']:>9,.0f} {os.getloadavg()[0]:>5.1f}"
    )


def compare(inputs: Inputs, terminals: int, years: float) -> dict[str, float]:
    """The full model (in this process, then regions on 2 workers) and the skeleton at the same
    fault count and crew, one after the other in this run."""
    plan = scaled(terminals)
    serial = full_model(inputs, plan, years, 1)
    parallel = full_model(inputs, plan, years, 2)
    mtbf = 1 / serial["per_terminal_rate"]
    matched = skeleton(terminals, plan.engineers, mtbf, years)
    _row(f"bare skeleton, {terminals:,} t, {plan.engineers} eng, MTBF {mtbf:,.0f} h", matched)
    _row(f"full model, {terminals:,} t, {plan.engineers} eng, 1 process", serial)
    _row(f"full model, {terminals:,} t, regions on 2 processes", parallel)
    print(
        f"  {terminals:,} terminals: full model CPU {serial['cpu']:.2f} s = "
        f"{serial['cpu'] / matched['cpu']:.2f}x the skeleton's at the same fault count "
        f"(goal <= 3x); wall {serial['wall']:.2f} s in 1 process, {parallel['wall']:.2f} s "
        f"with regions on 2 ({serial['wall'] / parallel['wall']:.2f}x; goal at 100,000: < 60 s); "
        f"utilisation {serial['utilisation']:.2f}; load {parallel['load']:.1f}; figures "
        f"{'identical' if serial['metrics'] == parallel['metrics'] else 'DIFFERENT'} both ways"
    )
    return parallel


def alternate(inputs: Inputs, sizes: list[int], years: float, rounds: int) -> None:
    """The full model in one process and with its regions on 2, one after the other, N times:
    on a shared machine the load moves between runs, so alternation shows its spread."""
    for terminals in sizes:
        plan = scaled(terminals)
        for i in range(1, rounds + 1):
            for workers in (1, 2):
                r = full_model(inputs, plan, years, workers)
                how = "1 process" if workers == 1 else "regions on 2 processes"
                print(
                    f"{terminals:,} terminals, round {i}, {how}: wall {r['wall']:.2f} s, "
                    f"CPU {r['cpu']:.2f} s, load {r['load']:.1f}",
                    flush=True,
                )


def dask_sweep(inputs: Inputs, reps: int, years: float) -> dict[int, float]:
    """Wall time of ``reps`` replications on a Dask LocalCluster of 1 and of 2 worker processes."""
    from distributed import LocalCluster

    plan = load_plan()
    walls = {}
    for workers in (1, 2):
        with LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster:
            run_reps([plan], inputs, 1, 1, 0.01, scheduler=cluster.scheduler_address)  # warm up
            t = time.perf_counter()
            run_reps([plan], inputs, reps, 1, years, scheduler=cluster.scheduler_address)
            walls[workers] = time.perf_counter() - t
    return walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--years", type=float, default=1.0)
    parser.add_argument("--sweep-reps", type=int, default=8)
    parser.add_argument("--sweep-years", type=float, default=0.5)
    parser.add_argument(
        "--alternate",
        type=int,
        default=0,
        metavar="N",
        help="Only the full model: N rounds of 1 process then regions on 2, per --terminals.",
    )
    args = parser.parse_args()
    inputs = Inputs(FaultCatalog.load(ROOT / "devices" / "catalog.yaml"), {})
    if args.alternate:
        alternate(inputs, args.terminals, args.years, args.alternate)
        return
    shipped = load_plan()
    per_engineer = shipped.terminals / shipped.engineers

    print(
        f"capacity bench: {args.years:g} simulated year(s), the organisation scaled with the "
        f"fleet as in the shipped plan ({per_engineer:.0f} terminals an engineer); load average "
        f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    print(
        f"{'run':<52} {'wall s':>7} {'CPU s':>7} {'events':>10} {'events/CPU s':>12} "
        f"{'faults':>9} {'load':>5}"
    )
    raw = raw_simpy()
    _row("raw SimPy loop of env.timeout(1)", raw)
    _row(
        "bare skeleton, 10,000 t, 200 eng, MTBF 2,000 h", skeleton(10_000, 200, 2000.0, args.years)
    )
    for terminals in args.terminals:
        compare(inputs, terminals, args.years)

    walls = {}
    for workers in (1, 2):
        t = time.perf_counter()
        run_reps([shipped], inputs, args.sweep_reps, 1, args.sweep_years, workers=workers)
        walls[workers] = time.perf_counter() - t
    dask = dask_sweep(inputs, args.sweep_reps, args.sweep_years)
    ceiling = machine_speedup()
    print(f"load average after the sweeps: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    what = f"{args.sweep_reps} replications of the shipped plan ({args.sweep_years:g} y)"
    print(
        f"local processes, {what}: 1 worker {walls[1]:.2f} s, 2 workers {walls[2]:.2f} s, "
        f"speed-up {walls[1] / walls[2]:.2f}x"
    )
    print(
        f"Dask LocalCluster, {what}: 1 worker {dask[1]:.2f} s, 2 workers {dask[2]:.2f} s, "
        f"speed-up {dask[1] / dask[2]:.2f}x (goal >= 1.8x)"
    )
    print(
        f"this machine's own 2-process speed-up on pure CPU work, same run: {ceiling:.2f}x; "
        f"Dask reaches {dask[1] / dask[2] / ceiling:.0%} of it"
    )


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def machine_speedup(n: int = 20_000_000) -> float:
    """How much faster two processes finish two equal CPU-bound jobs than one process does:
    the ceiling any 2-worker sweep can reach here (2.0 on two free, real cores)."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_spin, [1000, 1000]))  # workers up before timing
        t = time.perf_counter()
        _spin(n)
        _spin(n)
        serial = time.perf_counter() - t
        t = time.perf_counter()
        list(pool.map(_spin, [n, n]))
        parallel = time.perf_counter() - t
    return serial / parallel


if __name__ == "__main__":
    main()
