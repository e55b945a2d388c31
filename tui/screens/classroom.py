"""A class at a glance: one row per trainee with their kiosk, the state of its scenario, the steps
played, and the actions their agent's audit log shows; start a class (``n``: a scenario, then how
many trainees), score a trainee now (``g``), watch one on the trainer screen (Enter), stop it
(``x``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Label

from tui.backend import ClassView
from tui.screens.class_form import ClassFormScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.library import LibraryScreen
from tui.screens.scorecard import Scored
from tui.widgets.footer import Footer
from tui.widgets.scenario_panel import STATE_STYLE
from tui.widgets.session_bar import SessionBar

if TYPE_CHECKING:
    from tui.app import WorkbenchApp

CLASS_EVERY_S = 2.0


class ClassScreen(Screen[None]):
    """The class under the state directory, refreshed every two seconds."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "watch", "Watch", priority=True),
        Binding("g", "score", "Score"),
        Binding("n", "new", "New class"),
        Binding("x", "stop", "Stop class"),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    DEFAULT_CSS = """
    ClassScreen #class-state { width: 100%; }
    ClassScreen #class-table { height: 1fr; }
    """

    class Loaded(Message):
        """The class as it is now (None: no class here), or ``error``."""

        def __init__(self, view: ClassView | None, error: str | None = None) -> None:
            super().__init__()
            self.view, self.error = view, error

    class Started(Message):
        """A class came up (or did not: ``error``) after ``seconds``."""

        def __init__(self, view: ClassView | None, seconds: float, error: str | None) -> None:
            super().__init__()
            self.view, self.seconds, self.error = view, seconds, error

    def __init__(self) -> None:
        super().__init__()
        self.view: ClassView | None = None
        self._drawn = False  # the first load draws even "no class"
        self.busy = ""

    @property
    def wb(self) -> WorkbenchApp:
        return cast("WorkbenchApp", self.app)

    def compose(self) -> ComposeResult:
        yield SessionBar("Class")
        yield Label("looking for a class...", id="class-state", classes="title")
        yield DataTable(id="class-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#class-table", DataTable).add_columns(
            "trainee", "terminal", "scenario", "steps", "actions", "last action"
        )
        self.action_reload()
        self.set_interval(CLASS_EVERY_S, self.action_reload)
        self.query_one("#class-table", DataTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("watch", "score"):
            return self.view is not None and bool(self.view.seats)
        if action == "stop":
            return self.view is not None and self.view.running and not self.busy
        if action == "new":
            return not self.busy and (self.view is None or not self.view.running)
        return True

    # -- loading --------------------------------------------------------------------------------
    @work(exclusive=True, group="class")
    async def action_reload(self) -> None:
        try:
            self.post_message(self.Loaded(await self.wb.backend.class_view()))
        except Exception as exc:
            self.post_message(self.Loaded(None, str(exc)))

    def on_class_screen_loaded(self, message: Loaded) -> None:
        state = self.query_one("#class-state", Label)
        if message.error:
            state.update(f"[red]{message.error}[/]")
            return
        if message.view != self.view or not self._drawn:  # redraw only on a change
            self.show(message.view)

    def show(self, view: ClassView | None) -> None:
        """Draw the class (keeping the cursor's row)."""
        self.view, self._drawn = view, True
        self.refresh_bindings()
        state = self.query_one("#class-state", Label)
        table = self.query_one("#class-table", DataTable)
        row = table.cursor_row
        table.clear()
        if self.busy:
            state.update(f"[yellow]{self.busy}[/]")
        if view is None:
            if not self.busy:
                state.update("no class here: n starts one (a scenario, then how many trainees)")
            return
        started = time.strftime("%H:%M", time.localtime(view.started))
        running = "[green]running[/]" if view.running else "[yellow]stopped[/]"
        if not self.busy:
            state.update(
                f"class on [b]{view.scenario}[/b] · {len(view.seats)} trainee(s) at "
                f"{view.speed:g}x · started {started} · {running}"
            )
        for seat in view.seats:
            style = STATE_STYLE.get(seat.state, "")
            table.add_row(
                seat.trainee,
                seat.terminal,
                f"[{style}]{seat.state}[/]" if style else seat.state,
                seat.steps_done,
                str(seat.actions),
                seat.last_action or "-",
                key=seat.terminal,
            )
        table.move_cursor(row=min(row, max(0, table.row_count - 1)))

    def _selected(self) -> str | None:
        table = self.query_one("#class-table", DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    # -- actions --------------------------------------------------------------------------------
    def action_watch(self) -> None:
        terminal = self._selected()
        if terminal:
            from tui.screens.trainer import TrainerScreen

            self.app.push_screen(TrainerScreen(terminal))

    def action_score(self) -> None:
        terminal = self._selected()
        if terminal:
            self._score(terminal)

    @work(group="score")
    async def _score(self, terminal: str) -> None:
        self.post_message(await Scored.score(self.wb.backend, terminal))

    def on_scored(self, message: Scored) -> None:
        message.show(self)

    def action_new(self) -> None:
        def picked(name: str | None) -> None:
            def answered(answer: tuple[int, float, float] | None) -> None:
                if name and answer:
                    self._start(name, *answer)

            if name:
                self.app.push_screen(ClassFormScreen(name), answered)

        self.app.push_screen(LibraryScreen("Start a class on which scenario?"), picked)

    @work(exclusive=True, group="class-start")
    async def _start(self, scenario: str, trainees: int, speed: float, hours: float) -> None:
        self.busy = f"starting a class on {scenario}: {trainees} kiosk(s), keys and handouts..."
        self.query_one("#class-state", Label).update(f"[yellow]{self.busy}[/]")
        self.refresh_bindings()
        began = time.monotonic()
        try:
            view = await self.wb.backend.start_class(scenario, trainees, speed, hours)
        except Exception as exc:
            self.post_message(self.Started(None, time.monotonic() - began, str(exc)))
            return
        self.post_message(self.Started(view, time.monotonic() - began, None))

    def on_class_screen_started(self, message: Started) -> None:
        self.busy = ""
        if message.error:
            self.notify(message.error, title="Class not started", severity="error", timeout=10)
            self.action_reload()
            return
        assert message.view is not None
        self.notify(
            f"{len(message.view.seats)} trainee(s) on {message.view.scenario}, up in "
            f"{message.seconds:.1f} s; handouts under trainees/",
            title="Class started",
        )
        self.show(message.view)

    def action_stop(self) -> None:
        if self.view is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._stop()

        question = f"Stop the class on {self.view.scenario} ({len(self.view.seats)} kiosks)?"
        self.app.push_screen(ConfirmScreen(question), answered)

    @work(exclusive=True, group="class-start")
    async def _stop(self) -> None:
        self.busy = "stopping the class..."
        try:
            await self.wb.backend.stop_class()
        except Exception as exc:
            self.busy = ""
            self.notify(f"stop: {exc}", severity="error")
            return
        self.busy = ""
        self.notify("the class's kiosks are down; scorecards stay", title="Class stopped")
        self.action_reload()
