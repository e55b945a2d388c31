"""How a remote window's end reads to a person, tsh-style: ``valid until 14:32 [47m left]``
(local time). No SSH here: the TUI draws this on its first frame."""

from __future__ import annotations

import time


def window_left(valid_before: float, now: float | None = None) -> str:
    """A tsh-style view of a window's end: ``valid until 14:32 [47m left]`` (local time), or
    ``closed at 14:32 [5m ago]``."""
    now = time.time() if now is None else now
    left = valid_before - now
    if left <= 0:
        return f"closed at {clock(valid_before)} [{_span(-left)} ago]"
    return f"valid until {clock(valid_before)} [{_span(left)} left]"


def _span(seconds: float) -> str:
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m"
    return f"{s}s"


def clock(t: float) -> str:
    """``14:32``: a moment as the local wall clock shows it."""
    return time.strftime("%H:%M", time.localtime(t))
