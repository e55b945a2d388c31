"""The TUI's figures, each beside a baseline measured in the same run:

- start-up to first paint: ``workbench tui`` in a real pty until the fleet's header is on the
  screen, against a bare Textual app (one Label) started the same way: wall time, and the CPU the
  process had used by then (steadier than wall time on a busy machine); once as started bare and
  once with a CA and a window certificate, as an engineer starts it;
- filter latency on a 5,000-terminal fleet, as a user feels it: the app runs in a real pty with
  Textual's own terminal driver; each keystroke of the ``/`` filter is written to the pty and
  timed until the status line naming the new filter (set in the same handler that reorders the
  table, so painted in the same frame) has come back out of it. The baseline is a bare Input
  typed the same way, timed until it echoes the text, interleaved session by session; the
  filter's own work (``FleetTable.apply_filter``) is timed alone. (``Pilot.press`` is not used:
  it waits for the process to look idle, at least two 20 ms sleeps a key, so a bare Input
  "took" 63 ms through it.)
- memory: resident set of the app holding 5,000 terminals against the same app with none;
- a 100-terminal fan-out streaming 11 results each into the fleet screen: the longest gap
  between event-loop ticks (a frame cannot be drawn faster than the loop turns) against the
  same app idle.
- garbage collection (``--only gc``, not in the default run): the ``/`` filter typed into a
  5,000-terminal fleet, the app with its start-up frozen out of the collector (as
  ``workbench tui`` runs it, :mod:`workbench.gc_freeze`) and without, alternating: the event
  loop's gaps and the full collections meanwhile (from ``gc.callbacks``).

The fleet apps run as ``workbench tui`` does (``freeze_gc=True``).

    .venv/bin/python bench/tui_bench.py [--rows 5000] [--fan-out 100] [--only paint|filter|memory|fan-out|gc]

The fan-out uses an in-memory backend whose results arrive at random 0-30 ms intervals (the SSH
fan-out itself is ``bench/fleet_bench.py``); what is measured is the UI taking them in.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import gc
import os
import pty
import random
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "tui"))

from fake_backend import NOW, TESTS, FakeBackend  # noqa: E402

from tui.app import WorkbenchApp  # noqa: E402

BARE_APP = """
from textual.app import App
from textual.widgets import Label
class Bare(App):
    def compose(self):
        yield Label("terminal ready")
Bare().run()
"""


FLEET_APP = f"""
import sys
sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "tests" / "tui")!r}]
from fake_backend import NOW, FakeBackend
from tui.app import WorkbenchApp
WorkbenchApp(FakeBackend(int(sys.argv[1])), reason="bench", clock=lambda: NOW, freeze_gc=True).run()
"""

TYPING_BASELINE = """
from textual.app import App
from textual.widgets import Input, Label
class Bare(App):
    def compose(self):
        yield Label("terminal ready")
        yield Input()
Bare().run()
"""


class Pty:
    """A program on a 120x40 pseudo-terminal, as a terminal emulator would run it."""

    def __init__(self, argv: list[str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
        )
        os.close(slave)

    def until(self, marker: bytes, timeout: float = 30.0) -> float:
        """Read the screen's output until ``marker`` is in it; the time it was seen."""
        seen = b""
        deadline = time.perf_counter() + timeout
        while marker not in seen:
            ready, _, _ = select.select(
                [self.master], [], [], max(0.0, deadline - time.perf_counter())
            )
            if not ready:
                raise RuntimeError(f"{marker!r} not seen within {timeout} s: {seen[-300:]!r}")
            seen += os.read(self.master, 65536)
        return time.perf_counter()

    def drain(self, quiet: float) -> None:
        """Read until the program has written nothing for ``quiet`` seconds."""
        while select.select([self.master], [], [], quiet)[0]:
            os.read(self.master, 65536)

    def type(self, key: bytes, marker: bytes) -> float:
        """Seconds from writing ``key`` to ``marker`` coming back."""
        t0 = time.perf_counter()
        os.write(self.master, key)
        return self.until(marker) - t0

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        os.close(self.master)


def first_paint(argv: list[str], marker: bytes) -> tuple[float, float]:
    """Seconds from exec to ``marker`` on the pty, and the CPU seconds the process had used by
    then; the process is then killed."""
    term = Pty(argv)
    try:
        seen = term.until(marker)
        cpu = psutil.Process(term.proc.pid).cpu_times()
        return seen - term.start, cpu.user + cpu.system
    finally:
        term.close()


