"""The scenario running on a terminal, as the trainer watches it: name, severity and state, the
simulated and wall time since it started and the scenario's clock, then its steps (the ticket
among them) each marked done or still to come, and the last thing that happened. It asks the
backend every second from a worker and shows what comes back."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Label

from tui.backend import PlayView, at_text

if TYPE_CHECKING:
    from tui.app import WorkbenchApp

STATUS_EVERY_S = 1.0
STATE_STYLE = {"running": "green", "finished": "cyan", "stopped": "yellow", "down": "red"}


def duration(seconds: float) -> str:
    """``1h05m``, ``12m30s``, ``40s``."""
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def headline(view: PlayView) -> str:
    """One line: what runs on the terminal and for how long."""
    if view.state == "none":
        return "no scenario: n starts one from the library"
    if view.state == "down":
        return f"[red]scenario status unavailable: {view.error}[/]"
    style = STATE_STYLE.get(view.state, "")
    done = sum(s.done for s in view.steps)
    return (
        f"[b]{view.scenario}[/b] ({view.severity}) [{style}]{view.state}[/] · "
        f"{duration(view.elapsed_sim)} simulated / {duration(view.elapsed_wall)} wall at "
        f"{view.speed:g}x · now {view.clock} · {done}/{len(view.steps)} steps done"
    )


class ScenarioPanel(Vertical):
    """Headline, steps table, last log line; polls the terminal's scenario while mounted."""

    DEFAULT_CSS = """
    ScenarioPanel { height: auto; max-height: 9; }
    ScenarioPanel > #scenario-head { width: 100%; padding: 0 1; }
    ScenarioPanel > #scenario-steps { height: auto; max-height: 6; }
    ScenarioPanel > #scenario-last {
        width: 100%; padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    class Status(Message):
        """The terminal's scenario as the backend reported it (asked in ``shown``: how many
        views the panel had shown when the poll began)."""

        def __init__(self, view: PlayView, shown: int = 0) -> None:
            super().__init__()
            self.view, self.shown = view, shown

    def __init__(self, terminal: str | None) -> None:
        super().__init__(id="scenario-panel")
        self.terminal = terminal
        self.view: PlayView | None = None
        self._shown = 0  # views shown so far: a poll begun before the last one is stale

    @property
    def wb(self) -> WorkbenchApp:
        return cast("WorkbenchApp", self.app)

    def compose(self) -> ComposeResult:
        yield Label("", id="scenario-head")
        yield DataTable(id="scenario-steps", cursor_type="none", show_header=False)
        yield Label("", id="scenario-last")

    def on_mount(self) -> None:
        self.query_one("#scenario-steps", DataTable).add_columns("at", "step", "done")
        self.query_one("#scenario-steps", DataTable).display = False
        self.query_one("#scenario-last", Label).display = False
        if self.terminal is None:
            return
        self.refresh_status()
        self.set_interval(STATUS_EVERY_S, self.refresh_status)

    @work(exclusive=True, group="scenario-status")
    async def refresh_status(self) -> None:
        """Ask the backend for the terminal's scenario (a worker; posts :class:`Status`)."""
        if self.terminal is None:
            return
        shown = self._shown
        try:
            view = await self.wb.backend.scenario_status(self.terminal)
        except Exception as exc:
            view = PlayView(self.terminal, "down", error=str(exc))
        self.post_message(self.Status(view, shown))

    def on_scenario_panel_status(self, message: Status) -> None:
        if message.shown != self._shown:  # asked before a start or stop was shown: out of date
            message.stop()
            return
        self.show(message.view)

    def show(self, view: PlayView) -> None:
        """Draw a status (also called with what a start or stop returned)."""
        before, self.view = self.view, view
        self._shown += 1
        head = headline(view)
        if before is None or head != headline(before):  # a Label's update lays the screen out
            self.query_one("#scenario-head", Label).update(head)
        table = self.query_one("#scenario-steps", DataTable)
        table.display = bool(view.steps)
        if before is None or (before.steps, before.state) != (view.steps, view.state):
            table.clear()
            pending = "[dim]not run[/]" if view.state == "stopped" else "[dim]to come[/]"
            for step in view.steps:
                done = "[green]done[/]" if step.done else pending
                table.add_row(at_text(step.at), step.what, done)
        last = self.query_one("#scenario-last", Label)
        last.display = bool(view.log)
        if before is None or before.log[-1:] != view.log[-1:]:
            last.update(view.log[-1] if view.log else "")
