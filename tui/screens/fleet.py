"""The fleet: every terminal known (running under the state dir, granted, or on record), sorted
and filtered as you type, with a suite fanned out over the marked ones and each terminal's
progress streaming into its row."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Label

from tui.backend import TerminalRow
from tui.widgets.fleet_table import SORTABLE, FleetTable
from tui.widgets.session_bar import SessionBar

if TYPE_CHECKING:
    from tui.app import WorkbenchApp

FAN_OUT_CONCURRENCY = 20
PROBE_CONCURRENCY = 50


class FleetScreen(Screen[None]):
    """The base view: a :class:`FleetTable`, a ``/`` filter line and a status line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("s", "sort", "Sort"),
        Binding("a", "mark_all", "Mark shown"),
        Binding("i", "fan_out('inspection')", "Inspect marked"),
        Binding("u", "fan_out('quick')", "Quick marked"),
        Binding("w", "app.view('window')", "Window"),
        Binding("r", "app.view('reports')", "Reports"),
        Binding("t", "app.view('trainer')", "Trainer"),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    DEFAULT_CSS = """
    FleetScreen { overflow: hidden; }
    FleetScreen #fleet-filter { display: none; border: tall $accent; }
    FleetScreen #fleet-filter.-active { display: block; }
    FleetScreen #fleet-status { height: 1; padding: 0 1; background: $panel; }
    """

    class Loaded(Message):
        """The terminals were (re)read from the backend."""

        def __init__(self, rows: list[TerminalRow]) -> None:
            super().__init__()
            self.rows = rows

    class Progress(Message):
        """One terminal's row changed (a probe answered, a test of a fan-out finished)."""

        def __init__(self, terminal: str, **changes: object) -> None:
            super().__init__()
            self.terminal = terminal
            self.changes = changes

    class FanOutDone(Message):
        """A fan-out finished: outcome -> how many terminals."""

        def __init__(self, suite: str, tally: dict[str, int]) -> None:
            super().__init__()
            self.suite, self.tally = suite, tally

    def __init__(self) -> None:
        super().__init__()
        self.fan_out_running = False
        self._counts = (0, 0)

    @property
    def wb(self) -> WorkbenchApp:
        return cast("WorkbenchApp", self.app)

    @property
    def table(self) -> FleetTable:
        return self.query_one(FleetTable)

    def compose(self) -> ComposeResult:
        yield SessionBar("Fleet")
        yield FleetTable()
        yield Input(
            placeholder="/ regex   !regex to invert   Enter keeps it, Esc clears", id="fleet-filter"
        )
        yield Label("loading terminals…", id="fleet-status")
        yield Footer()

    def on_mount(self) -> None:
        self.table.focus()
        self.action_reload()
        self.set_interval(1.0, self.table.refresh)  # the window column counts down

    # -- loading --------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="load")
    def action_reload(self) -> None:
        rows = self.wb.backend.terminals()
        self.post_message(self.Loaded(rows))

    def on_fleet_screen_loaded(self, message: Loaded) -> None:
        self.table.set_rows(message.rows)
        self.probe([r.terminal for r in message.rows if r.reachable == "?"])

    @work(exclusive=True, group="probe")
    async def probe(self, terminals: list[str]) -> None:
        gate = asyncio.Semaphore(PROBE_CONCURRENCY)

        async def one(terminal: str) -> None:
            async with gate:
                state = await self.wb.backend.probe(terminal)
            self.post_message(self.Progress(terminal, reachable=state))

        await asyncio.gather(*(one(t) for t in terminals))

    def on_fleet_screen_progress(self, message: Progress) -> None:
        self.table.change(message.terminal, **message.changes)

    # -- filter and sort ------------------------------------------------------------------------
    def action_filter(self) -> None:
        box = self.query_one("#fleet-filter", Input)
        box.add_class("-active")
        box.focus()

    @on(Input.Changed, "#fleet-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.apply_filter(event.value)

    @on(Input.Submitted, "#fleet-filter")
    def _filter_kept(self, event: Input.Submitted) -> None:
        if not event.value:
            self.query_one("#fleet-filter", Input).remove_class("-active")
        self.table.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#fleet-filter", Input)
        if box.value or box.has_class("-active"):
            box.value = ""
            box.remove_class("-active")
            self.table.apply_filter("")
            self.table.focus()

    def action_sort(self) -> None:
        table = self.table
        table.sort_column = SORTABLE[(SORTABLE.index(table.sort_column) + 1) % len(SORTABLE)]
        self._status()

    def action_mark_all(self) -> None:
        self.table.mark_shown()
        self._status()

    def on_fleet_table_counted(self, message: FleetTable.Counted) -> None:
        self._counts = (message.shown, message.total)
        self._status()

    def _status(self) -> None:
        shown, total = self._counts
        table = self.table
        parts = [f"{total} terminals", f"{shown} shown"]
        if table.filter.text:
            kind = "literal" if table.filter.literal else "regex"
            parts.append(f"filter {kind} /{table.filter.text}")
        parts.append(f"sort {table.sort_column}")
        if table.marked:
            parts.append(f"{len(table.marked)} marked")
        self.query_one("#fleet-status", Label).update(" · ".join(parts))

    def on_fleet_table_opened(self, message: FleetTable.Opened) -> None:
        from tui.screens.terminal import TerminalScreen

        self.app.push_screen(TerminalScreen(message.terminal))

    # -- fan-out --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "fan_out":
            return None if self.fan_out_running or self.wb.backend.window() is None else True
        return True

    def action_fan_out(self, suite: str) -> None:
        targets = sorted(self.table.marked) or [r.terminal for r in self.table.shown]
        if not targets:
            self.notify("no terminals to run on", severity="warning")
            return
        self.fan_out_running = True
        self.refresh_bindings()
        self.notify(f"{suite} on {len(targets)} terminals…", title="Fan-out")
        self.fan_out(suite, targets)

    @work(exclusive=True, group="fan-out")
    async def fan_out(self, suite: str, terminals: list[str]) -> None:
        backend = self.wb.backend
        total = len(backend.suite_tests(suite)) or 1
        gate = asyncio.Semaphore(FAN_OUT_CONCURRENCY)
        tally: dict[str, int] = {}

        async def one(terminal: str) -> None:
            async with gate:
                done = 0
                self.post_message(self.Progress(terminal, progress=f"0/{total}"))
                async for line in backend.run(terminal, suite):
                    if line.get("event") == "result":
                        done += 1
                        self.post_message(self.Progress(terminal, progress=f"{done}/{total}"))
                    elif line.get("event") == "done":
                        outcome = str(line.get("outcome"))
                        tally[outcome] = tally.get(outcome, 0) + 1
                        self.post_message(self.Progress(terminal, progress=outcome))

        await asyncio.gather(*(one(t) for t in terminals))
        self.post_message(self.FanOutDone(suite, tally))

    def on_fleet_screen_fan_out_done(self, message: FanOutDone) -> None:
        self.fan_out_running = False
        self.refresh_bindings()
        summary = ", ".join(f"{n} {k}" for k, n in sorted(message.tally.items()))
        bad = any(k not in ("pass", "warn") for k in message.tally)
        self.notify(
            summary, title=f"{message.suite} done", severity="warning" if bad else "information"
        )
        self.action_reload()