def window_args(state: Path) -> list[str]:
    """A CA and a window certificate under ``state``, as ``workbench tui`` is given them."""
    from remote.window import CertificateAuthority, engineer_key

    authority = CertificateAuthority.init(state / "CA")
    key = engineer_key(state / "alice", "alice@support")
    cert = state / "alice-cert.pub"
    cert.write_bytes(authority.grant(["KSK-0001"], key).certificate)
    return ["--ca", str(state / "CA"), "--key", str(state / "alice"), "--cert", str(cert)]


def paints(runs: int) -> None:
    """First paint of ``workbench tui`` (bare, and with a window) and of a bare Textual app,
    interleaved: the machine's load changes under all three alike."""
    found: dict[str, list[tuple[float, float]]] = {"tui": [], "window": [], "bare": []}
    with tempfile.TemporaryDirectory(prefix="wb-tui-") as tmp:
        state = Path(tmp)
        tui = [sys.executable, "-m", "workbench.cli", "tui", "--state-dir", tmp, "--ticket", "B"]
        window = [*tui, *window_args(state)]
        for _ in range(runs):
            found["tui"].append(first_paint(tui, b"terminal"))
            found["window"].append(first_paint(window, b"terminal"))
            found["bare"].append(first_paint([sys.executable, "-c", BARE_APP], b"terminal ready"))
    wall = {k: statistics.median(w for w, _ in v) for k, v in found.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in found.items()}
    print(
        f"first paint, median of {runs}: workbench tui {wall['tui']:.2f} s "
        f"({cpu['tui']:.2f} s CPU), with a CA and certificate {wall['window']:.2f} s "
        f"({cpu['window']:.2f} s CPU); bare Textual app {wall['bare']:.2f} s "
        f"({cpu['bare']:.2f} s CPU); {wall['tui'] / wall['bare']:.2f}x and "
        f"{wall['window'] / wall['bare']:.2f}x; load {os.getloadavg()[0]:.1f}"
    )


def typed_latency(argv: list[str], ready: bytes, steps: list[tuple[bytes, bytes]]) -> list[float]:
    """Each step's key written to the app, timed until its marker is painted; a typist's pace
    (0.2 s between keys) so that each keystroke is timed alone."""
    term = Pty(argv)
    try:
        term.until(ready)
        term.drain(0.5)
        out = []
        for key, marker in steps:
            out.append(term.type(key, marker))
            time.sleep(0.2)
            term.drain(0.05)
        return out
    finally:
        term.close()


def filter_latency(rows: int, typed: str, sessions: int) -> tuple[list[float], list[float]]:
    """Keystrokes into the fleet's ``/`` filter and into a bare Input, session by session."""
    fleet = [sys.executable, "-c", FLEET_APP, str(rows)]
    bare = [sys.executable, "-c", TYPING_BASELINE]
    # the status line ends "filter regex /ksk-00 · sort terminal"; the Input echoes what is typed
    ours_steps = [(c.encode(), f"/{typed[: i + 1]} · ".encode()) for i, c in enumerate(typed)]
    bare_steps = [(c.encode(), typed[: i + 1].encode()) for i, c in enumerate(typed)]
    ours: list[float] = []
    base: list[float] = []
    for _ in range(sessions):
        ours += typed_latency(fleet, b"terminals", [(b"/", b"/ regex"), *ours_steps])[1:]
        base += typed_latency(bare, b"terminal ready", bare_steps)
    return ours, base


async def filter_work(rows: int, typed: str) -> list[float]:
    """``FleetTable.apply_filter`` alone, in the app holding ``rows`` terminals."""
    app = WorkbenchApp(FakeBackend(rows), reason="bench", clock=lambda: NOW)
    work = []
    async with app.run_test(size=(120, 40)) as pilot:
        while len(app.fleet.table.rows) < rows:
            await pilot.pause(0.01)
        table = app.fleet.table
        for i in range(1, len(typed) + 1):
            t0 = time.perf_counter()
            table.apply_filter(typed[:i])
            work.append(time.perf_counter() - t0)
    return work


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
    app = WorkbenchApp(backend, reason="bench", clock=lambda: NOW, freeze_gc=True)
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


class Collections:
    """The garbage collections made while it is open (started, seconds, generation)."""

    def __init__(self) -> None:
        self.made: list[tuple[float, float, int]] = []
        self._began = 0.0

    def _watch(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.made.append((self._began, time.perf_counter() - self._began, info["generation"]))

    def __enter__(self) -> Collections:
        gc.callbacks.append(self._watch)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._watch)

    def full(self) -> list[float]:
        return [seconds for _, seconds, generation in self.made if generation == 2]


