"""The fleet table: every terminal on one line, drawn with Textual's line API so that only the
visible rows are rendered; filtering and sorting 5,000 rows only reorders a list of indexes, and
only the screen lines whose content changed are drawn again (a keystroke that keeps the same rows
in view, a cursor move, a fan-out's progress in one row repaint that much and no more)."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
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
SORT_KEYS = {c[0]: c[3] for c in COLUMNS}
COLOURS = {name: Style(color=name) for name in ("green", "yellow", "red", "magenta")}
REACH_COLOUR = {"up": "green", "slow": "yellow", "down": "red"}


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

    # repaint=False: their watchers repaint the lines that change, not the whole table
    cursor: reactive[int] = reactive(0, repaint=False)
    sort_column: reactive[str] = reactive("terminal", repaint=False)

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
        self._order: list[int] = []  # indexes into rows of the rows shown, in display order
        self._texts: list[str] = []  # what the filter matches, per row
        self._index: dict[str, int] = {}  # terminal -> index into rows
        self._versions: list[int] = []  # bumped when a row changes: part of its line's key
        self._sorted: list[int] | None = None  # every row in sort order; None: sort again
        self._strips: LRUCache[Hashable, tuple[Strip, Style]] = LRUCache(256)  # by line key
        self._drawn: dict[int, Hashable] = {}  # screen line -> key of what is on it
        self._style_generation = 0

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
        self._versions = [v + 1 for v in self._versions[: len(self.rows)]]
        self._versions += [0] * (len(self.rows) - len(self._versions))
        self._sorted = None
        self._strips.clear()
        self._reorder(keep=current.terminal if current else None)

    def update_row(self, row: TerminalRow) -> None:
        """Change one terminal's row in place (live progress); adds it when new. Only its line
        is drawn again; the row keeps its place until the next sort or filter."""
        i = self._index.get(row.terminal)
        if i is None:
            self.set_rows([*self.rows, row])
            return
        key = SORT_KEYS[self.sort_column]
        if key(row) != key(self.rows[i]):
            self._sorted = None
        self.rows[i] = row
        self._texts[i] = row.text()
        self._versions[i] += 1
        self.refresh_changed()

    def row(self, terminal: str) -> TerminalRow | None:
        """The terminal's row (None: not listed)."""
        i = self._index.get(terminal)
        return None if i is None else self.rows[i]

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
        if self._sorted is None:
            key = SORT_KEYS[self.sort_column]
            rows = self.rows
            self._sorted = sorted(range(len(rows)), key=lambda i: key(rows[i]))
        order = self._sorted
        if self.filter.pattern is not None:
            texts = self._texts
            kept = self.filter.apply([texts[i] for i in order])
            order = [order[j] for j in kept]
        self._order = order
        size = Size(sum(c[1] + 1 for c in COLUMNS) + 30, len(order) + 1)
        if size != self.virtual_size:  # a layout for the scrollbar, without repainting every line
            self.set_reactive(FleetTable.virtual_size, size)
            self.refresh(repaint=False, layout=True)
        target = 0
        if keep is not None and (i := self._index.get(keep)) is not None:
            try:
                target = order.index(i)
            except ValueError:
                target = 0
        self.cursor = min(target, max(0, len(order) - 1))
        self._follow()
        self.refresh_changed()
        self.post_message(self.Counted(len(order), len(self.rows)))

    def watch_sort_column(self) -> None:
        self._sorted = None
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

    @property
    def shown_count(self) -> int:
        """How many rows the filter keeps."""
        return len(self._order)

    # -- drawing --------------------------------------------------------------------------------
    def _line_key(self, y: int) -> Hashable:
        """Everything a screen line's content depends on: equal keys, equal lines. The time
        counts only through what it shows: the window left, a record's 'as of' date."""
        if y == 0:
            return ("header", self.sort_column, self._style_generation)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self._order):
            return None
        i = self._order[index]
        row = self.rows[i]
        now = self._now()
        left = None if row.window_until is None else short_left(row.window_until, now)
        as_of = row.faults_text(now) if row.faults and not row.faults_live else None  # a new day
        cursor = index == self.cursor and (self.has_focus, True)
        return (i, self._versions[i], cursor, row.terminal in self.marked, left, as_of)

    def refresh_changed(self) -> None:
        """Repaint the screen lines whose key is not what was drawn there (all of them before the
        first paint); the rest stay as they are on the terminal."""
        width, height = self.size
        y = 0
        while y < height:
            if self._drawn.get(y, self) == self._line_key(y):
                y += 1
                continue
            start = y
            while y < height and self._drawn.get(y, self) != self._line_key(y):
                y += 1
            self.refresh(Region(0, start, width, y - start))

    def notify_style_update(self) -> None:
        """The theme or CSS changed: every drawn row is stale."""
        super().notify_style_update()
        self._style_generation += 1
        self._strips.clear()
        self._drawn.clear()
        self.refresh()

    def _now(self) -> float:
        return float(getattr(self.app, "clock", time.time)())

    def render_line(self, y: int) -> Strip:
        scroll_x = int(self.scroll_offset.x)
        width = self.size.width
        key = self._drawn[y] = self._line_key(y)
        if key is None:
            return Strip.blank(width, self.rich_style)
        drawn = self._strips.get(key)
        if drawn is None:
            drawn = self._strips[key] = self._draw(y, key)
        strip, pad = drawn
        return strip.crop_extend(scroll_x, scroll_x + width, pad)

    def _draw(self, y: int, key: Hashable) -> tuple[Strip, Style]:
        """The line ``y`` whole (not cropped to the view), for ``_line_key(y)`` ``key``, and the
        style to pad it with."""
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("fleet-table--header")
            text = " " + " ".join(
                title.ljust(w) if w else title for title, w, _, _ in COLUMNS
            ).replace(self.sort_column, self.sort_column + "▼", 1)
            return Strip([Segment(text, header)]), header
        row = self.rows[self._order[int(self.scroll_offset.y) + y - 1]]
        assert isinstance(key, tuple)
        style = base + self.get_component_rich_style("fleet-table--cursor") if key[2] else base
        segments = [
            Segment("●", style + self.get_component_rich_style("fleet-table--mark"))
            if key[3]
            else Segment(" ", style)
        ]
        plain: list[str] = []  # uncoloured cells are joined into one segment
        now = self._now()
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
                colour = REACH_COLOUR.get(row.reachable)
            accent = COLOURS[colour] if colour else None
            if key[2]:  # green or yellow on the cursor's accent is unreadable (1.03:1)
                accent = None
            elif title == "open faults" and not row.faults_live and cell:
                accent = DIM  # from the last record, not the terminal's status now
            if accent is None:
                plain.append(cell + " ")
                continue
            if plain:
                segments.append(Segment("".join(plain), style))
                plain = []
            segments.append(Segment(cell, style + accent))
            plain.append(" ")
        segments.append(Segment("".join(plain), style))
        return Strip(segments), style

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
        self.refresh_changed()

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
            self.refresh_changed()

    def mark_shown(self) -> None:
        """Mark every row the filter keeps (or unmark them all when they already are)."""
        shown = {r.terminal for r in self.shown}
        self.marked = self.marked - shown if shown <= self.marked else self.marked | shown
        self.refresh_changed()
