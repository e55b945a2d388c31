"""The workbench TUI application: the screens, the session (who, why, which window), the command
palette, F1 help, ``:`` to jump, Esc to go back, dark and light themes.

    WorkbenchApp(LiveBackend(state_dir, ca=...)).run()

The app only talks to a :class:`tui.backend.Backend`; tests hand it a fake one. The first frame
needs only the fleet: every other screen's module is imported when it is first shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen

from tui.backend import Backend, WindowView
from tui.screens.fleet import FleetScreen
from tui.widgets.countdown import Countdown
from workbench import gc_freeze
from workbench.errors import WorkbenchError


class WorkbenchApp(App[None]):
    """Fleet at the bottom of the screen stack; every other view is pushed on it."""

    TITLE = "workbench"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("colon", "jump", "Jump", key_display=":"),
        Binding("ctrl+t", "toggle_theme", "Theme"),
        Binding("escape", "go_back", "Back", show=False),
        Binding("q", "quit", "Quit"),
    ]

    CSS = """
    Screen { background: $background; }
    .title { text-style: bold; padding: 0 1; }
    .refused { color: $error; padding: 0 1; }
    """

    session_text: reactive[str] = reactive("")
    window_until: reactive[int | None] = reactive(None)

    def __init__(
        self,
        backend: Backend,
        *,
        reason: str | None = None,
        clock: Callable[[], float] = time.time,
        capacity: dict[str, Any] | None = None,
        freeze_gc: bool = False,
    ) -> None:
        super().__init__()
        self.freeze_gc = freeze_gc
        """Once started (the backend open, the fleet's first rows in), freeze what exists out of
        the garbage collector's reach (:mod:`workbench.gc_freeze`): for ``workbench tui``, not
        for tests that start many apps in one process."""
        self.gc_frozen = False
        """Whether start-up has been frozen out of the collector (it is once the rows are in)."""
        self._settling = False
        self._fleet_loaded = False
        self.backend = backend
        self.capacity = capacity  # a capacity run or sweep result the Reports screen charts
        self.reason = reason
        self.clock = clock
        self.theme = "textual-dark"
        self._closed_told: int | None = None
        self._opened = False
        self._session_started = False
        self.failed: WorkbenchError | None = None
        """Why the app stopped at start (a bad certificate or CA directory), for the CLI."""

    # -- the session ----------------------------------------------------------------------------
    class Opened(Message):
        """The backend has read what it was started with (None), or refused it (the error)."""

        def __init__(self, error: WorkbenchError | None) -> None:
            super().__init__()
            self.error = error

    def on_mount(self) -> None:
        Countdown.now_fn = staticmethod(self.clock)
        fleet = FleetScreen()
        self.push_screen(fleet)
        window = self.backend.window()
        if window is not None:
            self.set_window(window)
        self._session_text()
        if not self.reason:
            from tui.screens.reason import ReasonScreen

            self.push_screen(ReasonScreen(), self._start)
        # not to compete with the first frame for the GIL
        self.call_after_refresh(self._open, fleet)

    @work(thread=True, group="open")
    def _open(self, fleet: FleetScreen) -> None:
        """The slow part of start-up (the certificate, the CA: asyncssh, YAML), off the first
        frame: the fleet is on screen, saying it is loading, while it runs. Then, in the same
        thread, the fleet's first load, once: its rows carry the window just read (their window
        column, and which rows' open faults are read live); loading them before as well would
        read and probe every terminal twice."""
        try:
            self.backend.open()
        except WorkbenchError as exc:
            self.post_message(self.Opened(exc))
            return
        self.post_message(self.Opened(None))
        fleet.load()

    def on_workbench_app_opened(self, message: Opened) -> None:
        if not self.screen_stack:  # the app closed while the backend was opening
            return
        if message.error is not None:  # bad input: the command line prints it in one line
            self.failed = message.error
            self.exit(return_code=1)
            return
        window = self.backend.window()
        if window is not None and window.valid_before != self.window_until:
            self.set_window(window)
        self._opened = True
        self._begin_session()
        self._settle()

    def fleet_loaded(self) -> None:
        """The fleet screen has its rows (the first time: start-up is nearly over)."""
        self._fleet_loaded = True
        self._settle()

    def _settle(self) -> None:
        if self.freeze_gc and self._opened and self._fleet_loaded and not self._settling:
            self._settling = True
            self.call_after_refresh(self._freeze)  # once the rows are painted

    def _freeze(self) -> None:
        self.gc_frozen = gc_freeze.freeze_startup("workbench tui")

    def _start(self, reason: str | None) -> None:
        self.reason = reason or "-"
        self._begin_session()

    def _begin_session(self) -> None:
        """Record the session once both its reason and the engineer (the certificate's key id)
        are known."""
        if self._opened and self.reason and not self._session_started:
            self._session_started = True
            self.backend.start_session(self.reason)
        self._session_text()

    def _session_text(self) -> None:
        window = self.backend.window()
        groups = f" · {', '.join(window.allow)}" if window else ""
        self.session_text = f"{self.backend.engineer} · reason {self.reason or '?'}{groups}"

    def set_window(self, window: WindowView) -> None:
        """A window was loaded or requested: every screen's countdown and actions follow it, and
        the fleet reloads for its window column (at start-up the fleet is first loaded once the
        backend has opened, with the window already in: see :meth:`_open`)."""
        self.window_until = window.valid_before
        self._session_text()
        self.screen.refresh_bindings()
        if self._opened:
            self.fleet.action_reload()

    def on_countdown_closed(self, _: Countdown.Closed) -> None:
        if self._closed_told != self.window_until:
            self._closed_told = self.window_until
            self.notify(
                "The remote window has closed: remote actions are disabled.",
                title="Window closed",
                severity="error",
                timeout=10,
            )
            self.fleet.refresh_live()  # open faults fall back to the records
        self.screen.refresh_bindings()

    def on_unmount(self) -> None:
        self.backend.end_session()
        if self.gc_frozen:
            gc_freeze.thaw()
            self.gc_frozen = False

    # -- who may see the trainer's screens --------------------------------------------------------
    def trainer_refusal(self) -> str | None:
        """Why this session may not see the trainer's screens (the scenario's steps, the faults
        injected, the class: the answer key), or None. A session holding a window without the
        ``trainer`` group (a trainee's, an engineer's) sees what a real terminal shows, as the
        agent answers such a window; a trainer runs without a window, or with one that allows
        ``trainer``."""
        window = self.backend.window()
        if window is None or "trainer" in window.allow:
            return None
        return (
            f"The trainer's screens are not for this session: its window allows "
            f"{', '.join(window.allow) or 'nothing'}, not trainer (a trainer runs "
            "'workbench tui' without --cert, or with a window that allows trainer)"
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "view" and parameters[:1] in (("trainer",), ("class",)):
            return self.trainer_refusal() is None  # the fleet's t: not offered to a trainee
        return True

    # -- navigation -----------------------------------------------------------------------------
    def _to_fleet(self) -> None:
        while len(self.screen_stack) > 2 and not isinstance(self.screen, FleetScreen):
            self.pop_screen()

    def show(self, view: str) -> None:
        """Go to a view by name (``fleet``, ``window``, ``reports``, ``trainer``, ``class``) or a
        terminal id."""
        if view == "quit":
            self.exit()
            return
        if view == "help":
            self.action_help()
            return
        if view in ("trainer", "class") and (refused := self.trainer_refusal()):
            self.notify(refused, title="Not for a trainee", severity="warning", timeout=10)
            return
        self._to_fleet()
        if view == "fleet":
            return
        # each screen's module is imported the first time it is shown: the first frame is the fleet
        if view == "window":
            from tui.screens.window import WindowScreen

            self.push_screen(WindowScreen())
        elif view == "reports":
            from tui.screens.reports import ReportsScreen

            self.push_screen(ReportsScreen())
        elif view == "class":
            from tui.screens.classroom import ClassScreen

            self.push_screen(ClassScreen())
        elif view == "trainer":
            from tui.screens.trainer import TrainerScreen

            self.push_screen(TrainerScreen(self._focus_terminal()))
        elif any(r.terminal == view for r in self.fleet.table.rows):
            from tui.screens.terminal import TerminalScreen

            self.push_screen(TerminalScreen(view))
        else:
            self.notify(f"no view or terminal {view!r}", severity="warning")

    def action_view(self, view: str) -> None:
        """Bindings' way to :meth:`show` a view."""
        self.show(view)

    @property
    def fleet(self) -> FleetScreen:
        """The fleet screen at the bottom of the stack."""
        return next(s for s in self.screen_stack if isinstance(s, FleetScreen))

    def _focus_terminal(self) -> str | None:
        from tui.screens.terminal import TerminalScreen

        if isinstance(self.screen, TerminalScreen):
            return self.screen.terminal
        row = self.fleet.table.current
        return row.terminal if row else None

    def action_jump(self) -> None:
        ids = [r.terminal for r in self.fleet.table.rows[:2000]]
        from tui.screens.jump import JumpScreen

        self.push_screen(JumpScreen(ids), lambda v: self.show(v) if v else None)

    def action_go_back(self) -> None:
        if not isinstance(self.screen, FleetScreen) and len(self.screen_stack) > 2:
            self.pop_screen()

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        title = type(self.screen).__name__.removesuffix("Screen")
        self.push_screen(HelpScreen(title, self.screen.active_bindings))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    # -- command palette ------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Fleet", "Every terminal: filter, sort, fan out", lambda: self.show("fleet")
        )
        yield SystemCommand(
            "Window", "Request or load a remote window", lambda: self.show("window")
        )
        yield SystemCommand(
            "Reports", "Maintenance records and results", lambda: self.show("reports")
        )
        if self.trainer_refusal() is None:
            yield SystemCommand(
                "Trainer",
                "Scenarios, faults and stimuli on a kiosk; watch and score trainees",
                lambda: self.show("trainer"),
            )
            yield SystemCommand(
                "Class", "Each trainee's kiosk, scenario and actions", lambda: self.show("class")
            )
            yield SystemCommand(
                "Start a class", "N trainees on a library scenario", self._new_class
            )
        yield SystemCommand("Toggle dark/light", "Switch the theme", self.action_toggle_theme)
        yield SystemCommand("Help", "Every key binding (F1)", self.action_help)
        fleet = self.fleet
        yield SystemCommand(
            "Inspect marked terminals",
            "Fan the inspection suite out over the marked (or shown) terminals",
            lambda: fleet.action_fan_out("inspection"),
        )
        yield SystemCommand(
            "Quick check marked terminals",
            "Fan the quick suite out over the marked (or shown) terminals",
            lambda: fleet.action_fan_out("quick"),
        )
        from tui.screens.terminal import TerminalScreen
        from tui.screens.trainer import TrainerScreen

        if isinstance(screen, TrainerScreen) and screen.terminal:
            where = screen.terminal
            yield SystemCommand("Start a scenario here", where, screen.action_scenario)
            yield SystemCommand("Stop the scenario here", where, screen.action_stop_scenario)
            yield SystemCommand("Score now", f"score {where}'s run", screen.action_score)
        if isinstance(screen, TerminalScreen):
            yield SystemCommand(
                "Run inspection here", screen.terminal, lambda: screen.action_run("inspection")
            )
            yield SystemCommand("Apply a remedy here", screen.terminal, screen.action_remedy)

    def _new_class(self) -> None:
        from tui.screens.classroom import ClassScreen

        self.show("class")
        if isinstance(self.screen, ClassScreen):
            self.screen.action_new()
