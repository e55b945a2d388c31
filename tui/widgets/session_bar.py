"""The line above every screen: where you are, who you are, why (the session's ticket), and the
window countdown."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from tui.widgets.countdown import Countdown


class SessionBar(Horizontal):
    """View name, engineer and reason on the left; the countdown on the right."""

    DEFAULT_CSS = """
    SessionBar { height: 1; background: $panel; }
    SessionBar > #session-where { width: auto; padding: 0 1; text-style: bold; color: $accent; }
    SessionBar > #session-who { width: 1fr; padding: 0 1; }
    """

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where

    def compose(self) -> ComposeResult:
        yield Label(self.where, id="session-where")
        yield Label("", id="session-who")
        yield Countdown()

    def on_mount(self) -> None:
        self.watch(self.app, "session_text", self._who)
        self.watch(self.app, "window_until", self._until)

    def _who(self, text: str) -> None:
        self.query_one("#session-who", Label).update(text)

    def _until(self, until: int | None) -> None:
        self.query_one(Countdown).until = until
