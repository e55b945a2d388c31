"""The remote window: request one (when a CA is at hand) or load a certificate, see its
principal, allowed groups and ticket, count down to ``valid_before``, and read, terminal by
terminal, exactly why the window does not reach one (expired, other terminal, untrusted CA)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label

from tui.widgets.countdown import Countdown
from tui.widgets.footer import Footer
from tui.widgets.session_bar import SessionBar
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from tui.app import WorkbenchApp

REACH_ROWS = 200


class WindowScreen(Screen[None]):
    """Details of the window held, the terminals it reaches, and the load/request forms."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "focus_load", "Load certificate"),
        Binding("n", "focus_request", "Request window"),
    ]

    DEFAULT_CSS = """
    WindowScreen { overflow: hidden; }
    WindowScreen #window-details { height: auto; max-height: 12; }
    WindowScreen #window-reach { height: 1fr; }
    WindowScreen .form { height: auto; }
    WindowScreen .form Label { width: 14; padding: 1 1 0 1; }
    WindowScreen .form Input { width: 1fr; }
    WindowScreen #window-error { color: $error; padding: 0 1; height: auto; }
    WindowScreen #window-countdown { height: 1; }
    """

    @property
    def wb(self) -> WorkbenchApp:
        return cast("WorkbenchApp", self.app)

    def compose(self) -> ComposeResult:
        yield SessionBar("Window")
        yield Countdown(id="window-countdown")
        yield DataTable(id="window-details", show_header=False, cursor_type="none")
        yield Label("terminals and whether this window reaches them now:", classes="title")
        yield DataTable(id="window-reach", cursor_type="row")
        with Vertical(classes="form"):
            with Horizontal(classes="form"):
                yield Label("certificate")
                yield Input(placeholder="path/to/engineer-cert.pub  (Enter loads)", id="load-path")
            with Horizontal(classes="form"):
                yield Label("request for")
                yield Input(placeholder="terminal ids, comma-separated", id="req-terminals")
                yield Input(placeholder="hours (default 1)", id="req-hours")
                yield Input(value="diag,remedy", id="req-allow")
        yield Label("", id="window-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#window-details", DataTable).add_columns("what", "value")
        self.query_one("#window-reach", DataTable).add_columns("terminal", "reach")
        fleet = self.wb.fleet.table
        targets = sorted(fleet.marked) or ([fleet.current.terminal] if fleet.current else [])
        self.query_one("#req-terminals", Input).value = ",".join(targets)
        if not self.wb.backend.can_request:
            for box in ("#req-terminals", "#req-hours", "#req-allow"):
                self.query_one(box, Input).disabled = True
            self.query_one("#window-error", Label).update(
                "no CA given (--ca DIR): load a certificate the CA signed for you"
            )
        self.watch(self.app, "window_until", lambda until: self._show(until))

    def _show(self, until: int | None) -> None:
        self.query_one(Countdown).until = until
        window = self.wb.backend.window()
        details = self.query_one("#window-details", DataTable)
        details.clear()
        if window is None:
            details.add_row("window", "none: load a certificate (l) or request one (n)")
        else:
            when = "%Y-%m-%d %H:%M:%S"
            details.add_row("principal (terminals)", ", ".join(window.principals))
            details.add_row("engineer (key id)", window.engineer)
            details.add_row("allowed groups", ", ".join(window.allow) or "(nothing)")
            details.add_row("ticket", window.ticket or "-")
            details.add_row("serial", str(window.serial))
            details.add_row("valid from", time.strftime(when, time.localtime(window.valid_after)))
            details.add_row(
                "valid before", time.strftime(when, time.localtime(window.valid_before))
            )
            details.add_row("counted", "from signing, not from first use")
            details.add_row("certificate", str(window.certificate))
        self._reach()

    def _reach(self) -> None:
        reach = self.query_one("#window-reach", DataTable)
        reach.clear()
        backend = self.wb.backend
        window = backend.window()
        ids = list(window.principals) if window else []
        ids += [r.terminal for r in self.wb.fleet.table.shown[:REACH_ROWS] if r.terminal not in ids]
        for tid in ids[:REACH_ROWS]:
            why = backend.refusal(tid)
            reach.add_row(tid, f"[red]{why}[/]" if why else "[green]reachable[/]")

    def on_countdown_closed(self, _: Countdown.Closed) -> None:
        self._reach()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_request" and not self.wb.backend.can_request:
            return None
        return True

    def action_focus_load(self) -> None:
        self.query_one("#load-path", Input).focus()

    def action_focus_request(self) -> None:
        self.query_one("#req-terminals", Input).focus()

    def _error(self, text: str) -> None:
        self.query_one("#window-error", Label).update(text)

    @on(Input.Submitted, "#load-path")
    def _load(self, event: Input.Submitted) -> None:
        try:
            window = self.wb.backend.load_certificate(Path(event.value.strip()).expanduser())
        except WorkbenchError as exc:
            self._error(str(exc))
            return
        self._error("")
        self.wb.set_window(window)
        self.notify(f"window loaded: serial {window.serial}", title="Window")

    @on(Input.Submitted, "#req-terminals, #req-hours, #req-allow")
    def _request(self, _: Input.Submitted) -> None:
        terminals = [t.strip() for t in self.query_one("#req-terminals", Input).value.split(",")]
        hours_text = self.query_one("#req-hours", Input).value.strip()
        allow = [g.strip() for g in self.query_one("#req-allow", Input).value.split(",")]
        try:
            hours = float(hours_text) if hours_text else None
        except ValueError:
            self._error(f"hours(={hours_text!r}) must be a number")
            return
        try:
            window = self.wb.backend.request_window(
                [t for t in terminals if t], hours, [g for g in allow if g], self.wb.reason or ""
            )
        except WorkbenchError as exc:
            self._error(str(exc))
            return
        self._error("")
        self.wb.set_window(window)
        self.notify(f"window granted: serial {window.serial}", title="Window")
        self.query_one("#window-reach", DataTable).focus()
