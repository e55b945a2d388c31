"""Pick a scenario from the library: name, severity, profile and title in a table, and under it
the highlighted scenario's summary and what it does when (the trainer's eyes only: trainees get
the ticket). Scenarios for another profile than the kiosk's are shown dimmed and refused.
Typing a name moves the cursor to it (:mod:`tui.screens.find`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from tui.backend import ScenarioInfo
from tui.screens.find import TypeToFind

if TYPE_CHECKING:
    from tui.app import WorkbenchApp


class LibraryScreen(ModalScreen[str | None]):
    """Enter picks the highlighted scenario (its name); Esc cancels (None)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "pick", "Pick", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    DEFAULT_CSS = """
    LibraryScreen { align: center middle; }
    LibraryScreen > Vertical {
        width: 110; height: 90%; padding: 0 1; border: thick $accent; background: $surface;
    }
    LibraryScreen Label { width: 100%; }
    LibraryScreen #library-table { height: 1fr; }
    LibraryScreen #library-detail { height: auto; min-height: 5; padding: 1 0 0 0; }
    """

    class Loaded(Message):
        """The library arrived (or ``error``)."""

        def __init__(self, scenarios: list[ScenarioInfo], error: str | None = None) -> None:
            super().__init__()
            self.scenarios, self.error = scenarios, error

    def __init__(self, title: str, profile: str | None = None) -> None:
        """``profile``: the kiosk's, when known (other profiles' scenarios cannot run on it)."""
        super().__init__()
        self.title_text = title
        self.profile = profile
        self.scenarios: dict[str, ScenarioInfo] = {}
        self.find = TypeToFind()
        """What the trainer typed of a name."""

    @property
    def wb(self) -> WorkbenchApp:
        return cast("WorkbenchApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title", id="library-title")
            yield DataTable(id="library-table", cursor_type="row")
            yield Label("loading the library...", id="library-detail")

    def on_mount(self) -> None:
        table = self.query_one("#library-table", DataTable)
        table.add_columns("scenario", "sev", "profile", "title")
        table.focus()
        self._load()

    @work(exclusive=True, thread=True, group="library")
    def _load(self) -> None:
        try:
            self.post_message(self.Loaded(self.wb.backend.library()))
        except Exception as exc:
            self.post_message(self.Loaded([], str(exc)))

    def on_library_screen_loaded(self, message: Loaded) -> None:
        detail = self.query_one("#library-detail", Label)
        if message.error:
            detail.update(f"[red]{message.error}[/]")
            return
        table = self.query_one("#library-table", DataTable)
        for info in message.scenarios:
            self.scenarios[info.name] = info
            cells = [info.name, info.severity, info.profile, info.title]
            if not self._fits(info):
                cells = [f"[dim]{c}[/]" for c in cells]
            table.add_row(*cells, key=info.name)
        self._describe()

    def on_key(self, event: events.Key) -> None:
        """Type to find (:mod:`tui.screens.find`)."""
        if not self.find.key(event, list(self.scenarios)):
            return
        if self.find.found is not None:
            self.query_one("#library-table", DataTable).move_cursor(row=self.find.found)
        self.query_one("#library-title", Label).update(self.find.title(self.title_text))

    def _fits(self, info: ScenarioInfo) -> bool:
        return self.profile in (None, "-", info.profile)

    def _current(self) -> ScenarioInfo | None:
        table = self.query_one("#library-table", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.scenarios.get(str(key))

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._describe()

    def _describe(self) -> None:
        info = self._current()
        if info is None:
            return
        lines = [f"[b]{info.name}[/b] ({info.severity}): {info.summary}"]
        if not self._fits(info):
            lines.append(f"[yellow]runs on a {info.profile} kiosk; this one is {self.profile}[/]")
        lines += [f"  {step}" for step in info.steps]
        self.query_one("#library-detail", Label).update("\n".join(lines))

    def action_pick(self) -> None:
        info = self._current()
        if info is None:
            return
        if not self._fits(info):
            self.notify(
                f"{info.name} runs on a {info.profile} kiosk, not {self.profile}",
                severity="warning",
            )
            return
        self.dismiss(info.name)

    def action_cancel(self) -> None:
        self.dismiss(None)
