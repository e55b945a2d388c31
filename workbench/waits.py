"""A SimPy process's wait taken in place, in virtual time: when what the wait's timeout would
be next in SimPy's queue, resuming the process is all that processing it does, so the clock can
move on without the event; events due first that only run plain callbacks (a device's timed
stage: no process resumed, the run not stopped; a :class:`PlainEvent` by its class) are processed
right there, in queue order.

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

from heapq import heappop, heappush
from types import FunctionType

import simpy
from simpy.events import NORMAL, EventPriority, Timeout


class PlainEvent(simpy.Event):
    """An event that never fails and whose processing only calls plain functions (no process
    resumed, no run stopped): a device's timed step that nothing waits on. A subclass keeps to
    that for every instance, so that :func:`wait_in_place` processes one due before a wait's end
    without looking at its callbacks one by one (as it must for any other event)."""


def wait_in_place(env: simpy.Environment, delay: float) -> simpy.Event | None:
    """Let ``delay`` simulated seconds pass for the running process: None when they passed in
    place ('now' moved on, after any plain events due first were processed); else the event to
    yield, the wait's timeout, because something due first resumes a process or stops the run.

    The wait takes its place among the events at its end when it begins, as ``env.timeout(delay)``
    would (the next event id): events scheduled meanwhile for that instant come after it, those
    scheduled before come first. Plain events due strictly before the end are processed right
    there without the timeout in the queue: at an instant before the end, what else is due at
    that instant is the same with or without it (a note path takes its second step as an event
    only when something is, so that a poll at that instant comes in between). An event due at
    the end, ahead of the wait, must see it, as it would with every wait an event: the timeout is
    put in the queue in its place before that event runs, and taken out unprocessed when it reaches
    the head (processing it would only have resumed this process). When a process or a run's
    ``until`` comes first, the timeout is put in its place and returned to be yielded."""
    at = env._now + delay
    queue = env._queue
    if not queue or queue[0][0] > at:  # the usual case: nothing due before or at the end
        env._now = at
        return None
    return wait_behind(env, delay)


def wait_behind(env: simpy.Environment, delay: float) -> simpy.Event | None:
    """:func:`wait_in_place` for a wait that something is due before or at the end of: for a
    caller that took the usual case itself (a customer's hot loops do, to save this call)."""
    at = env._now + delay
    queue = env._queue
    place = (at, NORMAL, next(env._eid))  # the wait's key in SimPy's queue (time, priority, id)
    timeout = None
    while queue and queue[0] < place:  # an event due ahead of the wait
        when, _, _, event = queue[0]
        callbacks = event.callbacks
        # Processed here as env.step() does, without its frames, when it is plain: a cash
        # customer's wait often comes after a note's stage or two, plain by its class.
        if not isinstance(event, PlainEvent) and not _plain(event):
            return timeout if timeout is not None else _timeout(env, delay, place)
        if when == at and timeout is None:
            timeout = _timeout(env, delay, place)
        heappop(queue)
        env._now = when
        event.callbacks = None  # type: ignore[assignment]  # as env.step() does
        for callback in callbacks:
            callback(event)
    if timeout is not None:
        heappop(queue)  # the wait's timeout, now at the head
    env._now = at
    return None


def _plain(event: simpy.Event) -> bool:
    """Whether processing ``event`` only calls plain functions: it succeeded, and its callbacks
    are plain functions (a process resumed is a bound method, as is the until of a run, which
    stops it)."""
    callbacks = event.callbacks
    if not event._ok or callbacks is None:
        return False
    return all(type(callback) is FunctionType for callback in callbacks)


def _timeout(
    env: simpy.Environment, delay: float, place: tuple[float, EventPriority, int]
) -> Timeout:
    """The wait's timeout, in the queue at ``place`` (its time, priority and the id it took when
    the wait began): what ``env.timeout(delay)`` made then, ``Timeout.__init__`` without its
    ``schedule``, which would give it a new id at the clock's 'now'."""
    timeout = Timeout.__new__(Timeout)
    timeout.env = env
    timeout.callbacks = []
    timeout._value = None
    timeout._delay = delay
    timeout._ok = True
    at, priority, eid = place
    heappush(env._queue, (at, priority, eid, timeout))
    return timeout
