"""What reading open faults live costs the fleet screen, beside the same app in the same run:

- a window over ``--reached`` terminals of a ``--rows`` fleet, each ``status`` read taking a
  random 50-250 ms (an SSH session in which the agent reads every device; in-memory here, so
  what is measured is the UI taking the answers in): the gaps between event-loop ticks while
  the sweep runs (a frame or a keystroke waits at most that long);
- the sweep's wall time against its floor (the reads' total time / ``LIVE_CONCURRENCY``).

The baseline is the same fleet in the same run with the window reaching no terminal, watched
for as long as the sweep took from the same moment (the rows drawn), so start-up work that
both share (a second reload when the window is set) is in both.

    .venv/bin/python bench/tui_live_bench.py [--rows 5000] [--reached 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "tui"))
sys.path.insert(0, str(ROOT / "bench"))

from fake_backend import NOW, FakeBackend  # noqa: E402
from tui_bench import loop_gaps, ms  # noqa: E402

from tui.app import WorkbenchApp  # noqa: E402
from tui.screens import fleet as fleet_screen  # noqa: E402

READ_S = (0.05, 0.25)


class SlowStatusBackend(FakeBackend):
    """Every terminal answers; the window reaches the first ``reached``; reads take 50-250 ms."""

    def __init__(self, rows: int, reached: int) -> None:
        super().__init__(rows)
        assert self._window is not None
        self._window = replace(
            self._window, principals=tuple(f"KSK-{i:04d}" for i in range(1, reached + 1))
        )
        self.read: set[str] = set()
        self.read_time = 0.0

    async def probe(self, terminal: str) -> str:
        return "up"

    def terminals(self) -> list[Any]:
        return [r.with_(reachable="up") for r in super().terminals()]

    async def status(self, terminal: str) -> dict[str, Any]:
        took = random.uniform(*READ_S)
        await asyncio.sleep(took)
        self.read.add(terminal)
        self.read_time += took
        return await super().status(terminal)


async def sweep(rows: int, reached: int, seconds: float | None = None) -> tuple[list[float], float]:
    """Loop gaps from the moment the fleet's rows are on screen until every reached terminal's
    status was read (or for ``seconds``), and how long that took."""
    backend = SlowStatusBackend(rows, reached)
    app = WorkbenchApp(backend, reason="bench", clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.fleet.table
        while len(table.rows) < rows:
            await pilot.pause(0.01)
        t0 = time.perf_counter()
        if seconds is None:
            gaps = await loop_gaps(app, None, until=lambda: len(backend.read) >= reached)
        else:
            gaps = await loop_gaps(app, seconds)
        took = time.perf_counter() - t0
        if seconds is None:
            while sum(r.faults_live for r in table.rows) < reached:
                await pilot.pause(0.01)
            floor = backend.read_time / fleet_screen.LIVE_CONCURRENCY
            print(
                f"live status of {reached} of {rows} terminals,"
                f" {fleet_screen.LIVE_CONCURRENCY} at a time, reads"
                f" {READ_S[0] * 1e3:.0f}-{READ_S[1] * 1e3:.0f} ms: all {reached} rows live"
                f" {took:.1f} s after the rows were drawn (floor {floor:.1f} s)"
            )
    return gaps, took


async def run(rows: int, reached: int) -> None:
    busy, took = await sweep(rows, reached)
    base, _ = await sweep(rows, 0, seconds=took)  # the same app, the window reaching none
    print(f"loop gaps while reading: {ms(busy)}; the same span with none read: {ms(base)}")
    over = sum(g > 0.1 for g in busy), sum(g > 0.1 for g in base)
    print(f"gaps over 100 ms: {over[0]} while reading, {over[1]} with none read")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--reached", type=int, default=200)
    args = parser.parse_args()
    print(f"tui live bench: python {sys.version.split()[0]}, {os.cpu_count()} cores")
    asyncio.run(run(args.rows, args.reached))


if __name__ == "__main__":
    main()
