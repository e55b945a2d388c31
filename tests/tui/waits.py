"""Waiting, in a TUI test, for what a key press or a backend does to show: ``until(pilot, ...)``.

``Pilot.press`` returns once the process looks idle (its CPU time no longer advancing while it
sleeps a frame) and the messages queued when it looked are handled. On a loaded machine that is
often before the key's effects are done: a screen pushed by a message the key's widget posted,
a focus moved by ``call_later``, a table filled by a worker, a row changed by a message a thread
posted. A test asserts such an effect through :func:`until`, never right after the press.

The wait is bounded in this process's CPU time, not in wall time: what the TUI (and a kiosk or
agent the test runs in this process) has to do is a few CPU-seconds whatever the machine's load,
while its wall time is not (beside two busy loops at load 12, the real-kiosk session took 68 s,
its inspection alone 25 s). A wait in which nothing runs, a hang, is left to the test's timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Label

from tui.screens.fleet import FleetScreen
from tui.screens.jump import JumpScreen

CPU_S = 15.0
"""What one wait may spend of this process's CPU time before it fails."""


class NotListed(LookupError):
    """What a condition raises for something not there yet (a fleet row not loaded yet): the
    condition is not met yet."""


async def until(pilot: Pilot[Any], condition: Callable[[], object], cpu_s: float = CPU_S) -> None:
    """Wait until ``condition()`` is true, for at most ``cpu_s`` of this process's CPU time; the
    failure names what the screen shows. A condition that raises :class:`NotListed`, or asks for
    a widget the screen has not composed yet (``NoMatches``), is not met yet."""
    start = time.process_time()
    while True:
        try:
            if condition():
                return
            why = ""
        except (NotListed, NoMatches) as exc:
            why = f" ({exc})"
        if time.process_time() - start > cpu_s:
            screen = pilot.app.screen
            shown = [str(w.render()) for w in screen.query(Label)]
            raise AssertionError(
                f"not within {cpu_s} CPU-seconds{why}; {type(screen).__name__} shows {shown}"
            )
        await pilot.pause(0.05)


def on_top(app: Any, kind: type[Screen[Any]], focused: str | None = None) -> bool:
    """Whether the screen on top is a ``kind``, composed and through its ``on_mount`` (and the
    widget ``focused`` selects has the focus): what it shows on opening is there, and the next
    key goes to it. A key pressed before that can go to the screen or widget that had it, and do
    something else or nothing."""
    screen = app.screen
    if not isinstance(screen, kind) or not screen.is_mounted:
        return False
    return focused is None or (
        app.focused is not None and app.focused in screen.query(focused).results()
    )


async def type_into(pilot: Pilot[Any], kind: type[Screen[Any]], selector: str, *keys: str) -> None:
    """Press ``keys`` once the widget ``selector`` on a ``kind`` screen has the focus (a screen
    just pushed, an input just focused, gets it a turn or more later)."""
    await until(pilot, lambda: on_top(pilot.app, kind, selector))
    await pilot.press(*keys)


async def filter_fleet(pilot: Pilot[Any], text: str) -> None:
    """``/``, ``text`` and Enter on the fleet: the filter kept, the focus back on the table."""
    await pilot.press("slash")
    await type_into(pilot, FleetScreen, "#fleet-filter", *text)
    fleet = pilot.app.screen
    assert isinstance(fleet, FleetScreen)
    await until(pilot, lambda: fleet.query_one("#fleet-filter", Input).value == text)
    await pilot.press("enter")
    await until(pilot, lambda: on_top(pilot.app, FleetScreen, "FleetTable"))


async def jump(pilot: Pilot[Any], where: str) -> None:
    """``:``, ``where`` and Enter: the jump prompt, typed into once it has the focus."""
    await pilot.press("colon")
    await type_into(pilot, JumpScreen, "Input", *where, "enter")
