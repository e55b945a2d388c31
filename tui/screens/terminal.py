"""One terminal: its devices and their live status, suites with results streaming in as each
test finishes, remedies (confirmed, then re-tested), its logs, this session's trail and its
maintenance history."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Label, RichLog, TabbedContent, TabPane

from tui.backend import RemedyView, open_faults
from tui.screens.confirm import ConfirmScreen
from tui.screens.pick import PickScreen
from tui.screens.terminal_rows import (
    MEASUREMENTS_WIDTH,
    RESULT_COLUMNS,
    device_rows,
    log_text,
    measurements,
    status_text,
)
from tui.widgets.countdown import Countdown
from tui.widgets.footer import Footer
from tui.widgets.session_bar import SessionBar

if TYPE_CHECKING:
    from tui.app import WorkbenchApp
    from workbench.records import MaintenanceRun

STATUS_EVERY_S = 15.0
LOGS_EVERY_S = 5.0
TABS = ("results", "devices", "logs", "trail", "history")


class TerminalScreen(Screen[None]):
    """Everything about one terminal, in tabs; remote actions need the window to reach it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "run('inspection')", "Inspection"),
        Binding("u", "run('quick')", "Quick"),
        Binding("d", "run_device", "Device suite"),
        Binding("m", "remedy", "Remedy"),
        Binding("l", "logs", "Logs"),
        Binding("v", "devices", "Devices"),
        Binding("1", "tab('results')", "Results", show=False),
        Binding("2", "tab('devices')", "Devices", show=False),
        Binding("3", "tab('logs')", "Logs", show=False),
        Binding("4", "tab('trail')", "Trail", show=False),
        Binding("5", "tab('history')", "History", show=False),
    ]

    DEFAULT_CSS = """
    TerminalScreen { overflow: hidden; }
    TerminalScreen TabbedContent { height: 1fr; }
    TerminalScreen TabPane { height: 1fr; padding: 0; }
    TerminalScreen #terminal-head { height: 1; padding: 0 1; text-style: bold; }
    TerminalScreen #terminal-reach { height: auto; }
    TerminalScreen #terminal-last { height: auto; padding: 0 1; }
    TerminalScreen DataTable { height: 1fr; }
    """

    class Line(Message):
        """A line of a suite run (a ``result`` as each test finishes, then ``done``)."""

        def __init__(self, line: dict[str, Any]) -> None:
            super().__init__()
            self.line = line

    class RemedyDone(Message):
        """A remedy finished, with its re-test."""

        def __init__(self, view: RemedyView) -> None:
            super().__init__()
            self.view = view

    class Status(Message):
        """The terminal's live status arrived (or could not be read: ``error``)."""

        def __init__(self, status: dict[str, Any], error: str | None = None) -> None:
            super().__init__()
            self.status, self.error = status, error

    class Logs(Message):
        """New log entries."""

        def __init__(self, entries: list[dict[str, Any]], error: str | None = None) -> None:
            super().__init__()
            self.entries, self.error = entries, error

    def __init__(self, terminal: str) -> None:
        super().__init__()
        self.terminal = terminal
        self.busy = False
        self._log_since: float | None = None
        self._suspects: dict[str, str] = {}

    @property
    def wb(self) -> WorkbenchApp:
        return cast("WorkbenchApp", self.app)

    def compose(self) -> ComposeResult:
        yield SessionBar(f"Terminal {self.terminal}")
        yield Label(self.terminal, id="terminal-head")
        yield Label("", id="terminal-reach", classes="refused")
        yield Label("", id="terminal-last")
        with TabbedContent(initial="results"):
            with TabPane("Results", id="results"):
                yield DataTable(id="results-table", cursor_type="row")
            with TabPane("Devices", id="devices"):
                yield DataTable(id="devices-table", cursor_type="row")
            with TabPane("Logs", id="logs"):
                yield RichLog(id="logs-log", markup=False, max_lines=5000)
            with TabPane("Trail", id="trail"):
                yield DataTable(id="trail-table", cursor_type="row")
            with TabPane("History", id="history"):
                yield DataTable(id="history-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        results = self.query_one("#results-table", DataTable)
        for title, width in RESULT_COLUMNS:  # fixed: columns must not jump as results stream in
            results.add_column(title, width=width)
        self.query_one("#devices-table", DataTable).add_columns("device", "ports", "now", "suspect")
        self.query_one("#trail-table", DataTable).add_columns("time", "action", "outcome", "detail")
        self.query_one("#history-table", DataTable).add_columns(
            "run", "when", "suite", "engineer", "outcome", "failing tests / suspected faults"
        )
        self._head()
        self.set_interval(1.0, self._head)  # the agent's reach, as the fleet last probed it
        self.query_one("#results-table", DataTable).focus()
        self._reach()
        runs = self._history()
        self.query_one("#terminal-last", Label).update(  # until something runs here
            f"last record: {runs[0].suite} {status_text(runs[0].outcome or '')} "
            f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(runs[0].started))}"
            f" (run {runs[0].id}; 5: History)"
            if runs
            else "no maintenance record yet"
        )
        self._trail()
        self.watch(self.app, "window_until", lambda _: self._reach())
        self._status()
        self.set_interval(STATUS_EVERY_S, self._poll_status)
        self.set_interval(LOGS_EVERY_S, self._poll_logs)

    def _head(self) -> None:
        """The line under the title, as the fleet last probed the terminal; back ``up``, its
        devices are read again at once (the tab says what failed while it was away)."""
        r = self.wb.fleet.table.row(self.terminal)
        if r is None:
            return
        label = self.query_one("#terminal-head", Label)
        text = f"{r.terminal} · {r.profile} · site {r.site} · agent {r.reachable}"
        if text != label.content:
            back = r.reachable == "up" and bool(label.content)
            label.update(text)
            if back:
                self._status()

    # -- reach: the window and its refusal reasons ----------------------------------------------
    def _refusal(self) -> str | None:
        return self.wb.backend.refusal(self.terminal)

    def _reach(self) -> None:
        why = self._refusal()
        label = self.query_one("#terminal-reach", Label)
        label.update(f"remote actions disabled: {why}" if why else "")
        label.display = why is not None  # no blank line where nothing is disabled
        self.refresh_bindings()

    def on_countdown_closed(self, _: Countdown.Closed) -> None:
        self._reach()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("run", "run_device", "remedy", "logs", "devices"):
            if self.busy and action in ("run", "run_device", "remedy"):
                return None
            if self._refusal() is not None:
                return None
            window = self.wb.backend.window()
            if action == "remedy" and window is not None and "remedy" not in window.allow:
                return None
        return True

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    # -- suites ---------------------------------------------------------------------------------
    def action_run(self, suite: str) -> None:
        if self.check_action("run", ()) is not True:
            self.notify(f"cannot run: {self._refusal() or 'busy'}", severity="warning")
            return
        self.busy = True
        self.refresh_bindings()
        table = self.query_one("#results-table", DataTable)
        table.clear()
        self._suspects.clear()
        self.action_tab("results")
        self.query_one("#terminal-last", Label).update(f"running {suite}…")
        self._run(suite)

    def action_run_device(self) -> None:
        suites = [s for s in self.wb.backend.suites() if s.startswith("device:")]
        self.app.push_screen(
            PickScreen("Run which device's tests?", [(s, s) for s in suites]),
            lambda s: self.action_run(s) if s else None,
        )

    @work(exclusive=True, group="run")
    async def _run(self, suite: str) -> None:
        async for line in self.wb.backend.run(self.terminal, suite):
            self.post_message(self.Line({**line, "suite": suite}))

    def on_terminal_screen_line(self, message: Line) -> None:
        line = message.line
        table = self.query_one("#results-table", DataTable)
        if line.get("event") == "result":
            test = str(line.get("test"))
            cells = (
                test,
                status_text(str(line.get("status"))),
                str(line.get("suspect") or ""),
                str(line.get("remedy") or line.get("hint") or ""),
                measurements(line)[:MEASUREMENTS_WIDTH],
            )
            self._suspects[test] = str(line.get("suspect") or "")
            if test in {str(k.value) for k in table.rows}:
                for col, value in zip(table.columns, cells, strict=False):
                    table.update_cell(test, col, value)
            else:
                table.add_row(*cells, key=test)
            table.move_cursor(row=table.get_row_index(test))
        elif line.get("event") == "done":
            self.busy = False
            self.refresh_bindings()
            outcome = str(line.get("outcome"))
            text = f"{line.get('suite')}: {status_text(outcome)}"
            if line.get("error"):
                text += f" ({line['error']})"
            elif line.get("run_id"):
                text += f" (maintenance run {line['run_id']})"
            self.query_one("#terminal-last", Label).update(text)
            self.notify(
                text,
                title=self.terminal,
                severity="information" if outcome in ("pass", "warn") else "warning",
            )
            self.wb.fleet.record_changed(self.terminal, self._history())
            if outcome == "error":  # broke: the agent may be down
                self.wb.fleet.doubt(self.terminal)
            self._trail()
            self._status()

    # -- remedies -------------------------------------------------------------------------------
    def _failing(self) -> list[str]:
        return [s for s in self._suspects.values() if s]

    def action_remedy(self) -> None:
        backend = self.wb.backend
        options: list[tuple[str, str]] = []
        for suspect in [s for s in self._failing() if s]:
            for name in backend.remedies_for(suspect):
                options.append((name, f"{name}  (for {suspect})"))
        title = "Apply which remedy?"
        if not options:
            stuck = ", ".join(self._failing())
            if stuck:
                title = f"No remote remedy for {stuck} (a site visit). Apply another remedy?"
            options = [(n, n) for n in backend.remedies_for(None)]
        options = list(dict(options).items())
        self.app.push_screen(PickScreen(title, options), self._confirm_remedy)

    def _confirm_remedy(self, name: str | None) -> None:
        if not name:
            return
        question = f"Apply {name} on {self.terminal}? It acts on the terminal; a re-test follows."
        self.app.push_screen(
            ConfirmScreen(question), lambda yes: self._remedy(name) if yes else None
        )

    def _remedy(self, name: str) -> None:
        self.busy = True
        self.refresh_bindings()
        self.query_one("#terminal-last", Label).update(f"remedy {name}…")
        self._apply(name)

    @work(exclusive=True, group="run")
    async def _apply(self, name: str) -> None:
        try:
            view = await self.wb.backend.remedy(self.terminal, name)
        except Exception as exc:  # a refused window, an unreachable agent: said, not raised
            view = RemedyView(self.terminal, name, "error", str(exc))
        self.post_message(self.RemedyDone(view))

    def on_terminal_screen_remedy_done(self, message: RemedyDone) -> None:
        view = message.view
        self.busy = False
        self.refresh_bindings()
        if view.retest:  # the re-test's row changes in the same frame as the line saying so
            self.on_terminal_screen_line(self.Line({"event": "result", **view.retest}))
        colour = "green" if view.outcome == "cleared" else "red"
        text = f"remedy {view.action}: [{colour}]{view.outcome}[/] ({view.detail})"
        self.query_one("#terminal-last", Label).update(text)
        self.notify(
            text,
            title=self.terminal,
            severity="information" if view.outcome == "cleared" else "error",
        )
        self.wb.fleet.record_changed(self.terminal, self._history())
        if view.outcome == "error":
            self.wb.fleet.doubt(self.terminal)
        self._trail()
        self._status()

    # -- status and logs ------------------------------------------------------------------------
    def _poll_status(self) -> None:
        if self.is_current and self._refusal() is None:
            self._status()

    def action_devices(self) -> None:
        """``v``: the Devices tab, read again now (as ``l`` is the Logs tab)."""
        self.action_tab("devices")
        self._status()

    def _status(self) -> None:
        if self._refusal() is None:
            self._fetch_status()

    @work(exclusive=True, group="status")
    async def _fetch_status(self) -> None:
        try:
            self.post_message(self.Status(await self.wb.backend.status(self.terminal)))
        except Exception as exc:
            self.post_message(self.Status({}, str(exc)))

    def on_terminal_screen_status(self, message: Status) -> None:
        table = self.query_one("#devices-table", DataTable)
        table.clear()
        if message.error:
            table.add_row("-", message.error, "", "")
            self.wb.fleet.doubt(self.terminal)
            return
        # what it says now is its fleet row's open faults too
        self.wb.fleet.post_message(self.wb.fleet.Live(self.terminal, open_faults(message.status)))
        for cells in device_rows(message.status, self.wb.backend.suite_tests):
            table.add_row(*cells)

    def _poll_logs(self) -> None:
        if self.is_current and self._refusal() is None:
            self._fetch_logs()

    def action_logs(self) -> None:
        self.action_tab("logs")
        if self._refusal() is None:
            self._fetch_logs()

    @work(exclusive=True, group="logs")
    async def _fetch_logs(self) -> None:
        try:
            self.post_message(self.Logs(await self.wb.backend.logs(self.terminal, self._log_since)))
        except Exception as exc:
            self.post_message(self.Logs([], str(exc)))

    def on_terminal_screen_logs(self, message: Logs) -> None:
        log = self.query_one("#logs-log", RichLog)
        if message.error:
            log.write(f"logs: {message.error}")
        for entry in message.entries:
            t = float(entry.get("time") or 0)
            self._log_since = max(self._log_since or 0.0, t)
            stamp = time.strftime("%H:%M:%S", time.localtime(t))
            log.write(f"{stamp} {entry.get('kind', '')} {log_text(entry)}")

    # -- records --------------------------------------------------------------------------------
    def _history(self) -> list[MaintenanceRun]:
        """Fill the History tab: the terminal's records, newest first (returned)."""
        table = self.query_one("#history-table", DataTable)
        table.clear()
        runs = self.wb.backend.history(self.terminal)
        for run in runs:
            table.add_row(
                str(run.id),
                time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started)),
                run.suite,
                run.engineer or "",
                status_text(run.outcome or ""),
                run.what_went_wrong(),
            )
        return runs

    def _trail(self) -> None:
        table = self.query_one("#trail-table", DataTable)
        table.clear()
        for e in self.wb.backend.trail(self.terminal):
            table.add_row(
                time.strftime("%H:%M:%S", time.localtime(e.time)),
                e.action,
                status_text(e.outcome),
                e.detail,
            )
