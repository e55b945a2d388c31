"""F1: every binding of the screen below (hidden ones too), where it comes from and whether it
is available now."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

CONVENTIONS = (
    "/ filter (a regular expression; !text keeps rows that do not match), "
    ": jump to a view or terminal, Esc back, ctrl+p command palette."
)


class HelpScreen(ModalScreen[None]):
    """A table of key, action and where it is bound; Esc or F1 closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "close", "Close")]

    DEFAULT_CSS = """
    HelpScreen Label { width: 100%; }
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 90; height: 90%; padding: 1 2; border: thick $accent; background: $surface;
    }
    HelpScreen DataTable { height: 1fr; }
    """

    def __init__(self, title: str, bindings: dict[str, ActiveBinding]) -> None:
        super().__init__()
        self.title_text = title
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"[b]{self.title_text}[/b]: every key")
            yield Label(CONVENTIONS)
            yield DataTable(cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("key", "action", "where", "now")
        seen = set()
        for key, active in self.bindings.items():
            binding = active.binding
            if (binding.action, binding.description, key) in seen:
                continue
            seen.add((binding.action, binding.description, key))
            table.add_row(
                self.app.get_key_display(binding) if binding.key_display else key,
                binding.description or binding.action,
                type(active.node).__name__,
                "yes" if active.enabled else "disabled",
            )

    def action_close(self) -> None:
        self.dismiss(None)
