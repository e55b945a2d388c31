"""A device's event log: recorded as ``(time, kind, detail)`` and written out as
``(time, "kind k=v ...")`` when read, so a reader sees the same lines whenever it reads, and a
live device's limit keeps the recent ones whether they were read yet or not; an event recorded
with its values (``record_values``) is the one recorded with keywords."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.base import Kind
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


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_the_debug_lines_follow_logging_levels_changed_while_running() -> None:
    # Device.record answers "is DEBUG on?" from logging's own cache: every change of level,
    # on the device log's logger, on a parent, or logging.disable, must show at the next event.
    env = simpy.Environment()
    device = printer(env)
    logger, parent = logging.getLogger("devices.base"), logging.getLogger("devices")
    lines = _Lines()
    saved = logger.level, parent.level, logger.disabled, logger.propagate
    logger.addHandler(lines)
    logger.propagate = False
    try:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("warning", lambda: logger.setLevel(logging.WARNING)),
            ("debug", lambda: logger.setLevel(logging.DEBUG)),
            ("disable", lambda: logging.disable(logging.DEBUG)),
            ("enable", lambda: logging.disable(logging.NOTSET)),
            ("off", lambda: setattr(logger, "disabled", True)),
            ("on", lambda: setattr(logger, "disabled", False)),
            ("unset", lambda: logger.setLevel(logging.NOTSET)),
            ("parent info", lambda: parent.setLevel(logging.INFO)),
            ("parent debug", lambda: parent.setLevel(logging.DEBUG)),
        ]
        for name, change in steps:
            change()
            device.record("probe", step=name.replace(" ", "_"))
            device.record("again", step=name.replace(" ", "_"))
    finally:
        logger.removeHandler(lines)
        logger.setLevel(saved[0])
        parent.setLevel(saved[1])
        logger.disabled, logger.propagate = saved[2], saved[3]
        logging.disable(logging.NOTSET)
    assert lines.lines == [
        f"{device.name} {kind} step={step} at 0.000"
        for step in ("debug", "enable", "on", "parent_debug")
        for kind in ("probe", "again")
    ]


values = st.one_of(st.integers(-5000, 5000), st.floats(allow_nan=False), st.text(max_size=5))
events_drawn = st.lists(
    st.tuples(
        st.sampled_from([("touch", ("x", "y", "raw_x", "raw_y")), ("probe", ("i",)), ("bare", ())]),
        st.lists(values, min_size=4, max_size=4),
        st.sampled_from([0.0, 0.25, 1.5]),  # the time from the event before
        st.booleans(),  # read the log after it
    ),
    max_size=60,
)


@settings(max_examples=100, deadline=None)
@given(events_drawn, st.sampled_from([None, 1, 3, 10]), st.booleans(), st.booleans())
def test_an_event_recorded_with_its_values_is_the_one_recorded_with_keywords(
    story: list[tuple[tuple[str, tuple[str, ...]], list[object], float, bool]],
    limit: int | None,
    debug: bool,
    listened: bool,
) -> None:
    # Device.record_values (a Kind and a tuple, the touch's way) against Device.record (a name
    # and keywords): the same log read at any time, limit or not, the same DEBUG lines and the
    # same sink calls.
    logger = logging.getLogger("devices.base")
    lines = _Lines()
    saved = logger.level, logger.propagate
    logger.addHandler(lines)
    logger.propagate = False
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    seen: dict[str, list[tuple[object, ...]]] = {"keywords": [], "values": []}
    logs: dict[str, list[tuple[float, str]]] = {}
    try:
        for way in ("keywords", "values"):
            env = simpy.Environment()
            device = printer(env)
            device.log_limit = limit
            if listened:
                device.sink = lambda *event, way=way: seen[way].append(event)  # type: ignore[misc]
            for (name, keys), drawn, gap, read in story:
                if gap:
                    env.run(until=env.now + gap)
                shown = tuple(drawn[: len(keys)])
                if way == "keywords":
                    device.record(name, **dict(zip(keys, shown, strict=True)))
                else:
                    device.record_values(Kind(name, *keys), shown)
                if read:
                    seen[way].append(("read", *device.log))
            logs[way] = device.log
    finally:
        logger.removeHandler(lines)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
    assert logs["values"] == logs["keywords"]
    assert seen["values"] == seen["keywords"]
    half = len(lines.lines) // 2
    assert lines.lines[half:] == lines.lines[:half]
    assert len(lines.lines) == (2 * len(story) if debug else 0)
