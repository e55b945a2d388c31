"""The FIFO server pool behind the hotline and the remote desk: order, patience, release."""

from __future__ import annotations

import simpy

from workbench.capacity.servers import Servers


def test_fifo_with_patience_gives_up_and_is_skipped() -> None:
    env = simpy.Environment()
    pool = Servers(env, 1)
    log: list[tuple[float, str, bool]] = []

    def caller(
        name: str, arrive: float, patience: float | None, hold: float
    ) -> simpy.events.ProcessGenerator:
        yield env.timeout(arrive)
        got = yield pool.request(patience)
        log.append((env.now, name, got))
        if got:
            yield env.timeout(hold)
            pool.release()

    env.process(caller("a", 0, None, 5))
    env.process(caller("b", 1, 2, 1))  # gives up at t=3, before a finishes at t=5
    env.process(caller("c", 2, None, 1))
    env.run()
    assert log == [(0, "a", True), (3, "b", False), (5, "c", True)]
    assert pool.free == 1 and not pool.queue
