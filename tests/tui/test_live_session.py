"""A whole remote session, pressed key by key through ``App.run_test()`` against a real simulated
kiosk and its SSH agent on loopback: request a window, see the injected fault in the fleet as the
terminal's status reports it, open the terminal, run the inspection, see the fault fail, apply its
remedy after confirming, see it pass; all of it on record."""

from __future__ import annotations

from pathlib import Path

import pytest
from waits import on_top, until

from devices.kiosk import KioskHost
from remote.audit import read
from remote.window import CertificateAuthority
from scenarios.wiring import kiosk_backend, kiosk_extra
from tui.app import WorkbenchApp
from tui.live import LiveBackend
from tui.screens.confirm import ConfirmScreen
from tui.screens.fleet import FleetScreen
from tui.screens.pick import PickScreen
from tui.screens.terminal import TerminalScreen
from tui.screens.window import WindowScreen
from workbench.store import RecordStore

TID = "KSK-0031"


def results(screen: TerminalScreen) -> dict[str, list[str]]:
    from textual.widgets import DataTable

    table = screen.query_one("#results-table", DataTable)
    rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
    return {r[0]: r[1:] for r in rows}


@pytest.mark.timeout(180)  # a hang: the waits are bounded in CPU time (waits.CPU_S), not wall
# The kiosk, its agent and the TUI all run in this process: the whole session is about 8
# CPU-seconds (the inspection about 2) whatever the load; its wall time is not.
async def test_inspect_find_remedy_and_pass_on_a_real_kiosk(state_dir: Path) -> None:
    ca_dir = state_dir / "ca"
    CertificateAuthority.init(ca_dir)
    extra = kiosk_extra(ca_dir, kiosk_backend)
    async with KioskHost(state_dir, "bill_payment", [TID], speed=60, extras=[extra]) as host:
        host.terminals[TID].inject("display.panel_off")
        backend = LiveBackend(state_dir, ca=ca_dir, engineer="alice@support")
        app = WorkbenchApp(backend, reason="INC-3141")
        async with app.run_test(size=(140, 40)) as pilot:
            table = app.fleet.table
            await until(pilot, lambda: [r.terminal for r in table.rows] == [TID])
            await until(pilot, lambda: table.rows[0].reachable == "up")

            # each key waits for what it opens or focuses (see ``on_top``) before the next
            await pilot.press("w")  # the window: request one for the terminal under the cursor
            await until(pilot, lambda: on_top(app, WindowScreen))
            await pilot.press("n")
            await until(pilot, lambda: on_top(app, WindowScreen, "#req-terminals"))
            await pilot.press("enter")
            await until(pilot, lambda: backend.window() is not None)
            window = backend.window()
            assert window is not None and window.principals == (TID,)
            assert window.ticket == "INC-3141" and window.valid_before - window.valid_after == 3600
            await pilot.press("escape")  # back to the fleet: the fault is read from its status
            await until(pilot, lambda: on_top(app, FleetScreen, "FleetTable"))
            await until(pilot, lambda: table.rows[0].faults_live)
            assert table.rows[0].faults_text() == "display.panel_off"  # on no record yet
            await pilot.press("enter")  # open the terminal
            await until(pilot, lambda: on_top(app, TerminalScreen))
            screen = app.screen
            assert isinstance(screen, TerminalScreen) and screen.terminal == TID

            await pilot.press("i")
            await until(pilot, lambda: len(results(screen)) == 11 and not screen.busy)
            found = results(screen)
            assert found["display"][:3] == [
                "[red]fail[/]",
                "display.panel_off",
                "remote: remedy display.power_on",
            ]
            others = [v[1] for k, v in found.items() if k != "display"]
            assert "display.panel_off" not in others  # named by its own diagnostic only

            await pilot.press("m")
            await until(pilot, lambda: on_top(app, PickScreen, "OptionList"))
            assert isinstance(app.screen, PickScreen)
            assert app.screen.options[0][0] == "display.power_on"
            await pilot.press("enter")
            await until(pilot, lambda: on_top(app, ConfirmScreen))
            await pilot.press("y")
            await until(
                pilot, lambda: "cleared" in str(screen.query_one("#terminal-last").render())
            )
            assert results(screen)["display"][:2] == ["[green]pass[/]", ""]
            assert host.terminals[TID].active_faults() == []
            await pilot.press("q")

    with RecordStore(state_dir / "records.sqlite") as store:
        runs = store.maintenance_runs(TID)
        reasons = [s["reason"] for s in store.sessions()]
    assert [(r.suite, r.outcome) for r in runs] == [
        ("remedy display.power_on", "cleared"),
        ("inspection", "fail"),
    ]
    assert [(f.test, f.suspect) for f in runs[1].findings] == [("display", "display.panel_off")]
    assert reasons == ["INC-3141"]
    # the fleet's reachability probe is on the agent's record as what it is, not as a trainee
    # (an SSH connection the TUI gave up mid-handshake is a connection_dropped with its version)
    records = read(state_dir / TID / "agent" / "audit.jsonl")
    assert "port_check" in [r["event"] for r in records], records
    dropped = [r for r in records if r["event"] == "connection_dropped"]
    assert all(r.get("client", "").startswith("SSH-2.0-") for r in dropped), dropped


@pytest.mark.timeout(30)
async def test_a_certificate_given_at_start_is_read_after_the_first_frame(tmp_path: Path) -> None:
    """``--cert``: nothing is read at construction; once the app is up the window is loaded, the
    fleet counts it down, and the session is recorded under the certificate's key id."""
    from remote.window import engineer_key

    authority = CertificateAuthority.init(tmp_path / "CA")
    key = engineer_key(tmp_path / "alice", "alice@support")
    cert = tmp_path / "alice-cert.pub"
    grant = authority.grant([TID], key, ticket="INC-8")
    cert.write_bytes(grant.certificate)
    backend = LiveBackend(tmp_path, ca=tmp_path / "CA", key=tmp_path / "alice", cert=cert)
    assert backend.window() is None and backend.engineer.endswith("@workbench")
    app = WorkbenchApp(backend, reason="INC-8")
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.window_until == grant.valid_before)
        window = backend.window()
        assert window is not None and window.principals == (TID,)
        await until(pilot, lambda: "alice@support · reason INC-8" in app.session_text)
    with RecordStore(tmp_path / "records.sqlite") as store:
        sessions = store.sessions()
    assert [(s["engineer"], s["reason"]) for s in sessions] == [("alice@support", "INC-8")]
