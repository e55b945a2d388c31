"""The front line, hotline and remote desk, as two FIFO queues worked out for the whole fleet at once.

Every fault first calls the hotline (``agents`` servers, first come first served); faults the
rate table gives the hotline are talked through on the call, those of the remote desk queue
there for a desk engineer until the remote window closes, and whatever is not fixed goes to
the field. Nothing in these two queues depends on engineers, so they are computed before the
field is simulated: start = max(arrival, the earliest time a server comes free), the recursion
a FIFO multi-server queue follows (Kiefer and Wolfowitz); a desk request whose window closes
before a server is free leaves the queue without taking one. The times are the ones SimPy
would give the same faults; each region's field can then run on its own (:mod:`field`).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from workbench.capacity.config import Plan
from workbench.capacity.metrics import CLOSED_BY_PHONE, REMOTE, ROUTED
from workbench.capacity.stream import HOTLINE, ONSITE, REMOTE_DESK, Faults


@dataclass(frozen=True)
class FrontLine:
    """What the front line did to every fault (hours from its report; inf: not reached).

    ``closed`` faults were fixed on the call or by the desk at ``closed_at`` (absolute hours);
    the others that got through go to the field at ``entry`` (absolute hours; inf: never).
    """

    contact: np.ndarray
    session: np.ndarray
    closed_at: np.ndarray
    entry: np.ndarray
    flags: np.ndarray


def front_line(plan: Plan, faults: Faults, end: float) -> FrontLine:
    """Run every fault through the hotline, then the remote desk, until model hour ``end``."""
    n = len(faults)
    t0 = faults.t0.tolist()
    route = faults.route.tolist()
    ok = faults.ok.tolist()
    call, tried = faults.call.tolist(), faults.tried.tolist()
    contact = [math.inf] * n
    closed_at = [math.inf] * n
    entry = [math.inf] * n
    flags = [0] * n
    desk: list[tuple[float, int]] = []  # (arrival at the desk, fault)
    window = plan.remote.window_hours if plan.remote.enabled else 0.0
    free = [0.0] * plan.hotline.agents  # when each agent is next free (a heap)
    replace = heapq.heapreplace
    for i in range(n):
        a, r = t0[i], route[i]
        start = free[0]
        if start < a:
            start = a
        if start >= end:
            continue  # the agent is still busy when the run ends: nothing after this counts
        contact[i] = start - a
        done = start + (call[i] + tried[i] if r == HOTLINE else call[i])
        replace(free, done)
        if done >= end:
            continue
        if r == HOTLINE:
            if ok[i]:
                closed_at[i] = done
                flags[i] = CLOSED_BY_PHONE
            else:
                entry[i] = done
        elif r == REMOTE_DESK:
            flags[i] = ROUTED
            if window - (done - a) > 0:
                desk.append((done, i))
            else:
                entry[i] = done
        else:
            assert r == ONSITE
            entry[i] = done
    session = [math.inf] * n
    desk.sort()
    servers = [0.0] * plan.remote.desk_engineers
    for arrived, i in desk:
        gives_up = arrived + (window - (arrived - t0[i]))  # as SimPy adds a patience
        start = servers[0]
        if start < arrived:
            start = arrived
        if start < gives_up:
            if start >= end:
                continue
            session[i] = start - t0[i]
            done = start + tried[i]
            replace(servers, done)
            if done >= end:
                continue
            if ok[i]:
                closed_at[i] = done
                flags[i] |= REMOTE
            else:
                entry[i] = done
        elif gives_up < end:
            entry[i] = gives_up
    return FrontLine(
        np.array(contact),
        np.array(session),
        np.array(closed_at),
        np.array(entry),
        np.array(flags, dtype=np.int8),
    )
