"""Choose one of a few options (a suite, a remedy, a stimulus) from a list. Typing an option's
name moves the highlight to it (:mod:`tui.screens.find`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from tui.screens.find import TypeToFind


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
        self.find = TypeToFind()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="pick-title")
            yield OptionList(*(Option(label, id=value) for value, label in self.options))

    def on_key(self, event: events.Key) -> None:
        """Type to find, by the options' names (:mod:`tui.screens.find`)."""
        if not self.find.key(event, [value for value, _ in self.options]):
            return
        if self.find.found is not None:
            self.query_one(OptionList).highlighted = self.find.found
        self.query_one("#pick-title", Label).update(self.find.title(self.title_text))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
