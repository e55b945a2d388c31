"""A SimPy process's wait taken in place, in virtual time: when what the wait's timeout would
be next in SimPy's queue, resuming the process is all that processing it does, so the clock can
move on without the event; events due first that only run plain callbacks (a device's timed
stage: no process resumed, the run not stopped) are processed right there, in queue order.

A served customer waits about twenty times (think times, a card taken, the host's poll period)
and most of those waits are the next thing due, or come after a bill validator's note stage.
What is recorded is the same as with every wait an event (``tests/devices/test_usage_waits.py``
pins a fortnight of a kiosk both ways): the same events run at the same simulated times in the
same order; only the events not made are missing from SimPy's count.

This works on SimPy's queue, clock and event counter (``_queue``, ``_now``, ``_eid``, as
``Environment.schedule`` and ``step`` do), pinned by ``simpy>=4.1,<5``. Never use it in live
time, whose stepper paces each event to the wall clock and steps to a target without an
``until`` event.
"""

from __future__ import annotations

from heapq import heappop
from types import FunctionType

import simpy


def _plain(event: simpy.Event) -> bool:
    """An event whose processing only calls plain functions (no process resumed: those are bound
    methods, as is the ``until`` of a run, which stops it) and that succeeded."""
    callbacks = event.callbacks
    if not event._ok or callbacks is None:
        return False
    for callback in callbacks:  # noqa: SIM110 (all() of a generator: two frames every stage)
        if type(callback) is not FunctionType:
            return False
    return True


def wait_in_place(env: simpy.Environment, delay: float) -> simpy.Event | None:
    """Let ``delay`` simulated seconds pass for the running process: None when they passed in
    place ('now' moved on, after any plain events due first were processed); else the event to
    yield, the wait's timeout, because something due first resumes a process or stops the run.

    When something is due before the end, the timeout is made as ``env.timeout(delay)`` makes
    it, and it stays in the queue while the plain events due first run: one of them may look at
    what else is due at its instant (a note path takes its second step as an event only when
    something is, so that a poll at that instant comes in between), and it must see the wait
    there, as it would with every wait an event. Reaching the timeout at the head of the queue,
    the wait takes it out unprocessed: processing it would only have resumed this process."""
    at = env._now + delay
    queue = env._queue
    if not queue or queue[0][0] > at:  # the usual case: nothing due before or at the end
        env._now = at
        return None
    timeout = env.timeout(delay)
    while True:
        event = queue[0][3]
        if event is timeout:
            heappop(queue)
            env._now = at  # what step() does with it; its callbacks are none yet
            return None
        if not _plain(event):
            return timeout
        env.step()
