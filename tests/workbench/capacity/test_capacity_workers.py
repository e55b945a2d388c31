"""Where the model's work runs: an interrupted map stops its workers at once instead of running
the calls it had queued."""

from __future__ import annotations

import os
import time

import pytest

from workbench.capacity.workers import LocalProcesses, executor


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_an_interrupted_map_stops_its_workers_at_once() -> None:
    # a quick call, then nine of 3 s on 2 processes (13.5 s in all); Ctrl-C when the quick one
    # is back used to wait for all of them (the pool's exit ran its queue to the end), and with
    # the queue dropped, a worker still ran its call and the next one already sent to it
    # timed from the Ctrl-C: the pool's start before it (two processes importing) is no part of
    # it, and a loaded machine stretches it past 2 s
    pids: list[int] = []
    pressed: list[float] = []
    with pytest.raises(KeyboardInterrupt), executor(workers=2) as pool:
        assert isinstance(pool, LocalProcesses)
        local = pool

        def interrupt(done: int, total: int) -> None:
            pids.extend(local.pool._processes or {})
            pressed.append(time.monotonic())
            raise KeyboardInterrupt

        pool.map(time.sleep, [(0.1,)] + [(3.0,)] * 9, interrupt)
    assert time.monotonic() - pressed[0] < 2.0  # not the 3 s of the calls already running
    assert len(pids) == 2 and not any(_alive(pid) for pid in pids)  # gone, and reaped
