"""Scoring from the agent's audit log and the records store: what the card says of the first
diagnostic, of storing it, of site visits."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from scenarios.library import load
from scenarios.scoring import score
from workbench.store import RecordStore


def _run(ticket: float, terminal: str = "KSK-T01", **more: object) -> dict[str, object]:
    """A scenario run at 60x that started at wall 1000 s and simulated 0, its ticket at
    ``ticket`` simulated seconds."""
    run: dict[str, object] = {
        "terminal": terminal,
        "speed": 60.0,
        "started_wall": 1000.0,
        "started_sim": 0.0,
    }
    return run | more | {"ticket_sim": ticket}


def _audit(wall: float, *commands: tuple[str, int]) -> list[dict[str, object]]:
    """The agent's audit lines for ``commands`` (command, exit status), each in a session of
    its own, a wall second apart from ``wall`` (a simulated minute at 60x)."""
    audit: list[dict[str, object]] = []
    for n, (command, exit_status) in enumerate(commands):
        t = wall + n
        audit += [
            {"event": "command", "session": n + 1, "time": t, "command": command},
            {"event": "result", "session": n + 1, "time": t + 0.1, "exit_status": exit_status},
        ]
    return audit


def _card_line(tmp_path: Path, minutes_after_ticket: float) -> str:
    scenario = load("display-brightness-low").scenario
    ticket = scenario.ticket.at  # simulated seconds from the start
    run = _run(ticket)
    wall = 1000.0 + (ticket + minutes_after_ticket * 60) / 60.0  # at 60x
    audit = _audit(wall, ("diag run quick", 0))
    with RecordStore(tmp_path / "records.sqlite") as store:
        card = score(scenario, run, audit, store)
    return next(i.detail for i in card.items if i.name == "diagnosed")


@pytest.mark.parametrize(
    ("minutes", "said"),
    [
        (3.0, "first diagnostic 3.0 min after the ticket (within 15 min)"),
        # a class's handout gives the ticket at once; this said "0.0 min after the ticket"
        (-6.0, "first diagnostic 6.0 min before the ticket (within 15 min)"),
    ],
)
def test_the_first_diagnostic_is_said_before_or_after_the_ticket(
    tmp_path: Path, minutes: float, said: str
) -> None:
    assert _card_line(tmp_path, minutes) == said


def test_score_out_to_no_directory_is_refused_before_the_card_is_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the card was stored, then the write failed: exit 2 and nothing said of the stored card
    import json

    from workbench.cli import main

    scenario = load("display-brightness-low").scenario
    run = _run(scenario.ticket.at, source="display-brightness-low")
    (tmp_path / "KSK-T01").mkdir()
    (tmp_path / "KSK-T01" / "scenario.json").write_text(json.dumps(run))
    args = ["scenario", "score", "--state-dir", str(tmp_path), "--out"]
    with pytest.raises(SystemExit) as exit_:
        main([*args, str(tmp_path / "nowhere" / "card.json")])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        f"workbench: error: --out {tmp_path}/nowhere/card.json: no directory {tmp_path}/nowhere\n"
    )
    with RecordStore(tmp_path / "records.sqlite") as store:
        assert store.scorecards() == []
    with pytest.raises(SystemExit) as exit_:
        main([*args, str(tmp_path / "card.json")])
    assert exit_.value.code in (0, None)
    assert capsys.readouterr().out.splitlines()[-1] == "scorecard 1 stored"


def _visit_card(tmp_path: Path, fault: str, *, active: bool) -> list[tuple[str, int, str]]:
    """A service-crashed run in which the trainee restarts the service and sends an engineer for
    ``fault``, which the trainer injected by hand mid-scenario (``active``) or nobody did."""
    scenario = load("service-crashed").scenario
    ticket = scenario.ticket.at
    run = _run(ticket)
    wall = 1000.0 + ticket / 60.0
    audit = _audit(wall, ("diag run quick", 1), ("remedy system_software.restart_service", 0))
    device = fault.partition(".")[0]
    with RecordStore(tmp_path / "records.sqlite") as store:
        store.add_device_event(
            "KSK-T01", "system_software", 0.0, "fault", {"id": "system_software.service_crashed"}
        )
        store.add_device_event(
            "KSK-T01",
            "system_software",
            ticket + 60,
            "clear",
            {"id": "system_software.service_crashed"},
        )
        if active:  # the trainer's hand injection, before the trainee looked
            store.add_device_event("KSK-T01", device, ticket - 60, "fault", {"id": fault})
        dispatch = store.add_dispatch("KSK-T01", fault, requested_by="t01@class")
        store.update_dispatch(dispatch, sim_requested=ticket + 120)
        card = score(scenario, run, audit, store)
    return [(i.name, i.points, i.detail) for i in card.items if i.points < 0]


def test_a_visit_for_a_fault_that_needs_one_is_not_a_penalty(tmp_path: Path) -> None:
    """The trainer injected printer.paper_out by hand in a service-crashed class (seen in tmux);
    the trainee found it and sent an engineer, the only fix for it. The card took 30 off for an
    'unnecessary visit: a remote remedy or nothing on site was needed'."""
    assert _visit_card(tmp_path, "printer.paper_out", active=True) == []


@pytest.mark.parametrize(
    ("fault", "active", "said"),
    [
        (
            "printer.paper_out",
            False,
            "visit printer.paper_out: it was not there when the engineer was sent",
        ),
        (
            "printer.offline",
            True,
            "visit printer.offline: remote-fixable (remedy printer.reset)",
        ),
    ],
)
def test_a_visit_for_a_fault_absent_or_remote_fixable_is_a_penalty(
    tmp_path: Path, fault: str, active: bool, said: str
) -> None:
    assert _visit_card(tmp_path, fault, active=active) == [("unnecessary_visit", -30, said)]


def test_a_remedy_applied_by_its_fault_id_resolves_the_answer(tmp_path: Path) -> None:
    """Seen in a class: t02 ran 'remedy system_software.service_crashed' over plain ssh (the
    handout: 'remedy ACTION (a remedy name or a fault id)'); the agent restarted the service and
    the fault cleared, but the card said 'resolved 0/30: 0 of 1 answer actions: none'."""
    scenario = load("service-crashed").scenario
    ticket = scenario.ticket.at
    run = _run(ticket, "KSK-T02")
    wall = 1000.0 + ticket / 60.0
    audit = _audit(wall, ("diag run inspection", 1), ("remedy system_software.service_crashed", 0))
    with RecordStore(tmp_path / "records.sqlite") as store:
        card = score(scenario, run, audit, store)
    items = {i.name: (i.points, i.detail) for i in card.items}
    assert items["resolved"] == (
        30,
        "1 of 1 answer actions: remedy system_software.restart_service",
    )
    assert items["identified"] == (30, "named 1 of 1: system_software.service_crashed")
    assert "wrong_remedy" not in items


def test_a_run_of_reads_is_one_line_of_what_was_done(tmp_path: Path) -> None:
    """Seen in a class: t01 worked in 'workbench tui', whose terminal screen reads the status
    and the log every few seconds; the card listed 213 actions, most 'status (exit 0)' and
    'logs --since 1796228478.4107 (exit 0)', and class status said '213 actions'. A run of
    reads (status, logs, diag list, window, help: exit 0) between two real actions is one line."""
    scenario = load("service-crashed").scenario
    ticket = scenario.ticket.at
    run = _run(ticket, sim_origin=0.0)  # the kiosk's simulated 0 is the scenario's start
    wall = 1000.0 + ticket / 60.0
    commands = [
        ("status", 0),
        ("diag run quick", 1),
        ("status", 0),
        ("logs --since 1796228478.4107", 0),
        ("status", 0),
        ("logs --since 1796228479.5", 0),
        ("fault list", 3),  # refused: not a read that went through
        ("remedy system_software.restart_service", 0),
        ("status", 0),
        ("logs", 0),
    ]
    audit = _audit(wall, *commands)
    with RecordStore(tmp_path / "records.sqlite") as store:
        card = score(scenario, run, audit, store)
    assert [(a["clock"], a["action"], a.get("exit_status")) for a in card.actions] == [
        ("Tue 09:05:00", "status", 0),
        ("Tue 09:06:00", "diag run quick", 1),
        ("Tue 09:07:00", "status x2, logs x2 (reads, to Tue 09:10:00)", None),
        ("Tue 09:11:00", "fault list", 3),
        ("Tue 09:12:00", "remedy system_software.restart_service", 0),
        ("Tue 09:13:00", "status, logs (reads, to Tue 09:14:00)", None),
    ]


def test_what_an_earlier_run_on_the_terminal_did_does_not_count(tmp_path: Path) -> None:
    """Seen in tmux: a class restarted under the same state dir on p3-paper-out; before anyone
    had connected, the new t01 scored 80/100 ('named 1 of 1: printer.paper_out; 1 of 1 answer
    actions: visit printer.paper_out') from the visit the last class's t01 had sent to KSK-T01.
    The records store keeps every run's dispatches and device events."""
    scenario = load("p3-paper-out").scenario
    with RecordStore(tmp_path / "records.sqlite") as store:
        # the last class: paper out, an engineer sent, the roll replaced
        store.add_device_event("KSK-T01", "printer", 900.0, "fault", {"id": "printer.paper_out"})
        store.add_dispatch("KSK-T01", "printer.paper_out", requested_by="t01@class")
        store.add_device_event("KSK-T01", "printer", 5000.0, "clear", {"id": "printer.paper_out"})
        started = time.time() + 1  # this run starts after all that
        run = {
            "terminal": "KSK-T01",
            "speed": 20.0,
            "started_wall": started,
            "started_sim": 0.0,
            "sim_origin": 0.0,
            "ticket_sim": scenario.ticket.at,
        }
        card = score(scenario, run, [], store, now_sim=60.0)
    assert (card.points, card.actions) == (0, [])
    assert [i.detail for i in card.items if i.name in ("identified", "resolved")] == [
        "named 0 of 1: none",
        "0 of 1 answer actions: none",
    ]


@pytest.mark.parametrize(
    ("raised", "wrong"),
    [
        (True, []),  # the trainer had injected printer.offline: the reset was the fix
        (False, [("wrong_remedy", -5)]),  # nothing wrong with the printer: a wrong remedy
    ],
)
def test_a_remedy_for_a_fault_the_trainer_added_is_not_wrong(
    tmp_path: Path, raised: bool, wrong: list[tuple[str, int]]
) -> None:
    """As with a site visit: in a service-crashed class the trainer injected printer.offline by
    hand; the trainee found it and reset the printer, and lost 5 ('remedy printer.reset does
    not address system_software.service_crashed')."""
    scenario = load("service-crashed").scenario
    ticket = scenario.ticket.at
    run = _run(ticket)
    wall = 1000.0 + ticket / 60.0
    audit = _audit(wall, ("remedy printer.reset", 0))
    with RecordStore(tmp_path / "records.sqlite") as store:
        if raised:
            store.add_device_event(
                "KSK-T01", "printer", ticket - 60, "fault", {"id": "printer.offline"}
            )
        card = score(scenario, run, audit, store)
    assert [(i.name, i.points) for i in card.items if i.points < 0] == wrong
