"""The TUI against a fake backend, driven by key presses through ``App.run_test()``: the fleet's
filter and sort, a terminal's streamed results and confirmed remedy, the window's countdown and
disabled actions, F1, ``:``, Esc, the session's reason, themes and the fan-out."""

from __future__ import annotations

import asyncio
import sys

import pytest
from fake_backend import NOW, FakeBackend
from waits import filter_fleet, jump, on_top, type_into, until

from tui.app import WorkbenchApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.fleet import FleetScreen
from tui.screens.help import HelpScreen
from tui.screens.pick import PickScreen
from tui.screens.reason import ReasonScreen
from tui.screens.reports import ReportsScreen
from tui.screens.terminal import TerminalScreen
from tui.screens.window import WindowScreen
from tui.widgets.countdown import Countdown

pytestmark = pytest.mark.timeout(45)  # key presses are slow on a loaded 2-core machine
SIZE = (130, 40)


def app_for(backend: FakeBackend, reason: str | None = "INC-2041") -> WorkbenchApp:
    return WorkbenchApp(backend, reason=reason, clock=lambda: NOW)


def cell_text(screen: TerminalScreen, table_id: str) -> list[list[str]]:
    from textual.widgets import DataTable

    table = screen.query_one(table_id, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_fleet_filters_as_you_type_inverts_and_sorts() -> None:
    app = app_for(FakeBackend(40))
    async with app.run_test(size=SIZE) as pilot:
        table = app.fleet.table
        await until(pilot, lambda: len(table.rows) == 40)
        await pilot.press("slash")
        await type_into(pilot, FleetScreen, "#fleet-filter", *"00[12]")
        expected = ["KSK-0001", "KSK-0002", *(f"KSK-00{i}" for i in range(10, 30))]
        await until(pilot, lambda: [r.terminal for r in table.shown] == expected)
        await pilot.press("end", "ctrl+u")  # bindings: they act once the key is up at the app
        await until(pilot, lambda: table.filter.text == "")
        await pilot.press(*"!pass")  # typed: each lands in the box's own turn
        await until(pilot, lambda: table.filter.text == "!pass")
        assert all(r.last_outcome != "pass" for r in table.shown) and table.shown
        await pilot.press("escape")
        await until(pilot, lambda: on_top(app, FleetScreen, "FleetTable"))
        assert len(table.shown) == 40 and table.filter.text == ""
        await pilot.press("s", "s", "s", "s")  # terminal -> profile -> site -> reach -> last
        await until(pilot, lambda: table.sort_column == "last")
        outcomes = [r.last_outcome or "" for r in table.shown]
        assert outcomes == sorted(outcomes)
        assert "sort last" in str(app.screen.query_one("#fleet-status").render())


async def test_a_whole_session_on_one_terminal() -> None:
    backend = FakeBackend()
    app = app_for(backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await filter_fleet(pilot, "0002")
        await pilot.press("enter")
        await until(pilot, lambda: on_top(app, TerminalScreen))
        screen = app.screen
        assert isinstance(screen, TerminalScreen) and screen.terminal == "KSK-0002"
        backend.gate = asyncio.Event()
        await pilot.press("i")
        await until(pilot, lambda: screen.busy)
        assert cell_text(screen, "#results-table") == []  # nothing yet: the gate holds the run
        assert screen.check_action("remedy", ()) is None  # no remedy while a suite runs
        backend.gate.set()
        await until(pilot, lambda: not screen.busy)
        rows = cell_text(screen, "#results-table")
        assert [r[0] for r in rows] == ["exterior", "power", "display", "print_head"]
        assert rows[3][1:4] == ["[red]fail[/]", "printer.offline", "printer.reset"]
        last = screen.query_one("#terminal-last").render()
        assert str(last) == "inspection: fail (maintenance run 1)"
        await pilot.press("m")
        await type_into(pilot, PickScreen, "OptionList", "enter")
        await until(pilot, lambda: on_top(app, ConfirmScreen))
        await pilot.press("y")
        await until(
            pilot, lambda: backend.remedies == [("KSK-0002", "printer.reset")] and not screen.busy
        )
        await until(pilot, lambda: cell_text(screen, "#results-table")[3][1] == "[green]pass[/]")
        assert "cleared" in str(screen.query_one("#terminal-last").render())
        trail = [r[1:3] for r in cell_text(screen, "#trail-table")]
        assert trail == [["run inspection", "[red]fail[/]"], ["remedy printer.reset", "cleared"]]
        await pilot.press("escape")
        await until(pilot, lambda: on_top(app, FleetScreen))


async def test_declined_remedy_does_nothing() -> None:
    backend = FakeBackend()
    app = app_for(backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await pilot.press("down", "enter")
        await until(pilot, lambda: on_top(app, TerminalScreen))
        await pilot.press("m")
        await type_into(pilot, PickScreen, "OptionList", "enter")
        await until(pilot, lambda: on_top(app, ConfirmScreen))
        await pilot.press("n")
        await until(pilot, lambda: on_top(app, TerminalScreen))
        await pilot.pause()
        assert backend.remedies == []


async def test_closed_window_disables_actions_and_says_why() -> None:
    backend = FakeBackend(window_left_s=-60)
    app = app_for(backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await pilot.press("enter")
        await until(pilot, lambda: on_top(app, TerminalScreen))
        screen = app.screen
        assert isinstance(screen, TerminalScreen)
        reach = lambda: str(screen.query_one("#terminal-reach").render())  # noqa: E731
        await until(pilot, lambda: reach().startswith("remote actions disabled"))
        assert reach() == "remote actions disabled: expired: the window closed at 14:32"
        assert screen.check_action("run", ("inspection",)) is None
        await pilot.press("i")
        assert backend.runs == []
        assert screen.query_one(Countdown).has_class("-closed")


async def test_countdown_warns_in_the_last_ten_minutes() -> None:
    def countdown(app: WorkbenchApp) -> Countdown:
        return app.screen.query_one(Countdown)

    app = app_for(FakeBackend(window_left_s=9 * 60 + 30))
    async with app.run_test(size=SIZE) as pilot:  # the window is known once the backend opens
        await until(pilot, lambda: str(countdown(app).render()).endswith("[9m left]"))
        assert countdown(app).has_class("-warning")
    app = app_for(FakeBackend(window_left_s=47 * 60 + 10))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: str(countdown(app).render()).endswith("[47m left]"))
        assert not countdown(app).has_class("-warning")


async def test_window_screen_requests_a_window_and_names_refusals() -> None:
    backend = FakeBackend(window_left_s=None)
    app = app_for(backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await pilot.press("space", "space", "w")
        await until(pilot, lambda: on_top(app, WindowScreen))
        await pilot.press("n")
        await until(pilot, lambda: on_top(app, WindowScreen, "#req-terminals"))
        boxes = app.screen.query("Input")
        assert boxes[1].value == "KSK-0001,KSK-0002"
        await pilot.press("enter")
        await until(pilot, lambda: backend.window() is not None)
        window = backend.window()
        assert window is not None and window.principals == ("KSK-0001", "KSK-0002")
        assert window.ticket == "INC-2041"  # the session's reason
        await until(pilot, lambda: len(cell_text(app.screen, "#window-reach")) == 12)  # type: ignore[arg-type]
        reach = cell_text(app.screen, "#window-reach")  # type: ignore[arg-type]
        assert reach[0] == ["KSK-0001", "[green]reachable[/]"]
        assert reach[2] == [
            "KSK-0003",
            "[red]other terminal: the certificate is for KSK-0001, KSK-0002[/]",
        ]
        await pilot.press("escape")
        await until(pilot, lambda: on_top(app, FleetScreen))


async def test_reason_is_asked_first_and_recorded() -> None:
    backend = FakeBackend()
    app = app_for(backend, reason=None)
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, ReasonScreen, "#reason", "enter")  # empty: refused
        error = lambda: str(app.screen.query_one("#reason-error").render())  # noqa: E731
        await until(pilot, lambda: error() == "a reason is required (a ticket id)")
        assert backend.sessions == []
        await pilot.press(*"INC-77", "enter")
        await until(pilot, lambda: backend.sessions == ["INC-77"])
        assert "reason INC-77" in app.session_text
    assert backend.ended


class CertBackend(FakeBackend):
    """Opens as a certificate given at start would: the engineer is its key id, known only once
    it is read (after the first frame)."""

    def __init__(self) -> None:
        super().__init__()
        self.engineer = "tui@workbench"
        self.who: list[str] = []

    def open(self) -> None:
        super().open()
        self.engineer = "bob@support"

    def start_session(self, reason: str) -> None:
        self.who.append(self.engineer)
        super().start_session(reason)


async def test_session_is_recorded_once_the_certificate_is_read() -> None:
    backend = CertBackend()
    app = app_for(backend, reason="INC-5")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: backend.sessions == ["INC-5"])
        assert backend.who == ["bob@support"]
        await until(pilot, lambda: "bob@support · reason INC-5" in app.session_text)


async def test_a_refused_certificate_stops_the_app_with_its_error() -> None:
    from workbench.errors import ConfigError

    backend = FakeBackend()
    backend.open_error = ConfigError("alice-cert.pub: this certificate is for another key")
    app = app_for(backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.failed is not None)
    assert app.failed is backend.open_error
    assert app.return_code == 1
    assert backend.sessions == []  # nothing recorded under a refused identity


async def test_help_jump_and_back() -> None:
    app = app_for(FakeBackend())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        from textual.widgets import DataTable

        await pilot.press("f1")
        await until(
            pilot, lambda: on_top(app, HelpScreen) and app.screen.query_one(DataTable).row_count
        )
        table = app.screen.query_one(DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        described = {r[1] for r in rows}
        assert {"Filter", "Sort", "Inspect marked", "Help", "Jump", "Quit", "Down"} <= described
        await pilot.press("escape")
        await until(pilot, lambda: on_top(app, FleetScreen))
        await jump(pilot, "reports")
        await until(pilot, lambda: on_top(app, ReportsScreen))
        await jump(pilot, "KSK-0003")
        await until(pilot, lambda: on_top(app, TerminalScreen))
        assert isinstance(app.screen, TerminalScreen) and app.screen.terminal == "KSK-0003"
        assert len(app.screen_stack) == 3  # jumping goes back to the fleet first
        await pilot.press("escape")
        await until(pilot, lambda: on_top(app, FleetScreen))


async def test_palette_and_theme() -> None:
    app = app_for(FakeBackend())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        from textual.command import CommandList, CommandPalette

        def first_hit() -> str:  # the palette's highlighted command, once it has searched
            hits = app.screen.query_one(CommandList)
            if hits.highlighted is None:
                return ""
            return str(hits.get_option_at_index(hits.highlighted).prompt)

        await pilot.press("ctrl+t")
        await until(pilot, lambda: app.theme == "textual-light")
        await pilot.press("ctrl+p")
        await type_into(pilot, CommandPalette, "Input", *"Reports")
        await until(pilot, lambda: first_hit().startswith("Reports"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReportsScreen))


async def test_fan_out_streams_progress_into_each_row() -> None:
    backend = FakeBackend(30)
    app = app_for(backend)
    async with app.run_test(size=SIZE) as pilot:
        table = app.fleet.table
        await until(pilot, lambda: len(table.rows) == 30)
        backend.gate = asyncio.Event()
        await pilot.press("space", "space", "space", "space", "i")
        await until(pilot, lambda: table.rows[3].progress == "refused")  # not in the window
        assert [r.progress for r in table.rows[:5]] == ["0/4", "0/4", "0/4", "refused", ""]
        assert app.screen.check_action("fan_out", ("quick",)) is None
        backend.gate.set()
        await until(pilot, lambda: table.rows[2].progress == "pass")
        assert [r.progress for r in table.rows[:4]] == ["pass", "fail", "pass", "refused"]
        assert sorted(backend.runs) == [(f"KSK-000{i}", "inspection") for i in range(1, 5)]


async def test_click_moves_the_cursor_and_double_click_opens() -> None:
    from tui.widgets.fleet_table import FleetTable

    app = app_for(FakeBackend())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await pilot.click(FleetTable, offset=(3, 3))  # the header is line 0
        current = lambda: app.fleet.table.current  # noqa: E731
        await until(pilot, lambda: current() is not None and current().terminal == "KSK-0003")  # type: ignore[union-attr]
        await pilot.double_click(FleetTable, offset=(3, 5))
        await until(pilot, lambda: isinstance(app.screen, TerminalScreen))
        assert app.screen.terminal == "KSK-0005"


async def test_trainer_injects_clears_and_applies_a_stimulus() -> None:
    from tui.screens.trainer import TrainerScreen

    backend = FakeBackend(window_left_s=None)  # a trainer: no window
    app = app_for(backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await pilot.press("t")
        await until(pilot, lambda: on_top(app, TrainerScreen))
        screen = app.screen
        assert isinstance(screen, TrainerScreen) and screen.terminal == "KSK-0001"
        await until(pilot, lambda: "0 active" in str(screen.query_one("#trainer-state").render()))
        await pilot.press("down", "i")
        await until(pilot, lambda: on_top(app, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: backend.injected == [("KSK-0001", "display.panel_off")])
        await until(pilot, lambda: "1 active" in str(screen.query_one("#trainer-state").render()))
        await pilot.press("s")
        await type_into(pilot, PickScreen, "OptionList", "enter")
        await until(pilot, lambda: backend.stimuli == [("KSK-0001", "insert-note 20")])


async def test_trainer_lists_scorecards_and_refreshes_them_on_o() -> None:
    from textual.widgets import DataTable

    from tui.screens.trainer import TrainerScreen
    from workbench.records import Scorecard

    backend = FakeBackend(window_left_s=None)  # a trainer: no window
    app = app_for(backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await pilot.press("t")
        await until(pilot, lambda: on_top(app, TrainerScreen))
        screen = app.screen
        assert isinstance(screen, TrainerScreen)
        scores = screen.query_one("#trainer-scores", DataTable)
        rows = lambda: [[str(c) for c in scores.get_row_at(i)] for i in range(scores.row_count)]  # noqa: E731
        await until(pilot, lambda: scores.row_count == 1)
        assert rows()[0][:4] == ["printer-jam", "trainee1@class", "KSK-0001", "7/10"]
        backend.cards.append(Scorecard("cash-low", "trainee2@class", None, NOW, 9.5, 10, id=2))
        await pilot.pause()
        assert scores.row_count == 1  # only on the key
        await pilot.press("o")
        await until(pilot, lambda: scores.row_count == 2)
        assert rows()[0][:4] == ["cash-low", "trainee2@class", "-", "9.5/10"]
        assert rows()[0][4] == "2026-11-30 00:53"


async def test_reports_chart_a_capacity_result_as_bars() -> None:
    from textual.widgets import Static

    doc = {
        "plan": "national",
        "verdict": {
            "line": "SLA verdict: FAILS (1 holds, 1 fails)",
            "rows": [
                {"clause": "p1_onsite", "scope": "overall", "target": 0.9, "share": 0.95,
                 "verdict": "holds"},
                {"clause": "p2_restore", "scope": "north", "target": 0.8, "share": 0.5,
                 "verdict": "fails"},
            ],
        },
    }  # fmt: skip
    app = WorkbenchApp(FakeBackend(), reason="INC-2041", clock=lambda: NOW, capacity=doc)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await jump(pilot, "reports")
        await until(pilot, lambda: isinstance(app.screen, ReportsScreen))
        chart = app.screen.query_one("#reports-chart", Static)
        lines = str(chart.render()).splitlines()
        assert lines[0] == "national: SLA verdict: FAILS (1 holds, 1 fails)"
        holds = "█" * 36 + "|" + "█" + "··"  # 95 % filled, the target's mark at 90 %
        fails = "█" * 20 + "·" * 12 + "|" + "·" * 7  # 50 % filled, the mark at 80 %
        assert lines[1] == f"north p2_restore  {fails}  50.0 % vs 80 %  fails"  # failing first
        assert lines[2] == f"overall p1_onsite {holds}  95.0 % vs 90 %  holds"


@pytest.mark.timeout(60)
async def test_reports_chart_a_capacity_sweep_per_scope(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import Static

    from tui.widgets.capacity_chart import load_capacity

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workbench.cli", "capacity", "sweep",
        "--vary", "engineers=150,250", "--reps", "2", "--years", "0.05",
        "--out", str(tmp_path / "sweep.json"),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    doc = load_capacity(tmp_path / "sweep.json")
    app = WorkbenchApp(FakeBackend(), reason="INC-2041", clock=lambda: NOW, capacity=doc)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.fleet.table.rows) == 12)
        await jump(pilot, "reports")
        await until(pilot, lambda: isinstance(app.screen, ReportsScreen))
        text = str(app.screen.query_one("#reports-chart", Static).render())
    titles = [line.strip() for line in text.splitlines() if "SLA attainment" in line]
    scopes = [t.split("(")[1].split(";")[0] for t in titles]
    assert scopes[0] == "overall" and len(scopes) == 7  # overall, then the six regions
    assert "engineers" in text and "1 P1 on site <= 1 h" in text  # the axis and the legend
    assert "150.0" in text and "250.0" in text  # the swept values on the x axis


def test_a_sweep_file_without_points_is_one_line_naming_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tui.widgets.capacity_chart import load_capacity
    from workbench.errors import ConfigError

    empty = tmp_path / "sweep.csv"
    empty.write_text("param,value,reps,metric,mean,ci95\n")
    with pytest.raises(ConfigError, match=r"sweep.csv: no sweep points"):
        load_capacity(empty)


async def test_start_up_is_frozen_out_of_the_collector_once_the_rows_are_in() -> None:
    """``workbench tui`` (``freeze_gc=True``): once the backend is open and the fleet's rows are
    in, what exists is out of the garbage collector's reach (a full collection no longer walks the
    rows and widgets); the app works as before, and closing gives it all back."""
    import gc

    app = WorkbenchApp(FakeBackend(40), reason="INC-1", clock=lambda: NOW, freeze_gc=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.gc_frozen)
        table = app.fleet.table
        assert len(table.rows) == 40 and gc.get_freeze_count() > 1000
        assert not any(o is table for o in gc.get_objects())
        await filter_fleet(pilot, "0002")
        assert [r.terminal for r in table.shown] == ["KSK-0002"]
    assert gc.get_freeze_count() == 0
    assert not app_for(FakeBackend()).freeze_gc  # tests start many apps: none freezes
