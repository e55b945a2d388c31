"""The trainer's panel on a simulated kiosk: a library scenario started, watched and stopped on
it (``n``, ``x``), its fault list with what is active, inject and clear through the kiosk's control
plane, customer stimuli, the agent's audit log to watch what trainees do, scoring the run now
(``g``) and the trainees' stored scorecards; ``l`` goes to the class."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Label

from tui.backend import PlayView
from tui.screens.confirm import ConfirmScreen
from tui.screens.library import LibraryScreen
from tui.screens.pick import PickScreen
from tui.screens.scorecard import Scored
from tui.widgets.footer import Footer
from tui.widgets.scenario_panel import ScenarioPanel
from tui.widgets.session_bar import SessionBar

if TYPE_CHECKING:
    from tui.app import WorkbenchApp

AUDIT_EVERY_S = 2.0
STIMULI = (
    ("insert-note 20", "a customer offers a 20 note"),
    ("insert-counterfeit", "a customer offers a counterfeit note"),
    ("insert-unknown-note 7", "a customer offers a note the unit does not know"),
    ("insert-card", "a customer pushes a card"),
    ("take-card", "the customer takes the card back"),
    ("transaction", "a customer completes a transaction"),
    ("open-cover", "someone opens the printer's paper cover"),
    ("close-cover", "someone closes the printer's paper cover"),
    ("refill-paper", "staff put in a new paper roll"),
    ("open-door", "staff open the cabinet door"),
    ("close-door", "staff close the cabinet door"),
    ("kick", "someone strikes the cabinet"),
    ("remove-cashbox", "staff take the cash box out"),
    ("replace-cashbox", "staff put the cash box back"),
)
"""Customer and staff stimuli a trainer applies (the kiosk's ``act`` control-plane request)."""


def audit_text(rec: dict[str, Any]) -> tuple[str, str, str, str]:
    """(time, who, event, what) for one audit record."""
    what = rec.get("command") or rec.get("reason") or ""
    if rec.get("event") == "result":
        what = f"{rec.get('command')} -> exit {rec.get('exit_status')} {rec.get('counts') or ''}"
    return (
        time.strftime("%H:%M:%S", time.localtime(float(rec.get("time") or 0))),
        str(rec.get("engineer") or rec.get("key_id") or "-"),
        str(rec.get("event")),
        str(what),
    )


class TrainerScreen(Screen[None]):
    """Faults of one simulated terminal (``i`` inject, ``c`` clear) above its audit log."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "scenario", "Scenario"),
        Binding("x", "stop_scenario", "Stop"),
        Binding("g", "score", "Score now"),
        Binding("i", "inject", "Inject"),
        Binding("c", "clear", "Clear"),
        Binding("s", "stimulus", "Stimulus"),
        Binding("o", "scores", "Scorecards"),
        Binding("l", "class", "Class"),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    DEFAULT_CSS = """
    TrainerScreen { overflow: hidden; }
    TrainerScreen #trainer-state { width: 100%; }
    TrainerScreen #trainer-faults { height: 1fr; }
    TrainerScreen #trainer-audit { height: 1fr; }
    TrainerScreen #trainer-scores { height: 1fr; }
    """

    class Faults(Message):
        """The fault list arrived (or ``error``)."""

        def __init__(self, faults: list[dict[str, Any]], error: str | None = None) -> None:
            super().__init__()
            self.faults, self.error = faults, error

    class Played(Message):
        """A scenario was started or stopped (``verb``), or that failed (``error``)."""

        def __init__(self, verb: str, view: PlayView | None, error: str | None = None) -> None:
            super().__init__()
            self.verb, self.view, self.error = verb, view, error

    def __init__(self, terminal: str | None) -> None:
        super().__init__()
        self.terminal = terminal
        self._active: set[str] | None = None  # the faults the list shows active
        self._stop_offered: bool | None = None  # whether x (stop the scenario) is on offer

    @property
    def wb(self) -> WorkbenchApp:
        return cast("WorkbenchApp", self.app)

    def compose(self) -> ComposeResult:
        yield SessionBar(f"Trainer {self.terminal or ''}")
        yield Label("", id="trainer-state", classes="title")
        yield ScenarioPanel(self.terminal)
        yield DataTable(id="trainer-faults", cursor_type="row")
        yield Label("agent audit log (what trainees do):", classes="title")
        yield DataTable(id="trainer-audit", cursor_type="row")
        yield Label("scorecards (o to refresh):", classes="title")
        yield DataTable(id="trainer-scores", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#trainer-faults", DataTable).add_columns("fault", "sev", "active", "title")
        self.query_one("#trainer-audit", DataTable).add_columns("time", "who", "event", "what")
        self.query_one("#trainer-scores", DataTable).add_columns(
            "scenario", "trainee", "terminal", "score", "when"
        )
        self.action_scores()
        if self.terminal is None:
            self.query_one("#trainer-state", Label).update(
                "no terminal: pick one in the fleet, or l for the class view (n there starts a "
                "class: a kiosk per trainee)"
            )
            return
        self.action_reload()
        self.set_interval(AUDIT_EVERY_S, self._audit)
        self.query_one("#trainer-faults", DataTable).focus()
        self._warm_library()

    @work(thread=True, group="library")
    def _warm_library(self) -> None:
        """Read the scenario library now (a second or more), so ``n`` shows it at once."""
        try:
            self.wb.backend.library()
        except Exception:
            pass  # the library screen says what is wrong when it is opened

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("scenario", "score", "inject", "clear", "stimulus"):
            return self.terminal is not None
        if action == "stop_scenario":
            view = self.query_one(ScenarioPanel).view
            return view is not None and view.state == "running"
        return True

    def _follow(self, view: PlayView) -> None:
        """Offer x (stop) while a scenario runs: the footer is redrawn when that changes, not on
        every status the panel polls (a redrawn footer costs a layout of the screen)."""
        if (view.state == "running") != self._stop_offered:
            self._stop_offered = view.state == "running"
            self.refresh_bindings()

    def on_scenario_panel_status(self, message: ScenarioPanel.Status) -> None:
        view = message.view
        self._follow(view)
        if view.state != "down" and self._active not in (None, set(view.active_faults)):
            self._load()  # a step, a trainee's remedy or a site visit changed the faults
        elif view.state == "down" and self._active is not None:
            self._active = None  # the kiosk stopped: its faults are not known any more
            self._load()  # which says why, in place of the count

    def action_reload(self) -> None:
        self._load()
        self._audit()

    @work(exclusive=True, group="faults")
    async def _load(self) -> None:
        assert self.terminal is not None
        try:
            self.post_message(self.Faults(await self.wb.backend.faults(self.terminal)))
        except Exception as exc:
            self.post_message(self.Faults([], str(exc)))

    def on_trainer_screen_faults(self, message: Faults) -> None:
        table = self.query_one("#trainer-faults", DataTable)
        row = table.cursor_row
        table.clear()
        state = self.query_one("#trainer-state", Label)
        if message.error:
            state.update(f"[red]{message.error}[/]")
            return
        active = [f["id"] for f in message.faults if f.get("active")]
        self._active = set(active)
        state.update(f"{self.terminal}: {len(active)} active fault(s) {', '.join(active)}")
        for f in message.faults:
            table.add_row(
                f["id"],
                str(f.get("severity", "")),
                "[red]ACTIVE[/]" if f.get("active") else "",
                str(f.get("title", "")),
                key=f["id"],
            )
        table.move_cursor(row=min(row, max(0, table.row_count - 1)))

    def _audit(self) -> None:
        if self.terminal is None:
            return
        table = self.query_one("#trainer-audit", DataTable)
        records = self.wb.backend.agent_audit(self.terminal)
        if table.row_count == len(records):
            return
        table.clear()
        for rec in records:
            table.add_row(*audit_text(rec))
        table.move_cursor(row=table.row_count - 1)

    def action_scores(self) -> None:
        """List the stored scorecards, newest first."""
        table = self.query_one("#trainer-scores", DataTable)
        table.clear()
        try:
            cards = self.wb.backend.scorecards()
        except Exception as exc:
            self.notify(f"scorecards: {exc}", severity="error")
            return
        for card in cards:
            table.add_row(
                card.scenario,
                card.trainee,
                card.terminal or "-",
                f"{card.score:g}/{card.max_score:g}",
                time.strftime("%Y-%m-%d %H:%M", time.localtime(card.created)),
            )

    def _selected(self) -> str | None:
        table = self.query_one("#trainer-faults", DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def action_inject(self) -> None:
        fault = self._selected()
        if fault and self.terminal:
            question = f"Inject {fault} on {self.terminal}?"

            def answered(yes: bool | None) -> None:
                if yes:
                    self._change("inject", fault)

            self.app.push_screen(ConfirmScreen(question), answered)

    def action_clear(self) -> None:
        fault = self._selected()
        if fault and self.terminal:
            self._change("clear", fault)

    def action_stimulus(self) -> None:
        if self.terminal:
            options = [(name, f"{name}: {about}") for name, about in STIMULI]

            def picked(name: str | None) -> None:
                if name:
                    self._act(name)

            self.app.push_screen(
                PickScreen(f"Apply which stimulus on {self.terminal}?", options), picked
            )

    @work(group="change")
    async def _act(self, stimulus: str) -> None:
        assert self.terminal is not None
        try:
            message = await self.wb.backend.act(self.terminal, stimulus)
        except Exception as exc:
            self.notify(f"{stimulus}: {exc}", severity="error")
            return
        self.notify(message, title=f"{self.terminal}: {stimulus}")
        self._load()

    @work(group="change")
    async def _change(self, verb: str, fault: str) -> None:
        assert self.terminal is not None
        backend = self.wb.backend
        try:
            await (backend.inject if verb == "inject" else backend.clear)(self.terminal, fault)
        except Exception as exc:
            self.notify(f"{verb} {fault}: {exc}", severity="error")
            return
        self.notify(f"{verb}ed {fault} on {self.terminal}", title="Trainer")
        self._load()

    # -- scenarios and scores -------------------------------------------------------------------
    def action_scenario(self) -> None:
        """Pick a library scenario and play it on this kiosk from now."""
        if self.terminal is None:
            return
        terminal = self.terminal
        row = next((r for r in self.wb.fleet.table.rows if r.terminal == terminal), None)

        def picked(name: str | None) -> None:
            if name:
                self._play("start", name)

        self.app.push_screen(
            LibraryScreen(f"Start which scenario on {terminal}?", row.profile if row else None),
            picked,
        )

    def action_stop_scenario(self) -> None:
        view = self.query_one(ScenarioPanel).view
        if self.terminal is None or view is None or view.state != "running":
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._play("stop", view.scenario)

        question = f"Stop {view.scenario} on {self.terminal}? (its faults stay until cleared)"
        self.app.push_screen(ConfirmScreen(question), answered)

    @work(exclusive=True, group="scenario")
    async def _play(self, verb: str, scenario: str) -> None:
        assert self.terminal is not None
        backend = self.wb.backend
        try:
            if verb == "start":
                view = await backend.start_scenario(self.terminal, scenario)
            else:
                view = await backend.stop_scenario(self.terminal)
        except Exception as exc:
            self.post_message(self.Played(verb, None, f"{verb} {scenario}: {exc}"))
            return
        self.post_message(self.Played(verb, view))

    def on_trainer_screen_played(self, message: Played) -> None:
        if message.view is None:
            self.notify(str(message.error), severity="error", timeout=10)
            return
        view = message.view
        self.query_one(ScenarioPanel).show(view)
        self._follow(view)
        if message.verb == "start":
            self.notify(
                f"{view.scenario} ({view.severity}) plays on {view.terminal} at {view.speed:g}x",
                title="Scenario started",
            )
        else:
            faults = ", ".join(view.active_faults) or "none"
            self.notify(f"{view.scenario} stopped; active faults: {faults}", title="Scenario")
        self._load()

    def action_score(self) -> None:
        """Score this terminal's scenario run now; the card is stored and shown."""
        if self.terminal is not None:
            self._score(self.terminal)

    @work(group="score")
    async def _score(self, terminal: str) -> None:
        self.post_message(await Scored.score(self.wb.backend, terminal))

    def on_scored(self, message: Scored) -> None:
        if message.card is not None:
            self.action_scores()  # the new card heads the list
        message.show(self, error_timeout=10)

    def action_class(self) -> None:
        from tui.screens.classroom import ClassScreen

        self.app.push_screen(ClassScreen())
