"""Asked first in every session: the reason for it (a ticket id), recorded before any action."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class ReasonScreen(ModalScreen[str]):
    """A ticket id (or any reason) for this session; Enter records it, it cannot be empty."""

    BINDINGS: ClassVar[list[BindingType]] = []

    DEFAULT_CSS = """
    ReasonScreen { align: center middle; }
    ReasonScreen > Vertical {
        width: 60; height: auto; padding: 1 2; border: thick $accent; background: $surface;
    }
    ReasonScreen .hint { color: $text-muted; }
    ReasonScreen #reason-error { color: $error; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Why this session? A ticket id:")
            yield Label("it is recorded with everything you do.", classes="hint")
            yield Input(placeholder="INC-2041", id="reason")
            yield Label("", id="reason-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if not reason:
            self.query_one("#reason-error", Label).update("a reason is required (a ticket id)")
            return
        self.dismiss(reason)
