"""A scenario started on a kiosk that was already running, through its control plane (what the
TUI's trainer does): the timeline injects on the kiosk's own clock, the status says which steps
have happened, stop plays no more, and the run record lets the run be scored with the scenario's
clock (its start of day), not the kiosk's."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.control import request_async
from devices.kiosk import KioskHost
from scenarios.scoring import score_terminal
from scenarios.stage import stage_extra

pytestmark = pytest.mark.timeout(30)
TID = "KSK-0041"


async def test_start_watch_stop_and_score_on_a_running_kiosk(state_dir: Path) -> None:
    async with KioskHost(
        state_dir, "bill_payment", [TID], speed=600, extras=[stage_extra()]
    ) as kiosks:
        control = kiosks.endpoints[TID]["control"]
        assert (await request_async(control, "scenario.status"))["state"] == "none"
        await kiosks.clock.wait(kiosks.env.timeout(600))  # the kiosk has run a while already
        record = await request_async(
            control, "scenario.start", scenario="display-no-signal-needs-visit"
        )
        assert record["sim_origin"] == record["started_sim"] >= 600
        assert record["ticket_sim"] == record["started_sim"] + 300

        refused = request_async(control, "scenario.start", scenario="p3-paper-out")
        with pytest.raises(Exception, match="display-no-signal-needs-visit is running"):
            await refused

        await kiosks.clock.wait(kiosks.env.timeout(1))  # the inject is at 0
        assert "display.no_signal" in kiosks.terminals[TID].active_faults()
        status = await request_async(control, "scenario.status")
        assert status["state"] == "running"
        assert [(s["what"], s["done"]) for s in status["steps"]] == [
            (
                "inject display.no_signal (the video cable came loose when the cleaners "
                "moved the kiosk)",
                True,
            ),
            ("ticket to the trainee", False),
        ]
        assert status["log"][0]["clock"].startswith("Mon 08:55:0")  # the scenario's calendar
        assert status["elapsed_sim"] >= 1

        stopped = await request_async(control, "scenario.stop")
        assert stopped["state"] == "stopped"
        await kiosks.clock.wait(kiosks.env.timeout(600))  # past the ticket's 5 min
        status = await request_async(control, "scenario.status")
        assert status["state"] == "stopped"
        assert [s["done"] for s in status["steps"]] == [True, False]
        assert status["log"][-1]["text"] == "stopped by the trainer"
        assert status["active_faults"] == ["display.no_signal"]  # left for the trainer to clear
        # the run's length stops with it, simulated as wall (seen in tmux: 'stopped · 22m54s
        # simulated / 1m08s wall', then '25m11s simulated / 1m08s wall' a minute later)
        assert status["elapsed_sim"] == stopped["elapsed_sim"]
        assert status["elapsed_wall"] == stopped["elapsed_wall"]

        card = score_terminal(state_dir, TID)
        assert (card.scenario, card.terminal, card.points, card.max_points) == (
            "display-no-signal-needs-visit",
            TID,
            0,
            100,
        )
        restored = next(i for i in card.items if i.name == "restored")
        # the SLA limit on the scenario's calendar (ticket 09:00 + 6 h), not the kiosk's clock
        assert restored.detail == "not restored by Mon 15:00:00: display.no_signal"


async def test_a_scenario_for_another_profile_is_refused_by_name(state_dir: Path) -> None:
    async with KioskHost(
        state_dir, "bill_payment", [TID], speed=60, extras=[stage_extra()]
    ) as kiosks:
        control = kiosks.endpoints[TID]["control"]
        with pytest.raises(Exception, match="runs on a ticket kiosk; KSK-0041 is a bill_payment"):
            await request_async(control, "scenario.start", scenario="ticket-kiosk-cash-box-removed")
        with pytest.raises(Exception, match="unknown scenario 'no-such'"):
            await request_async(control, "scenario.start", scenario="no-such")
        with pytest.raises(Exception, match="no scenario is running"):
            await request_async(control, "scenario.stop")


async def test_a_fault_injected_by_hand_mid_scenario_is_in_its_log(state_dir: Path) -> None:
    """A trainer's own injection (or clearing) on the control plane while a scenario plays is a
    line of the scenario's log, at the simulated time, naming who; a stimulus an inspection's
    test applies (no ``by``) is not."""
    async with KioskHost(
        state_dir, "bill_payment", [TID], speed=600, extras=[stage_extra()]
    ) as kiosks:
        control = kiosks.endpoints[TID]["control"]
        await request_async(control, "scenario.start", scenario="display-no-signal-needs-visit")
        await kiosks.clock.wait(kiosks.env.timeout(60))
        await request_async(control, "fault.inject", id="printer.paper_out", by="tr@class")
        await request_async(control, "act", action="insert-card", args=[], device=None)
        await request_async(control, "fault.clear", id="printer.paper_out")
        log = (await request_async(control, "scenario.status"))["log"]
        by_hand = [e for e in log if "by hand" in e["text"] or "card" in e["text"]]
        assert [e["text"] for e in by_hand] == [
            "fault printer.paper_out injected by hand (tr@class)",
            "fault printer.paper_out cleared by hand (the trainer)",
        ]
        assert by_hand[0]["clock"].startswith("Mon 08:5")  # the scenario's calendar
        assert by_hand[0]["sim_time"] >= log[0]["sim_time"] + 60

        await request_async(control, "scenario.stop")
        await request_async(control, "fault.inject", id="printer.paper_out", by="tr@class")
        status = await request_async(control, "scenario.status")
        assert status["log"][-1]["text"] == "stopped by the trainer"  # no run to write to
