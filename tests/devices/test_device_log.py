"""A device's event log: recorded as ``(time, kind, detail)`` and written out as
``(time, "kind k=v ...")`` when read, so a reader sees the same lines whenever it reads, and a
live device's limit keeps the recent ones whether they were read yet or not."""

from __future__ import annotations

import gc

import simpy

from devices.catalog import default_catalog
from devices.printer import Printer, PrinterSettings


def printer(env: simpy.Environment) -> Printer:
    return Printer(env, PrinterSettings(), default_catalog().for_device("printer"))


def events(device: Printer, env: simpy.Environment, n: int, read_every: int) -> None:
    for i in range(n):
        env.run(until=env.now + 1.5)
        device.record("probe", i=i, when=env.now, words=["a", i])
        if read_every and i % read_every == 0:
            assert device.log[-1] == (env.now, f"probe i={i} when={env.now} words=['a', {i}]")


def test_the_log_reads_the_same_whenever_it_is_read() -> None:
    env_a, env_b = simpy.Environment(), simpy.Environment()
    read_often, read_at_end = printer(env_a), printer(env_b)
    events(read_often, env_a, 50, read_every=3)
    events(read_at_end, env_b, 50, read_every=0)
    assert read_often.log == read_at_end.log
    assert read_at_end.log[0] == (1.5, "probe i=0 when=1.5 words=['a', 0]")
    assert len(read_at_end.log) == 50


def test_a_limited_log_keeps_the_most_recent_read_or_not() -> None:
    for read_every in (0, 1, 4, 7):
        env = simpy.Environment()
        device = printer(env)
        device.log_limit = 10
        events(device, env, 95, read_every)
        log = device.log
        assert 10 <= len(log) <= 20
        assert [text.split()[1] for _, text in log] == [f"i={i}" for i in range(95 - len(log), 95)]


def test_a_long_unread_log_is_written_out_whole_and_in_order() -> None:
    # more events than are written out at a time when the log is read
    env = simpy.Environment()
    device = printer(env)
    for i in range(10_000):
        device.record("probe", i=i)
        if i == 2_500:
            assert len(device.log) == 2_501
    assert device.log == [(0, f"probe i={i}") for i in range(10_000)]


def test_recorded_events_leave_nothing_for_the_garbage_collector_to_walk() -> None:
    # A kiosk-year records hundreds of thousands of events that stay unread: a container per
    # event (a tuple holding the detail dict stays tracked) made every full collection walk them
    # all again. Plain values go in; only a detail holding a container is tracked.
    env = simpy.Environment()
    device = printer(env)
    device.record("probe", i=-1)
    gc.collect()
    before = len(gc.get_objects())
    for i in range(10_000):
        device.record("probe", i=i, text="receipt")
    gc.collect()
    assert len(gc.get_objects()) - before < 100
    assert device.log[-1] == (0, "probe i=9999 text=receipt")
