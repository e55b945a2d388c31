"""Type to find in the small pickers (a device's suite, a remedy, a stimulus), as in the scenario
library: typing a name moves the highlight to it, the title shows what was typed, Backspace takes
a character back, and a 'q' typed is part of a name, not the app's Quit."""

from __future__ import annotations

import pytest
from fake_backend import NOW, FakeBackend
from textual.widgets import Label, OptionList
from waits import filter_fleet, on_top, type_into, until

from tui.app import WorkbenchApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.pick import PickScreen
from tui.screens.terminal import TerminalScreen
from tui.screens.trainer import TrainerScreen

pytestmark = pytest.mark.timeout(45)
SIZE = (130, 40)


def title(app: WorkbenchApp) -> str:
    return str(app.screen.query_one("#pick-title", Label).render())


def highlighted(app: WorkbenchApp) -> int | None:
    return app.screen.query_one(OptionList).highlighted


async def test_typing_in_the_suite_picker_moves_to_the_suite() -> None:
    backend = FakeBackend()
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await filter_fleet(pilot, "0002")
        await pilot.press("enter")
        await until(pilot, lambda: on_top(app, TerminalScreen))
        await pilot.press("d")  # device:printer, device:display
        await type_into(pilot, PickScreen, "OptionList", *"disp")  # contained, not a start
        await until(pilot, lambda: title(app).endswith("find: disp"))
        assert title(app) == "Run which device's tests?   find: disp"
        assert highlighted(app) == 1
        await pilot.press("q")
        await until(pilot, lambda: title(app).endswith("find: dispq (no match)"))
        assert app.is_running and isinstance(app.screen, PickScreen) and highlighted(app) == 1
        await pilot.press(*["backspace"] * 5, *"device:p")  # ':' is typed, not the app's Jump
        await until(pilot, lambda: title(app).endswith("find: device:p"))
        assert highlighted(app) == 0
        await pilot.press(*["backspace"] * 8)
        await until(pilot, lambda: title(app) == "Run which device's tests?")
        await pilot.press(*"display", "enter")
        await until(pilot, lambda: ("KSK-0002", "device:display") in backend.runs)


async def test_typing_in_the_remedy_picker_does_not_quit() -> None:
    backend = FakeBackend()
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await pilot.press("down", "enter")
        await until(pilot, lambda: on_top(app, TerminalScreen))
        await pilot.press("m")
        await type_into(pilot, PickScreen, "OptionList", *"quit")
        await until(pilot, lambda: title(app).endswith("find: quit (no match)"))
        assert app.is_running and isinstance(app.screen, PickScreen)
        await pilot.press(*["backspace"] * 4, *"printer.re", "enter")
        await until(pilot, lambda: on_top(app, ConfirmScreen))


async def test_typing_in_the_stimulus_picker_moves_to_the_stimulus() -> None:
    backend = FakeBackend(window_left_s=None)  # a trainer: no window
    app = WorkbenchApp(backend, reason="TRAIN-1", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await filter_fleet(pilot, "0003")
        await pilot.press("t")
        await until(pilot, lambda: on_top(app, TrainerScreen))
        await pilot.press("s")
        await type_into(pilot, PickScreen, "OptionList", *"close-d")
        await until(pilot, lambda: title(app).endswith("find: close-d"))
        assert highlighted(app) == 10  # close-door, not close-cover (7) nor the first row
        await pilot.press(*["backspace"] * 7, *"insert-note 2", "enter")
        await until(pilot, lambda: backend.stimuli == [("KSK-0003", "insert-note 20")])
