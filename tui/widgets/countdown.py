"""The window countdown, tsh-style: ``valid until 14:32 [47m left]``; warning colours in the last
ten minutes, and a message when the window closes so screens can disable their actions."""

from __future__ import annotations

import time
from typing import ClassVar

from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from remote.window_text import window_left

WARN_S = 600
"""The last ten minutes of a window are shown in warning colours."""


class Countdown(Static):
    """Time left in the window held (``until`` is its ``valid_before``, None for no window)."""

    DEFAULT_CSS = """
    Countdown { width: auto; padding: 0 1; background: $success 30%; }
    Countdown.-warning { background: $warning; color: $text; text-style: bold; }
    Countdown.-closed { background: $error; color: $text; text-style: bold; }
    Countdown.-none { background: $panel; }
    """

    until: reactive[int | None] = reactive(None)
    now_fn: ClassVar = staticmethod(time.time)
    """Where the clock is read (tests and snapshots pin it)."""

    class Closed(Message):
        """The window held has just closed."""

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self._tick()

    def watch_until(self) -> None:
        self._was_open = False
        self._tick()

    def _show(self, text: str) -> None:
        """A new text; a layout only when its width changes (once a second otherwise)."""
        old = str(self.content)
        if text != old:
            self.update(text, layout=len(text) != len(old))

    def _tick(self) -> None:
        now = type(self).now_fn()
        until = self.until
        if until is None:
            self.set_classes("-none")
            self._show("no window")
            return
        left = until - now
        self.set_classes("-closed" if left <= 0 else ("-warning" if left < WARN_S else ""))
        self._show(f"window {window_left(until, now)}")
        if left > 0:
            self._was_open = True
        elif getattr(self, "_was_open", False):
            self._was_open = False
            self.post_message(self.Closed())
