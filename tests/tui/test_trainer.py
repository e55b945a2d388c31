"""The trainer's flows against the fake backend, key by key through ``App.run_test()``: start a
library scenario on a kiosk (the trainer sees what it injects), watch its steps, stop it; score
the run now and see the card; start a class and score a trainee; watch a trainee of a running
class and stop the class."""

from __future__ import annotations

import pytest
from fake_backend import NOW, FakeBackend
from textual.widgets import DataTable, Input, Label
from waits import filter_fleet, jump, on_top, until

from tui.app import WorkbenchApp
from tui.backend import PlayView
from tui.screens.class_form import ClassFormScreen, parse_class
from tui.screens.classroom import ClassScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.fleet import FleetScreen
from tui.screens.library import LibraryScreen
from tui.screens.scorecard import ScorecardScreen
from tui.screens.trainer import TrainerScreen
from tui.screens.window import WindowScreen
from workbench.errors import RemoteError

pytestmark = pytest.mark.timeout(45)
SIZE = (130, 40)


def text(screen, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(screen.query_one(selector, Label).render())


def rows(screen, selector: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    table = screen.query_one(selector, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def trainer_on(pilot, app: WorkbenchApp, terminal: str) -> TrainerScreen:  # type: ignore[no-untyped-def]
    await until(pilot, lambda: len(app.fleet.table.rows) == 12)
    await filter_fleet(pilot, terminal[-4:])
    await pilot.press("t")
    await until(pilot, lambda: on_top(app, TrainerScreen))
    screen = app.screen
    assert isinstance(screen, TrainerScreen) and screen.terminal == terminal
    return screen


async def test_start_watch_and_stop_a_library_scenario() -> None:
    backend = FakeBackend(window_left_s=None)  # a trainer: no window
    app = WorkbenchApp(backend, reason="TRAIN-1", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await trainer_on(pilot, app, "KSK-0003")  # a bill_payment kiosk
        await until(pilot, lambda: "no scenario" in text(screen, "#scenario-head"))
        await pilot.press("n")
        await until(pilot, lambda: on_top(app, LibraryScreen))
        library = app.screen
        assert isinstance(library, LibraryScreen)
        await until(pilot, lambda: len(rows(library, "#library-table")) == 3)
        detail = text(library, "#library-detail")  # the trainer sees what it injects
        assert "p3-paper-out (P3): The receipt roll runs out mid-morning." in detail
        assert "+30:00 inject printer.paper_out (the roll ends)" in detail

        await pilot.press("down", "down")  # a ticket-kiosk scenario: not for this kiosk
        await until(pilot, lambda: "runs on a ticket kiosk" in text(library, "#library-detail"))
        await pilot.press("enter")
        assert app.screen is library and backend.plays == {}

        await pilot.press("up", "up")  # Enter is a priority key: it goes before them otherwise
        await until(pilot, lambda: "p3-paper-out (P3)" in text(library, "#library-detail"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TrainerScreen))
        await until(pilot, lambda: "running" in text(screen, "#scenario-head"))
        head = text(screen, "#scenario-head")
        assert "p3-paper-out" in head and "31m00s simulated / 31s wall at 60x" in head
        assert "now Mon 09:26:00 · 1/2 steps done" in head
        assert rows(screen, "#scenario-steps") == [
            ["+30:00", "inject printer.paper_out (the roll ends)", "[green]done[/]"],
            ["+40:00", "ticket to the trainee", "[dim]to come[/]"],
        ]
        await until(pilot, lambda: "1 active" in text(screen, "#trainer-state"))

        await pilot.press("x")
        await until(pilot, lambda: on_top(app, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: "stopped" in text(screen, "#scenario-head"))
        assert text(screen, "#scenario-last") == "Mon 09:26:10  stopped by the trainer"
        assert rows(screen, "#scenario-steps")[1] == [
            "+40:00",
            "ticket to the trainee",
            "[dim]not run[/]",
        ]
        await pilot.press("x")  # nothing runs now: no question asked
        assert app.screen is screen


async def test_typing_a_name_in_the_library_moves_to_it() -> None:
    # README: "t, n, p3-paper-out, Enter". The picker had no find: the typed name did nothing
    # and Enter started the first row (busy-day-mtbf in the real library); a 'q' quit the TUI
    backend = FakeBackend(window_left_s=None)  # a trainer: no window
    app = WorkbenchApp(backend, reason="TRAIN-1", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await trainer_on(pilot, app, "KSK-0003")
        await pilot.press("n")
        await until(pilot, lambda: on_top(app, LibraryScreen))
        library = app.screen
        assert isinstance(library, LibraryScreen)
        await until(pilot, lambda: len(rows(library, "#library-table")) == 3)
        table = library.query_one("#library-table", DataTable)
        title = lambda: text(library, "#library-title")  # noqa: E731
        await pilot.press(*"disp")
        await until(pilot, lambda: title().endswith("find: disp"))
        assert table.cursor_row == 1
        assert title() == "Start which scenario on KSK-0003?   find: disp"
        assert "display-brightness-low (P2)" in text(library, "#library-detail")
        await pilot.press("q")  # no name goes on with it: said, and the app does not quit
        await until(pilot, lambda: title().endswith("find: dispq (no match)"))
        assert app.is_running and app.screen is library
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace")
        await pilot.press(*"box")  # no name starts with it: the first that contains it
        await until(pilot, lambda: title().endswith("find: box"))
        assert table.cursor_row == 2
        await pilot.press("backspace", "backspace", "backspace", *"p3-paper-out")
        await until(pilot, lambda: title().endswith("find: p3-paper-out"))
        await pilot.press("enter")  # a priority key: it would go before the name otherwise
        await until(pilot, lambda: isinstance(app.screen, TrainerScreen))
        await until(pilot, lambda: "running" in text(screen, "#scenario-head"))
        assert list(backend.plays) == ["KSK-0003"]
        assert backend.plays["KSK-0003"].scenario == "p3-paper-out"


async def test_score_now_shows_the_card_and_lists_it() -> None:
    backend = FakeBackend(window_left_s=None)  # a trainer: no window
    app = WorkbenchApp(backend, reason="TRAIN-1", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await trainer_on(pilot, app, "KSK-0003")
        await pilot.press("g")  # no scenario has run: an error, no card
        said = lambda: [str(n.message) for n in app._notifications]  # noqa: E731
        await until(pilot, lambda: any("no scenario has run on KSK-0003" in m for m in said()))
        assert not isinstance(app.screen, ScorecardScreen) and backend.scored == []
        await until(pilot, lambda: len(rows(screen, "#trainer-scores")) == 1)

        await backend.start_scenario("KSK-0003", "p3-paper-out")
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, ScorecardScreen))
        card = app.screen
        await until(pilot, lambda: len(rows(card, "#scorecard-items")) == 4)  # filled on mount
        assert text(card, "#scorecard-total") == (
            "p3-paper-out on KSK-0003 (trainee2@class): 50/100"
        )
        assert [r[:2] for r in rows(card, "#scorecard-items")] == [
            ["diagnosed", "20/20"],
            ["identified", "30/30"],
            ["resolved", "0/30"],
            ["restored", "0/20"],
        ]
        assert "diag run inspection (exit 1)" in text(card, "#scorecard-actions")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        await until(pilot, lambda: len(rows(screen, "#trainer-scores")) == 2)
        assert rows(screen, "#trainer-scores")[0][:4] == [
            "p3-paper-out",
            "trainee2@class",
            "KSK-0003",
            "50/100",
        ]


async def test_start_a_class_and_score_a_trainee() -> None:
    backend = FakeBackend(window_left_s=None)  # a trainer: no window
    app = WorkbenchApp(backend, reason="TRAIN-2", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await trainer_on(pilot, app, "KSK-0003")
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ClassScreen))
        room = app.screen
        await until(pilot, lambda: "no class here" in text(room, "#class-state"))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, LibraryScreen))
        await until(pilot, lambda: len(rows(app.screen, "#library-table")) == 3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ClassFormScreen))
        form = app.screen
        trainees = form.query_one("#class-trainees", Input)
        await until(pilot, lambda: trainees.has_focus)
        # a typed character lands in the box's own turn, Backspace and Enter (bindings) once the
        # key has gone up to the app: each waits for the one before
        await pilot.press("backspace")
        await until(pilot, lambda: trainees.value == "")
        await pilot.press("0", "enter")
        await until(pilot, lambda: text(form, "#class-error") == "trainees(=0) must be 1 to 500")
        await pilot.press("backspace")
        await until(pilot, lambda: trainees.value == "")
        await pilot.press("2", "enter")
        await until(pilot, lambda: app.screen is room and len(rows(room, "#class-table")) == 2)
        assert backend.class_args == ("p3-paper-out", 2, 60.0, 1.0)
        assert "class on p3-paper-out · 2 trainee(s) at 60x" in text(room, "#class-state")
        assert rows(room, "#class-table")[1] == [
            "t02",
            "KSK-T02",
            "[green]running[/]",
            "1/2",
            "1",
            "09:32:00 diag run quick",
        ]

        await pilot.press("down", "g")
        await until(pilot, lambda: isinstance(app.screen, ScorecardScreen))
        assert "on KSK-T02" in text(app.screen, "#scorecard-total")
        assert backend.scored == ["KSK-T02"]


async def test_watch_a_trainee_of_a_running_class_then_stop_the_class() -> None:
    backend = FakeBackend(window_left_s=None)  # a trainer: no window
    await backend.start_class("p3-paper-out", 2, 60.0, 1.0)
    app = WorkbenchApp(backend, reason="TRAIN-2", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await jump(pilot, "class")  # : jumps to the class view
        await until(pilot, lambda: isinstance(app.screen, ClassScreen))
        room = app.screen
        await until(pilot, lambda: len(rows(room, "#class-table")) == 2)
        table = room.query_one("#class-table", DataTable)
        await pilot.press("down")  # Enter is a priority key: it goes before it otherwise
        await until(pilot, lambda: table.cursor_row == 1)
        await pilot.press("enter")  # watch that trainee on the trainer screen
        await until(pilot, lambda: isinstance(app.screen, TrainerScreen))
        assert app.screen.terminal == "KSK-T02"
        await until(pilot, lambda: "running" in text(app.screen, "#scenario-head"))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is room)

        await pilot.press("x")
        await until(pilot, lambda: on_top(app, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: "stopped" in text(room, "#class-state"))
        assert [r[2] for r in rows(room, "#class-table")] == ["[red]down[/]"] * 2


def test_class_form_names_the_wrong_field() -> None:
    assert parse_class({"trainees": "12", "speed": "60", "hours": "1.5"}) == (12, 60.0, 1.5)
    with pytest.raises(ValueError, match=r"trainees\(='three'\) must be a whole number"):
        parse_class({"trainees": "three", "speed": "60", "hours": "1"})
    with pytest.raises(ValueError, match=r"speed\(=0\) must be > 0"):
        parse_class({"trainees": "1", "speed": "0", "hours": "1"})


async def test_a_session_with_a_trainees_window_is_offered_no_trainer_screen() -> None:
    """Seen in tmux: a trainee of a class who started 'workbench tui' with their own key and
    certificate (diag, remedy) pressed t on the fleet and saw the trainer's screen: the
    scenario's steps (inject system_software.service_crashed), the faults injected, the inject
    and clear keys. A window without the trainer group is now offered neither screen."""
    backend = FakeBackend()  # alice's window: diag, remedy
    app = WorkbenchApp(backend, reason="T01", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await until(pilot, lambda: on_top(app, FleetScreen, "FleetTable"))
        assert "t" not in app.screen.active_bindings  # not in the footer
        assert "w" in app.screen.active_bindings
        await pilot.press("t", "w")  # t does nothing; w, the window, shows the key was read
        await until(pilot, lambda: on_top(app, WindowScreen))
        assert not any(isinstance(s, (TrainerScreen, ClassScreen)) for s in app.screen_stack)

        said = lambda: [str(n.message) for n in app._notifications]  # noqa: E731
        for view in ("trainer", "class"):
            await jump(pilot, view)
            await until(pilot, lambda: any("not for this session" in m for m in said()))
            assert said()[-1] == (
                "The trainer's screens are not for this session: its window allows diag, "
                "remedy, not trainer (a trainer runs 'workbench tui' without --cert, or with "
                "a window that allows trainer)"
            )
            app.clear_notifications()
        assert not any(isinstance(s, (TrainerScreen, ClassScreen)) for s in app.screen_stack)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Window" in titles and "Trainer" not in titles and "Start a class" not in titles


class GoneBackend(FakeBackend):
    """KSK-0003 stops (its class was stopped) while the trainer watches it."""

    gone = False

    async def faults(self, terminal: str) -> list[dict[str, object]]:
        if self.gone:
            raise RemoteError(f"{terminal} is not running (no kiosk answers for it under STATE)")
        return await super().faults(terminal)

    async def scenario_status(self, terminal: str) -> PlayView:
        if self.gone:
            return PlayView(terminal, "down", error=f"{terminal} is not running (...)")
        return await super().scenario_status(terminal)


async def test_a_kiosk_that_stops_while_watched_says_so_above_its_faults() -> None:
    """Seen in tmux: the class stopped with KSK-T03 on the trainer screen; the panel said the
    scenario was unavailable, but the line above still said 'KSK-T03: 0 active fault(s)' over
    the old fault list."""
    backend = GoneBackend(window_left_s=None)
    app = WorkbenchApp(backend, reason="TRAIN-1", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await trainer_on(pilot, app, "KSK-0003")
        await until(pilot, lambda: "0 active fault(s)" in text(screen, "#trainer-state"))
        backend.gone = True
        await until(pilot, lambda: "not running" in text(screen, "#scenario-head"))
        await until(pilot, lambda: "not running" in text(screen, "#trainer-state"))
        assert rows(screen, "#trainer-faults") == []


async def test_with_no_terminal_the_trainer_screen_says_how_to_start_a_class() -> None:
    """Seen in tmux: a trainer's first 'workbench tui' on an empty state dir; the fleet was
    empty, t said 'no terminal: pick one in the fleet' with nothing to pick."""
    app = WorkbenchApp(FakeBackend(0, window_left_s=None), reason="TRAIN-1", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: on_top(app, FleetScreen))
        await pilot.press("t")
        await until(pilot, lambda: on_top(app, TrainerScreen))
        await until(pilot, lambda: "no terminal" in text(app.screen, "#trainer-state"))
        assert text(app.screen, "#trainer-state") == (
            "no terminal: pick one in the fleet, or l for the class view (n there starts a "
            "class: a kiosk per trainee)"
        )
