"""``:`` as in k9s and vim: type a view's name (or a terminal id) and Enter to go there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input

VIEWS = ("fleet", "window", "reports", "trainer", "class", "help", "quit")


class JumpScreen(ModalScreen[str | None]):
    """A one-line prompt at the bottom; completes view names and terminal ids (tab or right)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    JumpScreen { align: left bottom; }
    JumpScreen > Input { dock: bottom; margin-bottom: 1; border: tall $accent; }
    """

    def __init__(self, terminals: Sequence[str]) -> None:
        super().__init__()
        self.choices = [*VIEWS, *terminals]

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder=":fleet  :window  :reports  :trainer  :class  :KSK-0001",
            suggester=SuggestFromList(self.choices, case_sensitive=False),
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip().lstrip(":") or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
