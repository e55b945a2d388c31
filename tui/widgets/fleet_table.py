"""The fleet table: every terminal on one line, drawn with Textual's line API so that only the
visible rows are rendered; filtering and sorting 5,000 rows only reorders a list of indexes."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.backend import TerminalRow
from tui.filtering import RowFilter

OUTCOME_COLOUR = {
    "pass": "green",
    "warn": "yellow",
    "fail": "red",
    "error": "red",
    "cut off": "magenta",
    "refused": "magenta",
}
"""Colours of outcomes, shared by every screen."""


DIM = Style(dim=True)


def short_left(until: int | None, now: float) -> str:
    """``47m``, ``1h02m``, ``closed`` or blank: the window column."""
    if until is None:
        return ""
    left = int(until - now)
    if left <= 0:
        return "closed"
    return (
        f"{left // 3600}h{left % 3600 // 60:02d}m"
        if left >= 3600
        else f"{left // 60}m{left % 60:02d}s"
    )


def _date(t: float | None) -> str:
    return time.strftime("%m-%d %H:%M", time.localtime(t)) if t else ""


# (title, width, value, sort key)
COLUMNS: list[
    tuple[str, int, Callable[[TerminalRow, float], str], Callable[[TerminalRow], Any]]
] = [
    ("terminal", 14, lambda r, _: r.terminal, lambda r: r.terminal),
    ("profile", 14, lambda r, _: r.profile, lambda r: r.profile),
    ("site", 8, lambda r, _: r.site, lambda r: r.site),
    ("reach", 5, lambda r, _: r.reachable, lambda r: r.reachable),
    ("last", 8, lambda r, _: r.last_outcome or "never", lambda r: r.last_outcome or ""),
    ("when", 11, lambda r, _: _date(r.last_run), lambda r: r.last_run or 0.0),
    ("window", 7, lambda r, now: short_left(r.window_until, now), lambda r: r.window_until or 0),
    ("run", 9, lambda r, _: r.progress, lambda r: r.progress),
    ("open faults", 0, lambda r, now: r.faults_text(now), lambda r: (-len(r.faults), r.faults)),
]
SORTABLE = [c[0] for c in COLUMNS]


class FleetTable(ScrollView, can_focus=True):
    """Terminals, one per line, with a cursor, marks for fan-out, a filter and a sort order."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "jump(0)", "First", show=False),
        Binding("end,G", "jump(-1)", "Last", show=False),
        Binding("enter", "open", "Open"),
        Binding("space", "mark", "Mark"),
    ]

    DEFAULT_CSS = """
    FleetTable { height: 1fr; }
    FleetTable > .fleet-table--header { text-style: bold; background: $panel; }
    FleetTable > .fleet-table--cursor { background: $accent 40%; }
    FleetTable:focus > .fleet-table--cursor { background: $accent; color: $text; }
    FleetTable > .fleet-table--mark { color: $warning; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "fleet-table--header",
        "fleet-table--cursor",
        "fleet-table--mark",
    }

    cursor: reactive[int] = reactive(0)
    sort_column: reactive[str] = reactive("terminal")

    class Opened(Message):
        """Enter on a terminal."""

        def __init__(self, terminal: str) -> None:
            super().__init__()
            self.terminal = terminal

    class Counted(Message):
        """The filter or the rows changed: how many are shown of how many."""

        def __init__(self, shown: int, total: int) -> None:
            super().__init__()
            self.shown, self.total = shown, total

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.rows: list[TerminalRow] = []
        self.marked: set[str] = set()
        self.filter = RowFilter.parse("")
        self._order: list[int] = []
        self._texts: list[str] = []
        self._index: dict[str, int] = {}

    # -- data -----------------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[TerminalRow]) -> None:
        """Replace every row, keeping the cursor on the same terminal when it is still there."""
        current = self.current
        progress = {r.terminal: r.progress for r in self.rows if r.progress}
        self.rows = [
            r.with_(progress=progress[r.terminal]) if r.terminal in progress else r for r in rows
        ]
        self._texts = [r.text() for r in self.rows]
        self._index = {r.terminal: i for i, r in enumerate(self.rows)}
        self._reorder(keep=current.terminal if current else None)

    def update_row(self, row: TerminalRow) -> None:
        """Change one terminal's row in place (live progress); adds it when new."""
        i = self._index.get(row.terminal)
        if i is None:
            self.set_rows([*self.rows, row])
            return
        self.rows[i] = row
        self._texts[i] = row.text()
        self.refresh()

    def change(self, terminal: str, **changes: Any) -> None:
        """Change some fields of one terminal's row (a probe answered, a test finished)."""
        i = self._index.get(terminal)
        if i is not None:
            self.update_row(self.rows[i].with_(**changes))

    def apply_filter(self, text: str) -> None:
        """Show only the rows the k9s-style filter keeps."""
        self.filter = RowFilter.parse(text)
        current = self.current
        self._reorder(keep=current.terminal if current else None)

    def _reorder(self, keep: str | None) -> None:
        key = next(c[3] for c in COLUMNS if c[0] == self.sort_column)
        order = self.filter.apply(self._texts)
        if self.sort_column != "terminal":  # rows arrive sorted by terminal id
            order.sort(key=lambda i: key(self.rows[i]))
        self._order = order
        self.virtual_size = Size(sum(c[1] + 1 for c in COLUMNS) + 30, len(order) + 1)
        target = 0
        if keep is not None and (i := self._index.get(keep)) is not None and i in set(order):
            target = order.index(i)
        self.cursor = min(target, max(0, len(order) - 1))
        self._follow()
        self.refresh()
        self.post_message(self.Counted(len(order), len(self.rows)))

    def watch_sort_column(self) -> None:
        current = self.current
        self._reorder(keep=current.terminal if current else None)

    @property
    def current(self) -> TerminalRow | None:
        """The row under the cursor."""
        if not self._order or self.cursor >= len(self._order):
            return None
        return self.rows[self._order[self.cursor]]

    @property
    def shown(self) -> list[TerminalRow]:
        """The rows the filter keeps, in display order."""
        return [self.rows[i] for i in self._order]

    # -- drawing --------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("fleet-table--header")
            text = " " + " ".join(
                title.ljust(w) if w else title for title, w, _, _ in COLUMNS
            ).replace(self.sort_column, self.sort_column + "▼", 1)
            return Strip([Segment(text, header)]).crop_extend(scroll_x, scroll_x + width, header)
        index = scroll_y + y - 1
        if index >= len(self._order):
            return Strip.blank(width, base)
        row = self.rows[self._order[index]]
        now = getattr(self.app, "clock", time.time)()
        style = base
        if index == self.cursor:
            style = base + self.get_component_rich_style("fleet-table--cursor")
        mark = (
            Segment("●", style + self.get_component_rich_style("fleet-table--mark"))
            if row.terminal in self.marked
            else Segment(" ", style)
        )
        segments = [mark]
        for title, w, value, _ in COLUMNS:
            text = value(row, now)
            cell = (text[: w - 1] + "…" if len(text) > w else text.ljust(w)) if w else text
            colour = None
            if title == "last":
                colour = OUTCOME_COLOUR.get(row.last_outcome or "")
            elif title == "run":
                colour = OUTCOME_COLOUR.get(row.progress)
            elif title == "window" and row.window_until is not None:
                left = row.window_until - now
                colour = "red" if left <= 0 else ("yellow" if left < 600 else "green")
            elif title == "reach":
                colour = {"up": "green", "down": "red"}.get(row.reachable)
            cell_style = style + Style(color=colour) if colour else style
            if index == self.cursor:  # green or yellow on the accent is unreadable (1.03:1)
                cell_style = style
            elif title == "open faults" and not row.faults_live:
                cell_style = style + DIM  # from the last record, not the terminal's status now
            segments.append(Segment(cell, cell_style))
            segments.append(Segment(" ", style))
        strip = Strip(segments).crop_extend(scroll_x, scroll_x + width, style)
        return strip

    # -- actions --------------------------------------------------------------------------------
    def _follow(self) -> None:
        body = max(1, self.size.height - 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + body:
            self.scroll_to(y=self.cursor - body + 1, animate=False)

    def watch_cursor(self) -> None:
        self._follow()
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        if self._order:
            self.cursor = max(0, min(len(self._order) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.size.height - 2))

    def action_jump(self, where: int) -> None:
        if self._order:
            self.cursor = where if where >= 0 else len(self._order) - 1

    def action_open(self) -> None:
        if (row := self.current) is not None:
            self.post_message(self.Opened(row.terminal))

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor on the row; a double click opens it."""
        index = int(self.scroll_offset.y) + event.y - 1
        if event.y >= 1 and 0 <= index < len(self._order):
            self.cursor = index
            if event.chain >= 2:
                self.action_open()

    def action_mark(self) -> None:
        if (row := self.current) is not None:
            self.marked ^= {row.terminal}
            self.action_cursor(1)
            self.refresh()

    def mark_shown(self) -> None:
        """Mark every row the filter keeps (or unmark them all when they already are)."""
        shown = {r.terminal for r in self.shown}
        self.marked = self.marked - shown if shown <= self.marked else self.marked | shown
        self.refresh()
