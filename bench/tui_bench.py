"""The TUI's figures, each beside a baseline measured in the same run:

- start-up to first paint: ``workbench tui`` in a real pty until the fleet's header is on the
  screen, against a bare Textual app (one Label) started the same way;
- filter latency on a 5,000-terminal fleet: each keystroke typed into the ``/`` filter, pressed
  through ``App.run_test()`` until the screen is idle again, against the same keystrokes typed
  into a bare Input; and the filter's own work (``FleetTable.apply_filter``) alone;
- memory: resident set of the app holding 5,000 terminals against the same app with none;
- a 100-terminal fan-out streaming 11 results each into the fleet screen: the longest gap
  between event-loop ticks (a frame cannot be drawn faster than the loop turns) against the
  same app idle.

    .venv/bin/python bench/tui_bench.py [--rows 5000] [--fan-out 100]

The fan-out uses an in-memory backend whose results arrive at random 0-30 ms intervals (the SSH
fan-out itself is ``bench/fleet_bench.py``); what is measured is the UI taking them in.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import random
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "tui"))

from fake_backend import NOW, TESTS, FakeBackend  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import Input, Label  # noqa: E402

from tui.app import WorkbenchApp  # noqa: E402

BARE_APP = """
from textual.app import App
from textual.widgets import Label
class Bare(App):
    def compose(self):
        yield Label("terminal ready")
Bare().run()
"""


def first_paint(argv: list[str], marker: bytes, timeout: float = 30.0) -> float:
    """Seconds from exec to ``marker`` on the pty; the process is then asked to quit."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    seen = b""
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
                if marker in seen:
                    return time.perf_counter() - start
        raise RuntimeError(f"{marker!r} not seen within {timeout} s: {seen[-300:]!r}")
    finally:
        proc.kill()
        proc.wait()
        os.close(master)


class TypingBaseline(App[None]):
    """An Input and nothing else: what a keystroke costs Textual itself."""

    def compose(self) -> ComposeResult:
        yield Label("baseline")
        yield Input()


async def filter_latency(rows: int, typed: str) -> tuple[list[float], list[float], list[float]]:
    app = WorkbenchApp(FakeBackend(rows), reason="bench", clock=lambda: NOW)
    ours, work = [], []
    async with app.run_test(size=(120, 40)) as pilot:
        while len(app.fleet.table.rows) < rows:
            await pilot.pause(0.01)
        await pilot.press("slash")
        for ch in typed:
            t0 = time.perf_counter()
            await pilot.press(ch)
            ours.append(time.perf_counter() - t0)
        table = app.fleet.table
        for i in range(1, len(typed) + 1):
            t0 = time.perf_counter()
            table.apply_filter(typed[:i])
            work.append(time.perf_counter() - t0)
    base = []
    async with TypingBaseline().run_test(size=(120, 40)) as pilot:
        await pilot.press("tab")
        for ch in typed:
            t0 = time.perf_counter()
            await pilot.press(ch)
            base.append(time.perf_counter() - t0)
    return ours, base, work


async def resident(rows: int) -> int:
    app = WorkbenchApp(FakeBackend(rows), reason="bench", clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        while len(app.fleet.table.rows) < rows:
            await pilot.pause(0.01)
        await pilot.pause()
        return int(psutil.Process().memory_info().rss)


class StreamingBackend(FakeBackend):
    """Every terminal reachable; 11 results each, 0-30 ms apart."""

    def refusal(self, terminal: str) -> str | None:
        return None

    async def run(self, terminal: str, suite: str) -> AsyncIterator[dict[str, Any]]:
        for test in [*TESTS, *TESTS, *TESTS[:3]]:
            await asyncio.sleep(random.uniform(0, 0.03))
            yield self._result(terminal, test)
        yield {"event": "done", "outcome": "pass", "error": None, "run_id": 1}

    def suite_tests(self, suite: str) -> list[str]:
        return ["t"] * 11


async def loop_gaps(app: WorkbenchApp, seconds: float | None, until: Any = None) -> list[float]:
    """Gaps between 5 ms ticks of the app's event loop, for ``seconds`` or until ``until()``."""
    gaps: list[float] = []
    last = time.perf_counter()
    start = last
    while (seconds is not None and last - start < seconds) or (until is not None and not until()):
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    return gaps


async def fan_out(terminals: int) -> tuple[list[float], list[float], float]:
    backend = StreamingBackend(terminals)
    app = WorkbenchApp(backend, reason="bench", clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        fleet = app.fleet
        while len(fleet.table.rows) < terminals:
            await pilot.pause(0.01)
        idle = await loop_gaps(app, 2.0)
        t0 = time.perf_counter()
        watch = asyncio.ensure_future(  # ticking before the keys: press() waits for idle
            loop_gaps(app, None, until=lambda: all(r.progress == "pass" for r in fleet.table.rows))
        )
        await pilot.press("a", "i")
        busy = await watch
        took = time.perf_counter() - t0
    return idle, busy, took


def ms(xs: list[float]) -> str:
    if not xs:
        return "no samples"
    return f"median {statistics.median(xs) * 1e3:.1f} ms, max {max(xs) * 1e3:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--fan-out", type=int, default=100)
    parser.add_argument("--typed", default="ksk-00[12]")
    parser.add_argument("--paints", type=int, default=5, help="Start-ups of each app.")
    args = parser.parse_args()
    print(f"tui bench: python {sys.version.split()[0]}, {os.cpu_count()} cores")

    tui_runs, bare_runs = [], []
    with tempfile.TemporaryDirectory(prefix="wb-tui-") as state:
        tui = [sys.executable, "-m", "workbench.cli", "tui", "--state-dir", state, "--ticket", "B"]
        for _ in range(args.paints):  # interleaved: the machine's load changes under both alike
            tui_runs.append(first_paint(tui, b"terminal"))
            bare_runs.append(first_paint([sys.executable, "-c", BARE_APP], b"terminal ready"))
    ours, bare = statistics.median(tui_runs), statistics.median(bare_runs)
    print(
        f"first paint, median of {args.paints}: workbench tui {ours:.2f} s, "
        f"bare Textual app {bare:.2f} s ({ours / bare:.2f}x)"
    )

    typed, base, work = asyncio.run(filter_latency(args.rows, args.typed))
    print(
        f"filter on {args.rows} terminals, per keystroke: {ms(typed)} "
        f"(bare Input: {ms(base)}); the filter itself: {ms(work)}"
    )

    empty = asyncio.run(resident(0))
    full = asyncio.run(resident(args.rows))
    print(
        f"memory: {full / 2**20:.0f} MiB resident with {args.rows} terminals, "
        f"{empty / 2**20:.0f} MiB with none in the same process "
        f"({(full - empty) / max(args.rows, 1) / 1024:.1f} KiB a terminal)"
    )

    idle, busy, took = asyncio.run(fan_out(args.fan_out))
    print(
        f"fan-out over {args.fan_out} terminals x 11 results in {took:.1f} s: loop gaps {ms(busy)} "
        f"(idle app: {ms(idle)}); gaps over 100 ms: {sum(g > 0.1 for g in busy)}"
    )


if __name__ == "__main__":
    main()