async def typing_in_fleet(rows: int, typed: str, rounds: int, freeze: bool) -> dict[str, Any]:
    """``typed`` into the ``/`` filter of a ``rows``-terminal fleet, key by key and erased again,
    ``rounds`` times, the app started as ``workbench tui`` starts it (``freeze``: start-up frozen
    out of the garbage collector once the rows are in) or not; the event loop's gaps and the
    garbage collections meanwhile."""
    app = WorkbenchApp(FakeBackend(rows), reason="bench", clock=lambda: NOW, freeze_gc=freeze)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.fleet.table
        while len(table.rows) < rows or (freeze and not app.gc_frozen):
            await pilot.pause(0.01)
        await pilot.press("slash")
        typing = True
        with Collections() as collections:
            watch = asyncio.ensure_future(loop_gaps(app, None, until=lambda: not typing))
            for _ in range(rounds):
                await pilot.press(*typed, *["backspace"] * len(typed))
            typing = False
            gaps = await watch
    return {"gaps": gaps, "full": collections.full(), "all": len(collections.made)}


async def gc_compare(rows: int, typed: str, rounds: int, repeats: int) -> None:
    """:func:`typing_in_fleet` without and with the freeze, alternating ``repeats`` times."""
    found: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for _ in range(repeats):
        for freeze in (False, True):
            found[freeze].append(await typing_in_fleet(rows, typed, rounds, freeze))
    for freeze, label in ((False, "no gc freeze"), (True, "gc freeze   ")):
        gaps = [g for run in found[freeze] for g in run["gaps"]]
        full = [f for run in found[freeze] for f in run["full"]]
        collections = sum(run["all"] for run in found[freeze])
        print(
            f"typing /{typed} {rounds}x into {rows} terminals, x{repeats}, {label}: loop gaps "
            f"{ms(gaps)}; gaps over 100 ms: {sum(g > 0.1 for g in gaps)}; full collections "
            f"{len(full)} (max {max(full, default=0) * 1e3:.0f} ms, total "
            f"{sum(full) * 1e3:.0f} ms) of {collections}"
        )


def ms(xs: list[float]) -> str:
    if not xs:
        return "no samples"
    p90 = statistics.quantiles(xs, n=10)[-1] if len(xs) >= 10 else max(xs)
    return (
        f"median {statistics.median(xs) * 1e3:.1f} ms, p90 {p90 * 1e3:.1f} ms, "
        f"max {max(xs) * 1e3:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--fan-out", type=int, default=100)
    parser.add_argument("--typed", default="ksk-00[12]")
    parser.add_argument("--paints", type=int, default=5, help="Start-ups of each app.")
    parser.add_argument("--sessions", type=int, default=3, help="Typing sessions of each app.")
    parser.add_argument(
        "--only",
        action="append",
        choices=["paint", "filter", "memory", "fan-out", "gc"],
        help="Measure only this (repeatable); default all but gc.",
    )
    parser.add_argument("--gc-repeats", type=int, default=3, help="Runs of each for --only gc.")
    parser.add_argument("--gc-rounds", type=int, default=6, help="Filters typed a run (--only gc).")
    args = parser.parse_args()
    print(f"tui bench: python {sys.version.split()[0]}, {os.cpu_count()} cores")

    parts = set(args.only or ["paint", "filter", "memory", "fan-out"])
    if "gc" in parts:
        asyncio.run(gc_compare(args.rows, args.typed, args.gc_rounds, args.gc_repeats))
    if "paint" in parts:
        paints(args.paints)
    if "filter" in parts:
        typed, base = filter_latency(args.rows, args.typed, args.sessions)
        work = asyncio.run(filter_work(args.rows, args.typed))
        print(
            f"filter on {args.rows} terminals, keystroke to painted in a pty, "
            f"{len(typed)} keys: {ms(typed)} (bare Input, same way: {ms(base)}); "
            f"apply_filter itself: {ms(work)}"
        )
    if "memory" in parts:
        empty = asyncio.run(resident(0))
        full = asyncio.run(resident(args.rows))
        print(
            f"memory: {full / 2**20:.0f} MiB resident with {args.rows} terminals, "
            f"{empty / 2**20:.0f} MiB with none in the same process "
            f"({(full - empty) / max(args.rows, 1) / 1024:.1f} KiB a terminal)"
        )
    if "fan-out" in parts:
        idle, busy, took = asyncio.run(fan_out(args.fan_out))
        print(
            f"fan-out over {args.fan_out} terminals x 11 results in {took:.1f} s: loop gaps "
            f"{ms(busy)} (idle app: {ms(idle)}); gaps over 100 ms: {sum(g > 0.1 for g in busy)}"
        )


if __name__ == "__main__":
    main()
