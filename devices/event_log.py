"""A device's event log: every event recorded as ``(time, kind, detail)`` and written out as
``(time, "kind k=v ...")`` only when the log is read, a DEBUG line for each while the
``devices.base`` logger wants them, and the event passed to a sink (the terminal's) when one
listens. :class:`EventLog` is the part of :class:`devices.base.Device` that keeps it.

Two ways in: :meth:`EventLog.record` (a name and keyword details, for any event) and
:meth:`EventLog.record_values` (a :class:`Kind` and a tuple of values, for an event recorded
at every customer), which record the same lines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import simpy

log = logging.getLogger("devices.base")
"""The DEBUG lines' logger, named as it was when the log lived in :mod:`devices.base`."""
_ENABLED: dict[int, bool] = log._cache  # type: ignore[attr-defined]
"""The device log's logger's answers to ``isEnabledFor(level)``: logging's own cache, which
``Logger.isEnabledFor`` reads before anything but ``disabled`` and fills on a miss, and which
every level change (``setLevel`` on any logger, ``logging.disable``) empties in place
(``Manager._clear_cache``): an answer read here is the one ``isEnabledFor`` would give."""

EventSink = Callable[[str, float, str, dict[str, Any]], None]
"""Receives ``(device, sim_time, kind, detail)`` for every recorded device event."""

_CHUNK = 4096
"""Events written out at a time when a log is read."""
_FIELDS = 3
"""Items an unread event takes in :attr:`EventLog._unread`: its time, kind and detail."""


def _text(kind: str, detail: dict[str, Any]) -> str:
    """A recorded event as its log line reads: ``kind k=v ...``."""
    text = kind
    for k, v in detail.items():  # one or two fields mostly: cheaper than a join
        text += f" {k}={v}"
    return text


class Kind:
    """A kind of event recorded with :meth:`EventLog.record_values`: its name and the names of
    its details, in order (``Kind("touch", "x", "y")`` with ``(1, 2)`` records what
    ``record("touch", x=1, y=2)`` records)."""

    __slots__ = ("keys", "name")

    def __init__(self, name: str, *keys: str) -> None:
        self.name = name
        self.keys = keys

    def detail(self, values: tuple[Any, ...]) -> dict[str, Any]:
        """The details as :meth:`EventLog.record` has them (for the sink)."""
        return dict(zip(self.keys, values, strict=True))

    def text(self, values: tuple[Any, ...]) -> str:
        """The log line, as :func:`_text` writes it for :meth:`detail`."""
        text = self.name
        for k, v in zip(self.keys, values, strict=True):
            text += f" {k}={v}"
        return text


def _line(kind: str | Kind, detail: dict[str, Any] | tuple[Any, ...]) -> str:
    """An unread event's log line: a name and a dict (:meth:`EventLog.record`) or a
    :class:`Kind` and a tuple (:meth:`EventLog.record_values`)."""
    if isinstance(kind, Kind):
        assert isinstance(detail, tuple)
        return kind.text(detail)
    assert isinstance(detail, dict)
    return _text(kind, detail)


class EventLog:
    """The event log of a device (mixed into :class:`devices.base.Device`, which sets these
    attributes up)."""

    env: simpy.Environment
    name: str
    sink: EventSink | None
    log_limit: int | None
    """Keep about this many recent entries (None: all, for exact logs in virtual time). A
    long-running live kiosk sets it; the records store keeps the full history."""
    _log: list[tuple[float, str]]
    """The events written out so far."""
    _unread: list[Any]
    """Events recorded since the log was last read, formatted when it is (:attr:`log`): flat,
    ``time, kind, detail`` after one another (a name and a dict from :meth:`record`, a
    :class:`Kind` and a tuple from :meth:`record_values`). A tuple per event would be a
    container the garbage collector tracks (a detail dict keeps it tracked) and walks again in
    every full collection until the log is read; a kiosk-year records hundreds of thousands."""

    def _start_log(self) -> None:
        self._log = []
        self._unread = []
        self.log_limit = None

    def record(self, kind: str, **detail: Any) -> None:
        """Append ``(now, "kind k=v ...")`` to the log and pass the event to the sink.

        The text is made when the log is read (:attr:`log`), not here: a kiosk-year records
        hundreds of thousands of events that nobody reads one by one, so ``detail`` must not be
        changed after the call (pass values, or a fresh list)."""
        # Called about 15 times a customer by every device, so it makes no call it can avoid:
        # SimPy's clock read as its ``now`` property reads it (simpy>=4.1,<5 pinned, as
        # workbench/waits.py does), the event added with ``+=`` (no method call), and the DEBUG
        # test answered from logging's own cache as ``Logger.isEnabledFor`` answers it.
        now = self.env._now
        unread = self._unread
        unread += (now, kind, detail)
        limit = self.log_limit
        if limit is not None and len(unread) // _FIELDS + len(self._log) > 2 * limit:
            self._trim(limit)
        try:
            debug = _ENABLED[logging.DEBUG] and not log.disabled
        except KeyError:  # not asked since the levels last changed: logging works it out
            debug = log.isEnabledFor(logging.DEBUG)
        if debug:
            log.debug("%s %s at %.3f", self.name, _text(kind, detail), now)
        if self.sink is not None:
            self.sink(self.name, now, kind, detail)

    def record_values(self, kind: Kind, values: tuple[Any, ...]) -> None:
        """:meth:`record` of ``kind.name`` with ``kind.keys`` given ``values``: the same log
        line, DEBUG line and sink call, for events recorded at every customer (a touch, a note's
        stages, a card's and a receipt's). No dict is made unless a sink or the DEBUG log takes
        one, and the event waits in the log as ``values`` (none more when the caller keeps that
        tuple for the next time). Its twin test
        in tests/devices/test_device_log.py records both ways and holds them the same."""
        now = self.env._now
        unread = self._unread
        unread += (now, kind, values)
        limit = self.log_limit
        if limit is not None and len(unread) // _FIELDS + len(self._log) > 2 * limit:
            self._trim(limit)
        try:
            debug = _ENABLED[logging.DEBUG] and not log.disabled
        except KeyError:
            debug = log.isEnabledFor(logging.DEBUG)
        if debug:
            log.debug("%s %s at %.3f", self.name, kind.text(values), now)
        if self.sink is not None:
            self.sink(self.name, now, kind.name, kind.detail(values))

    def _trim(self, keep: int) -> None:
        """Keep the ``keep`` most recent events (trimmed in halves: amortised O(1) a record;
        the events dropped are never formatted)."""
        unread, formatted = self._unread, self._log
        events = len(unread) // _FIELDS
        if events >= keep:
            del unread[: (events - keep) * _FIELDS]
            formatted.clear()
        else:
            del formatted[: len(formatted) - (keep - events)]

    @property
    def log(self) -> list[tuple[float, str]]:
        """The recorded events as ``(time, "kind k=v ...")`` pairs, oldest first (the recent
        :attr:`log_limit` or so when a limit is set)."""
        unread, formatted = self._unread, self._log
        size = _CHUNK * _FIELDS
        while unread:  # in chunks, each dropped once written: a year's events are not held twice
            chunk = unread[:size]
            del unread[:size]
            events = zip(chunk[0::_FIELDS], chunk[1::_FIELDS], chunk[2::_FIELDS], strict=True)
            formatted.extend([(now, _line(kind, detail)) for now, kind, detail in events])
        return formatted
