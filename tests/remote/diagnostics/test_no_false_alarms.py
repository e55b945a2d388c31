"""No false diagnoses under load: healthy kiosks in one process, the full inspection run on many
of them at once, with every core kept busy by other processes, flag nothing. The default run
has 10 kiosks at concurrency 10; ``-m slow`` has the 50 at concurrency 20 (three runs in a row,
through SSH and the fleet fan-out: ``bench/false_alarm_bench.py``)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from diag_kiosk import fast_profile

from devices.kiosk import KioskHost, terminal_ids
from remote.diagnostics import Result, Runner


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    ("kiosks", "concurrency", "hogs"),
    [(10, 10, 1), pytest.param(50, 20, os.cpu_count() or 2, marks=pytest.mark.slow)],
)
async def test_healthy_kiosks_under_cpu_load_give_no_alarm(
    state_dir: Path, kiosks: int, concurrency: int, hogs: int
) -> None:
    # the default run keeps one core busy (its neighbours in the suite share the machine);
    # -m slow keeps every core busy
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(hogs)]
    try:
        ids = terminal_ids("KSK", kiosks)
        async with KioskHost(state_dir / "kiosks", fast_profile(state_dir), ids, speed=30) as host:
            gate = asyncio.Semaphore(concurrency)

            async def inspect(tid: str) -> list[Result]:
                async with gate:
                    runner = Runner(host.endpoints[tid])  # an engineer's run: no stimuli
                    return [r async for r in runner.stream(["inspection"])]

            runs = await asyncio.gather(*(inspect(tid) for tid in ids))
    finally:
        for hog in busy:
            hog.kill()
            hog.wait()
    flagged = [
        f"{tid} {r.test}: {r.status} {r.suspect} ({r.detail[:100]})"
        for tid, results in zip(ids, runs, strict=True)
        for r in results
        if r.status not in ("pass", "skip")
    ]
    assert len(runs) == kiosks and all(len(results) == 11 for results in runs)
    assert flagged == []
