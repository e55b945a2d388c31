"""The fleet: every terminal known (running under the state dir, granted, or on record), sorted
and filtered as you type, with a suite fanned out over the marked ones and each terminal's
progress streaming into its row. Where the window reaches a terminal that answers, its open
faults are read live from its ``status`` in the background; elsewhere they are its last record's.
A terminal whose agent answers late (``slow``) or not at all (``down``, or ``-`` once its kiosk
stopped) is probed again on its own, less often each time, until it answers (``up``); a status
read that fails probes the terminal then and there."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Label

from tui.backend import RECORDS_BACK, TerminalRow, open_faults
from tui.screens.fleet_follow import Following
from tui.widgets.fleet_table import SORTABLE, FleetTable
from tui.widgets.footer import Footer
from tui.widgets.session_bar import SessionBar

if TYPE_CHECKING:
    from tui.app import WorkbenchApp
    from workbench.records import MaintenanceRun

FAN_OUT_CONCURRENCY = 20
PROBE_CONCURRENCY = 50
LIVE_CONCURRENCY = 8
"""Status reads at once: each is an SSH session in which the agent reads every device."""
LIVE_EVERY_S = 60.0
REACHED = ("up", "slow")
"""Probe states of a terminal whose agent answers (``slow``: late, on an overloaded machine)."""


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
    FleetScreen #fleet-status { height: 1; width: 1fr; padding: 0 1; background: $panel; }
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

    class Live(Message):
        """A terminal's open faults as its ``status`` reports them now (None: not readable)."""

        def __init__(self, terminal: str, faults: tuple[str, ...] | None) -> None:
            super().__init__()
            self.terminal, self.faults = terminal, faults

    class FanOutDone(Message):
        """A fan-out finished: outcome -> how many terminals."""

        def __init__(self, suite: str, tally: dict[str, int]) -> None:
            super().__init__()
            self.suite, self.tally = suite, tally

    def __init__(self) -> None:
        super().__init__()
        self.fan_out_running = False
        self._recorded: dict[str, TerminalRow] = {}  # rows as loaded, faults from the records
        self._live: dict[str, tuple[str, ...]] = {}  # open faults as the terminals reported them
        self._loaded = False  # the terminals were read once (none then: say how to start one)
        self.following = Following(self.set_timer, lambda terminal: self.reprobe(terminal))

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
        # Watched rather than told by Input.Changed: the filter runs in the keystroke's own turn,
        # so the rows and the status are repainted in the frame that shows the typed character.
        self.watch(
            self.query_one("#fleet-filter", Input), "value", self._filter_changed, init=False
        )
        self.table.focus()
        # no load here: the app loads the fleet once the backend has opened (after the first
        # frame, "loading terminals…"), when the rows' window is known (WorkbenchApp._open)
        self.set_interval(1.0, self.table.refresh_changed)  # the window column counts down
        self.set_interval(LIVE_EVERY_S, self.refresh_live)

    # -- loading --------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="load")
    def action_reload(self) -> None:
        self.load()

    def load(self) -> None:
        """Read the terminals from the backend and post them (in a worker thread: the records
        store and the state directory)."""
        self.post_message(self.Loaded(self.wb.backend.terminals()))

    def on_fleet_screen_loaded(self, message: Loaded) -> None:
        self.following.clear()  # the rows are probed afresh
        self._recorded = {r.terminal: r for r in message.rows}
        self._loaded = True
        reaches = self.wb.backend.refusal
        self._live = {t: f for t, f in self._live.items() if reaches(t) is None}
        self.table.set_rows([self._known(r) for r in message.rows])
        if not message.rows:
            self._status()  # no rows may mean no Counted: the hint shows anyway
        self.wb.fleet_loaded()
        for r in message.rows:
            self.following.listed(r.terminal, r.reachable)
        self.probe(
            [r.terminal for r in message.rows if r.reachable == "?"],
            [r.terminal for r in message.rows if r.reachable in REACHED],
        )

    def _known(self, listed: TerminalRow) -> TerminalRow:
        """A row as (re)loaded, with what is known of it until it is probed and read again: the
        open faults it reported, and what its last probe answered (rather than ``?``)."""
        if listed.terminal in self._live:
            listed = listed.with_(faults=self._live[listed.terminal], faults_live=True)
        was = self.table.row(listed.terminal) if listed.reachable == "?" else None
        return listed.with_(reachable=was.reachable) if was is not None else listed

    @work(exclusive=True, group="probe")
    async def probe(self, terminals: list[str], up: list[str]) -> None:
        """Probe the terminals not known to answer, then read the open faults of those up."""
        gate = asyncio.Semaphore(PROBE_CONCURRENCY)
        up = list(up)

        async def one(terminal: str) -> None:
            async with gate:
                state = await self.wb.backend.probe(terminal)
            self.post_message(self.Progress(terminal, reachable=state))
            if state in REACHED:
                up.append(terminal)

        await asyncio.gather(*(one(t) for t in terminals))
        self.read_live(sorted(up))

    @property
    def reprobes(self) -> dict[str, tuple[Timer, float]]:
        """Terminals to probe again on their own: the timer, and the wait it was set for."""
        return self.following.waits

    def _reached(self, terminal: str, state: str) -> None:
        """A probe's answer: a ``slow`` or ``down`` terminal (or one whose agent is no longer
        known) is followed until it answers ``up`` (one that no longer answers shows its record's
        faults again, not what it said); one that answers ``up`` after that has its open faults
        read at once, its own alone."""
        if state not in REACHED:
            self._back_to_record(terminal)
        if self.following.answered(terminal, state):
            self.read_back(terminal)

    def doubt(self, terminal: str) -> None:
        """Something could not reach ``terminal`` (a run, a remedy or a status read from its own
        screen): probe it now, unless it is followed already."""
        if terminal not in self.reprobes:
            self.reprobe(terminal)

    @work(group="reprobe")
    async def reprobe(self, terminal: str) -> None:
        """Probe one slow or down terminal again (its row says what it answered)."""
        state = await self.wb.backend.probe(terminal)
        self.post_message(self.Progress(terminal, reachable=state))

    def refresh_live(self) -> None:
        """Read the open faults again of every terminal that answered (every minute, and when
        the window changes)."""
        self.read_live([r.terminal for r in self.table.rows if r.reachable in REACHED])

    def _reachable_now(self, terminals: list[str]) -> list[str]:
        """Those of ``terminals`` whose status the session's window lets it read now."""
        backend = self.wb.backend
        window = backend.window()
        covered = set(window.principals) if window and window.open_at(self.wb.clock()) else set()
        return [t for t in terminals if t in covered and backend.refusal(t) is None]

    async def _read_status(self, terminal: str) -> None:
        """Post the terminal's open faults as its ``status`` reports them (None: unreadable, and
        then what a probe of it answers: its agent may have gone down since it was probed)."""
        backend = self.wb.backend
        try:
            faults: tuple[str, ...] | None = open_faults(await backend.status(terminal))
        except Exception:  # gone down, refused, the agent closed: the record it is
            faults = None
            self.post_message(self.Progress(terminal, reachable=await backend.probe(terminal)))
        self.post_message(self.Live(terminal, faults))

    @work(exclusive=True, group="live")
    async def read_live(self, terminals: list[str]) -> None:
        """The open faults of each terminal the window reaches, from its ``status`` (a few at a
        time); a terminal no longer reached falls back to its last record's."""
        reached = self._reachable_now(terminals)
        for terminal in set(self._live) - set(reached):
            self.post_message(self.Live(terminal, None))
        gate = asyncio.Semaphore(LIVE_CONCURRENCY)

        async def one(terminal: str) -> None:
            async with gate:
                await self._read_status(terminal)

        await asyncio.gather(*(one(t) for t in reached))

    @work(group="read-back")
    async def read_back(self, terminal: str) -> None:
        """The open faults of one terminal whose agent is back ``up`` (its row showed its record's,
        or what it said while slow): what it says now, not a minute later."""
        if self._reachable_now([terminal]):
            await self._read_status(terminal)

    def on_fleet_screen_live(self, message: Live) -> None:
        current = self.table.row(message.terminal)
        went_down = current is not None and current.reachable in ("down", "-")
        if message.faults is not None and not went_down:  # (read before it went down: stale)
            self._live[message.terminal] = message.faults
            self.table.change(message.terminal, faults=message.faults, faults_live=True)
        else:
            self._back_to_record(message.terminal)

    def record_changed(self, terminal: str, runs: Sequence[MaintenanceRun]) -> None:
        """A run or remedy on ``terminal`` was just recorded (from its screen): its row's last
        record is the newest of ``runs`` (its records, newest first, as that screen just read
        them), and its open faults are that record's unless read live."""
        recorded = self._recorded.get(terminal)
        if recorded is None:
            return
        self._recorded[terminal] = recorded = recorded.recorded(runs[:RECORDS_BACK])
        changes: dict[str, object] = {"last_outcome": recorded.last_outcome}
        changes["last_run"] = recorded.last_run
        if terminal not in self._live:
            changes["faults"] = recorded.faults
        self.table.change(terminal, **changes)

    def _back_to_record(self, terminal: str) -> None:
        """The terminal's open faults are its last record's again (it no longer answers)."""
        recorded = self._recorded.get(terminal)
        if self._live.pop(terminal, None) is not None and recorded is not None:
            self.table.change(terminal, faults=recorded.faults, faults_live=False)

    def on_fleet_screen_progress(self, message: Progress) -> None:
        self.table.change(message.terminal, **message.changes)
        if "reachable" in message.changes:
            self._reached(message.terminal, str(message.changes["reachable"]))

    # -- filter and sort ------------------------------------------------------------------------
    def action_filter(self) -> None:
        box = self.query_one("#fleet-filter", Input)
        box.add_class("-active")
        box.focus()

    def _filter_changed(self, value: str) -> None:
        self.table.apply_filter(value)
        self._status()

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
        self._status()

    def _status(self) -> None:
        table = self.table
        parts = [f"{len(table.rows)} terminals", f"{table.shown_count} shown"]
        if table.filter.text:
            kind = "literal" if table.filter.literal else "regex"
            parts.append(f"filter {kind} /{table.filter.text}")
        parts.append(f"sort {table.sort_column}")
        if table.marked:
            parts.append(f"{len(table.marked)} marked")
        status = self.query_one("#fleet-status", Label)
        text = " · ".join(parts)
        if self._loaded and not table.rows:
            text = self._empty_hint()
        if text != status.content:  # its width is fixed: no layout for a new text
            status.update(text, layout=False)

    def _empty_hint(self) -> str:
        """What a first session on an empty state directory does next: the command that brings
        a kiosk up under it (with the session's CA, as the TUI was given), then ``ctrl+r``."""
        backend = self.wb.backend
        state = getattr(backend, "state_dir", None)
        ca = getattr(backend, "ca_dir", None)
        where = f" under {state}" if state else ""
        command = f"workbench kiosk up --state-dir {state or 'DIR'}"
        if ca:
            command += f" --ca {ca}"
        return (
            f"no kiosks{where}: start one with '{command} &', then ctrl+r (a tour: workbench demo)"
        )

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
