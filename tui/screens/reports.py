"""Reports: maintenance records (suite runs and remedies) of every terminal, newest first, and
the inspection results of the one under the cursor; with a capacity result (``--capacity``), its
SLA verdict rows as bars under them."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label, Static

from tui.filtering import RowFilter
from tui.widgets.capacity_chart import capacity_chart
from tui.widgets.fleet_table import OUTCOME_COLOUR
from tui.widgets.footer import Footer
from tui.widgets.session_bar import SessionBar
from workbench.records import MaintenanceRun

if TYPE_CHECKING:
    from tui.app import WorkbenchApp

LIMIT = 500


class ReportsScreen(Screen[None]):
    """A table of maintenance records with a ``/`` filter, and the findings of the selected one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    DEFAULT_CSS = """
    ReportsScreen { overflow: hidden; }
    ReportsScreen #reports-table { height: 2fr; }
    ReportsScreen #reports-detail { height: 1fr; }
    ReportsScreen #reports-capacity { height: 2fr; }
    ReportsScreen #reports-filter { display: none; }
    ReportsScreen #reports-filter.-active { display: block; }
    """

    @property
    def wb(self) -> WorkbenchApp:
        return cast("WorkbenchApp", self.app)

    def compose(self) -> ComposeResult:
        yield SessionBar("Reports")
        yield DataTable(id="reports-table", cursor_type="row", zebra_stripes=True)
        yield Label("findings of the selected record:", classes="title")
        yield DataTable(id="reports-detail", cursor_type="none")
        if self.wb.capacity is not None:
            with VerticalScroll(id="reports-capacity"):
                yield Static(capacity_chart(self.wb.capacity), id="reports-chart")
        yield Input(
            placeholder="/ regex over terminal, suite, outcome, faults", id="reports-filter"
        )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#reports-table", DataTable).add_columns(
            "run",
            "terminal",
            "when",
            "suite",
            "engineer",
            "outcome",
            "pass",
            "warn",
            "fail",
            "suspected faults",
        )
        self.query_one("#reports-detail", DataTable).add_columns("test", "status", "suspect")
        self.runs: list[MaintenanceRun] = []
        self.action_reload()
        self.query_one("#reports-table", DataTable).focus()

    def action_reload(self) -> None:
        self.runs = self.wb.backend.history(None, LIMIT)
        self._fill("")

    def _fill(self, text: str) -> None:
        keep = RowFilter.parse(text)
        table = self.query_one("#reports-table", DataTable)
        table.clear()
        for run in self.runs:
            suspects = ", ".join(dict.fromkeys(f.suspect for f in run.findings if f.suspect))
            line = f"{run.terminal} {run.suite} {run.outcome} {run.engineer} {suspects}"
            if not keep.match(line):
                continue
            colour = OUTCOME_COLOUR.get(
                run.outcome or "", "green" if run.outcome == "cleared" else "red"
            )
            table.add_row(
                str(run.id),
                run.terminal,
                time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started)),
                run.suite,
                run.engineer or "",
                f"[{colour}]{run.outcome}[/]",
                str(run.counts.get("pass", 0)),
                str(run.counts.get("warn", 0)),
                str(run.counts.get("fail", 0)),
                suspects,
                key=str(run.id),
            )

    @on(DataTable.RowHighlighted, "#reports-table")
    def _detail(self, event: DataTable.RowHighlighted) -> None:
        detail = self.query_one("#reports-detail", DataTable)
        detail.clear()
        run = next((r for r in self.runs if str(r.id) == event.row_key.value), None)
        if run is None:
            return
        if not run.findings and not run.error:
            detail.add_row("(every test passed)", json.dumps(run.counts), "")
        for f in run.findings:
            colour = OUTCOME_COLOUR.get(f.status, "")
            why = f.detail.get("detail") if f.status == "error" else None  # why it was not tested
            detail.add_row(f.test, f"[{colour}]{f.status}[/]", f.suspect or why or "")
        if run.error:  # the run broke (refused, unreachable, cut off): say why
            detail.add_row("(the run)", f"[{OUTCOME_COLOUR.get('error', '')}]error[/]", run.error)

    def action_filter(self) -> None:
        box = self.query_one("#reports-filter", Input)
        box.add_class("-active")
        box.focus()

    @on(Input.Changed, "#reports-filter")
    def _filtered(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#reports-filter")
    def _kept(self, _: Input.Submitted) -> None:
        self.query_one("#reports-table", DataTable).focus()
