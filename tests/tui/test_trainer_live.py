"""The trainer's screen against a real simulated kiosk with its SSH agent and scenario stage on
loopback, key by key through ``App.run_test()``: start a library scenario on the running kiosk,
see it inject, let a trainee fix it through ``workbench remote``, see the fault list follow and
their commands in the audit log, score the run now and read the stored scorecard."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_testkit import workbench_cli as trainee_cli
from textual.widgets import DataTable, Label
from waits import on_top, until

from devices.kiosk import KioskHost
from remote.window import CertificateAuthority, engineer_key
from scenarios.library import available
from scenarios.stage import stage_extra
from scenarios.wiring import kiosk_backend, kiosk_extra
from tui.app import WorkbenchApp
from tui.live import LiveBackend
from tui.screens.confirm import ConfirmScreen
from tui.screens.library import LibraryScreen
from tui.screens.scorecard import ScorecardScreen
from tui.screens.trainer import TrainerScreen

TID = "KSK-0051"
SCENARIO = "display-brightness-low"


def text(screen, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(screen.query_one(selector, Label).render())


@pytest.mark.timeout(60)
async def test_start_a_scenario_watch_it_inject_and_score_it(
    state_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    ca_dir = state_dir / "ca"
    ca = CertificateAuthority.init(ca_dir)
    extras = [kiosk_extra(ca_dir, kiosk_backend), stage_extra(ca_dir)]
    async with KioskHost(state_dir, "bill_payment", [TID], speed=60, extras=extras) as host:
        key = engineer_key(state_dir / "t1", "t1@class")
        cert = state_dir / "t1-cert.pub"
        grant = ca.grant([TID], key.convert_to_public(), allow=("diag", "remedy"))
        cert.write_bytes(grant.certificate)
        connect = ["--endpoints", str(state_dir / TID / "endpoints.json"), "--key"]
        connect += [str(state_dir / "t1"), "--cert", str(cert)]
        connect += ["--known-hosts", str(ca_dir / "known_hosts")]

        app = WorkbenchApp(LiveBackend(state_dir, engineer="trainer@class"), reason="CLASS-7")
        async with app.run_test(size=(140, 44)) as pilot:
            await until(pilot, lambda: [r.terminal for r in app.fleet.table.rows] == [TID])
            await pilot.press("t")
            await until(pilot, lambda: on_top(app, TrainerScreen))
            screen = app.screen
            assert isinstance(screen, TrainerScreen) and screen.terminal == TID
            await until(pilot, lambda: "no scenario" in text(screen, "#scenario-head"))

            await pilot.press("n")
            await until(pilot, lambda: on_top(app, LibraryScreen))
            library = app.screen
            assert isinstance(library, LibraryScreen)
            listed = lambda: library.query_one("#library-table", DataTable).row_count  # noqa: E731
            await until(pilot, lambda: listed() == len(available()))
            table = library.query_one("#library-table", DataTable)
            names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
            await pilot.press(*["down"] * names.index(SCENARIO))
            await until(pilot, lambda: f"{SCENARIO} (" in text(library, "#library-detail"))
            assert "+0:00 inject display.brightness_low" in text(library, "#library-detail")
            await pilot.press("enter")

            await until(pilot, lambda: "running" in text(screen, "#scenario-head"))
            assert SCENARIO in text(screen, "#scenario-head")
            await until(pilot, lambda: "display.brightness_low" in text(screen, "#trainer-state"))
            assert host.terminals[TID].active_faults() == ["display.brightness_low"]
            steps = screen.query_one("#scenario-steps", DataTable)
            assert str(steps.get_row_at(0)[1]) == "inject display.brightness_low"
            assert str(steps.get_row_at(0)[2]) == "[green]done[/]"

            # The trainee diagnoses and applies the right remedy over SSH.
            assert await trainee_cli("remote", "exec", *connect, "diag", "run", "display") == 0
            assert (
                await trainee_cli("remote", "exec", *connect, "remedy", "display.set_brightness")
                == 0
            )
            # The fault list follows the kiosk: the trainee's remedy cleared it.
            await until(pilot, lambda: "0 active" in text(screen, "#trainer-state"))
            audit = screen.query_one("#trainer-audit", DataTable)
            await until(
                pilot,
                lambda: any(
                    "remedy display.set_brightness" in str(audit.get_row_at(i)[3])
                    for i in range(audit.row_count)
                ),
            )

            await pilot.press("g")
            await until(pilot, lambda: isinstance(app.screen, ScorecardScreen))
            card = app.screen
            assert text(card, "#scorecard-total") == (f"{SCENARIO} on {TID} (t1@class): 100/100")
            items = card.query_one("#scorecard-items", DataTable)
            await until(pilot, lambda: items.row_count == 4)  # filled on mount
            assert [str(items.get_row_at(i)[0]) for i in range(items.row_count)] == [
                "diagnosed",
                "identified",
                "resolved",
                "restored",
            ]
            assert "remedy display.set_brightness (exit 0)" in text(card, "#scorecard-actions")
            await pilot.press("escape")
            scores = screen.query_one("#trainer-scores", DataTable)
            await until(pilot, lambda: scores.row_count == 1)
            assert [str(c) for c in scores.get_row_at(0)][:4] == [
                SCENARIO,
                "t1@class",
                TID,
                "100/100",
            ]

            # The trainer injects a fault by hand from the fault list: the scenario's log (the
            # panel's last line) says so, with who; what a trainee reads of the kiosk does not.
            faults = screen.query_one("#trainer-faults", DataTable)
            faults.focus()
            fault = str(faults.coordinate_to_cell_key(faults.cursor_coordinate).row_key.value)
            await pilot.press("i")
            await until(pilot, lambda: on_top(app, ConfirmScreen))
            await pilot.press("y")
            said = f"fault {fault} injected by hand (trainer@class)"
            await until(pilot, lambda: text(screen, "#scenario-last").endswith(said))
            capfd.readouterr()
            assert await trainee_cli("remote", "exec", *connect, "status") == 0
            assert await trainee_cli("remote", "exec", *connect, "logs") == 0
            seen = capfd.readouterr().out
            assert '"status"' in seen and "by hand" not in seen and "trainer@class" not in seen
            await pilot.press("q")
