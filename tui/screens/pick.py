"""Choose one of a few options (a suite, a remedy, a fault) from a list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class PickScreen(ModalScreen[str | None]):
    """Enter picks the highlighted option; Esc cancels (None)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    PickScreen Label { width: 100%; }
    PickScreen { align: center middle; }
    PickScreen > Vertical {
        width: 60; height: auto; max-height: 80%; padding: 1 2;
        border: thick $accent; background: $surface;
    }
    PickScreen OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, title: str, options: Sequence[tuple[str, str]]) -> None:
        """``options`` are (value, label) pairs."""
        super().__init__()
        self.title_text = title
        self.options = list(options)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text)
            yield OptionList(*(Option(label, id=value) for value, label in self.options))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
