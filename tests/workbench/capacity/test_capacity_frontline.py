"""The front line worked out as FIFO queues gives the times a SimPy model of the same queues gives."""

from __future__ import annotations

import math

import numpy as np
import simpy

from workbench.capacity.config import Plan
from workbench.capacity.frontline import front_line
from workbench.capacity.metrics import CLOSED_BY_PHONE, REMOTE, ROUTED
from workbench.capacity.stream import HOTLINE, ONSITE, REMOTE_DESK, Faults


def _faults(n: int, seed: int) -> Faults:
    rng = np.random.default_rng(seed)
    z = np.zeros(n)
    return Faults(
        t0=np.cumsum(rng.exponential(0.15, n)),  # a busy front line: about 7 reports an hour
        group=np.zeros(n, dtype=np.int64),
        mode=np.zeros(n, dtype=np.int64),
        terminal=np.arange(n),
        call=rng.exponential(0.1, n),
        tried=rng.exponential(0.4, n),
        ok=rng.random(n) < 0.6,
        travel=z,
        repair=z,
        lead=z,
        travel2=z,
        route=rng.choice([HOTLINE, REMOTE_DESK, ONSITE], n),
        modes=[],
    )


def _with_simpy(faults: Faults, agents: int, desks: int, window: float) -> list[tuple[float, ...]]:
    """The same front line as SimPy processes with simpy.Resource queues (the reference)."""
    env = simpy.Environment()
    hotline, desk = simpy.Resource(env, agents), simpy.Resource(env, desks)
    inf = math.inf
    out: list[list[float]] = [[inf, inf, inf, inf, 0] for _ in range(len(faults))]

    def fault(i: int) -> simpy.events.ProcessGenerator:
        row, t0, route = out[i], float(faults.t0[i]), int(faults.route[i])
        call, tried, ok = float(faults.call[i]), float(faults.tried[i]), bool(faults.ok[i])
        yield env.timeout(t0)
        with hotline.request() as req:
            yield req
            row[0] = env.now - t0
            yield env.timeout(call + tried if route == HOTLINE else call)
        if route == HOTLINE and ok:
            row[2], row[4] = env.now, CLOSED_BY_PHONE
            return
        if route == REMOTE_DESK:
            row[4] = ROUTED
            left = window - (env.now - t0)
            if left > 0:
                with desk.request() as req:
                    got = yield req | env.timeout(left)
                    if req in got:
                        row[1] = env.now - t0
                        yield env.timeout(tried)
                        if ok:
                            row[2], row[4] = env.now, ROUTED | REMOTE
                            return
        row[3] = env.now

    for i in range(len(faults)):
        env.process(fault(i))
    env.run()
    return [tuple(r) for r in out]


def test_front_line_matches_a_simpy_model_of_the_same_queues(small_plan: Plan) -> None:
    for seed, agents, desks in ((1, 2, 1), (2, 3, 1), (3, 2, 2)):
        faults = _faults(3000, seed)
        plan = small_plan.model_copy(
            update={
                "hotline": small_plan.hotline.model_copy(update={"agents": agents}),
                "remote": small_plan.remote.model_copy(update={"desk_engineers": desks}),
            }
        )
        front = front_line(plan, faults, end=math.inf)
        got = list(
            zip(
                front.contact.tolist(),
                front.session.tolist(),
                front.closed_at.tolist(),
                front.entry.tolist(),
                front.flags.tolist(),
                strict=True,
            )
        )
        want = _with_simpy(faults, agents, desks, plan.remote.window_hours)
        assert np.allclose(np.array(got), np.array(want), rtol=1e-12, atol=1e-9)
        # the desk was busy enough that some requests waited out the window and went on site
        gave_up = (faults.route == REMOTE_DESK) & np.isinf(front.session) & np.isfinite(front.entry)
        # ... and hundreds queued for an agent, were fixed remotely, or closed on the call
        assert np.count_nonzero(gave_up) > 100 and np.count_nonzero(front.contact > 0) > 500
        assert np.count_nonzero(front.flags & REMOTE) > 100
        assert np.count_nonzero(front.flags & CLOSED_BY_PHONE) > 100


def test_nothing_after_the_end_of_the_run_counts(small_plan: Plan) -> None:
    faults = _faults(500, 4)
    end = float(faults.t0[250])
    front = front_line(small_plan, faults, end=end)
    late = faults.t0 >= end
    assert np.isinf(front.contact[late]).all()
    assert np.isinf(front.closed_at[late]).all() and np.isinf(front.entry[late]).all()
    assert not np.isfinite(front.closed_at[front.closed_at >= end]).any()
