"""Scenario figures, each beside a baseline measured in the same run:

1. the whole scenario library in virtual time (scenarios/s and simulated hours/s), beside a raw
   SimPy ``timeout(1)`` loop;
2. the pytest plugin's ``kiosk`` fixture start-up (median of several), beside ``workbench kiosk
   up`` in its own process until it says it is up (what the README's old CI fixture did);
3. a class of 30 trainees up (kiosks, agents, keys, grants, handouts), beside 30 bare kiosks in
   one process.

    .venv/bin/python bench/scenario_bench.py [--fixtures 7] [--trainees 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import simpy

from devices.kiosk import KioskHost
from scenarios.classroom import Classroom
from scenarios.library import available, load
from scenarios.runner import run_virtual
from scenarios.testing import SimulatedKiosk


def raw_simpy(events: int = 300_000) -> float:
    env = simpy.Environment()

    def loop() -> simpy.events.ProcessGenerator:
        for _ in range(events):
            yield env.timeout(1)

    env.process(loop())
    t = time.perf_counter()
    env.run()
    return events / (time.perf_counter() - t)


def library() -> tuple[int, float, float]:
    loaded = [load(n) for n in available()]
    t = time.perf_counter()
    sim = 0.0
    for item in loaded:
        run = run_virtual(item)
        assert run.ok, (item.scenario.name, run.failures())
        sim += run.sim_seconds
    return len(loaded), time.perf_counter() - t, sim / 3600


def fixture_starts(n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        kiosk = SimulatedKiosk(speed=60).start()
        out.append(time.perf_counter() - t)
        kiosk.close()
    return out


def process_start() -> float:
    with tempfile.TemporaryDirectory(prefix="wbb-", dir="/tmp") as d:
        t = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "workbench.cli",
                "kiosk",
                "up",
                "--state-dir",
                d,
                "--speed",
                "60",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if "kiosk(s) up" in line:
                break
        elapsed = time.perf_counter() - t
        proc.terminate()
        proc.wait()
    return elapsed


async def class_up(trainees: int) -> float:
    with tempfile.TemporaryDirectory(prefix="wbc-", dir="/tmp") as d:
        t = time.perf_counter()
        async with Classroom(load("display-brightness-low"), d, trainees, speed=60):
            elapsed = time.perf_counter() - t
    return elapsed


async def bare_kiosks(count: int) -> float:
    with tempfile.TemporaryDirectory(prefix="wbk-", dir="/tmp") as d:
        ids = [f"KSK-{i:04d}" for i in range(1, count + 1)]
        t = time.perf_counter()
        async with KioskHost(Path(d), "bill_payment", ids, speed=60):
            elapsed = time.perf_counter() - t
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=int, default=7)
    parser.add_argument("--trainees", type=int, default=30)
    args = parser.parse_args()

    baseline = raw_simpy()
    n, wall, hours = library()
    print(
        f"library in virtual time: {n} scenarios in {wall:.2f} s = {n / wall:.1f} scenarios/s, "
        f"{hours / wall:.0f} simulated h/s (all expectations held)"
    )
    print(f"  baseline raw SimPy timeout(1) loop: {baseline:,.0f} events/s")

    SimulatedKiosk(speed=60).start().close()  # imports and first-use caches, not measured
    starts = fixture_starts(args.fixtures)
    proc = process_start()
    median = statistics.median(starts)
    print(
        f"kiosk fixture start-up: median {median * 1000:.0f} ms of {len(starts)} "
        f"(min {min(starts) * 1000:.0f}, max {max(starts) * 1000:.0f}); target < 1 s"
    )
    print(
        f"  baseline 'workbench kiosk up' process until up: {proc * 1000:.0f} ms "
        f"(fixture {proc / median:.1f}x faster)"
    )

    bare = asyncio.run(bare_kiosks(args.trainees))
    room = asyncio.run(class_up(args.trainees))
    print(
        f"class of {args.trainees} up (kiosks, agents, keys, grants, handouts): {room:.1f} s; "
        f"target < 30 s"
    )
    print(f"  baseline {args.trainees} bare kiosks in one process: {bare:.1f} s")


if __name__ == "__main__":
    main()
