"""A timeline step that waits for its device (``wait_up_to``): a note offered only once the
validator takes notes (a customer at the cash screen), the other steps keeping their times; a
clear step error when it never does; what ``scenario validate`` says of a wait that cannot work;
and ``p3-validator-foreign-note`` holding on seeds other than its own."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import simpy

from devices.catalog import default_catalog
from devices.terminal import Terminal
from scenarios.library import Loaded, load
from scenarios.runner import run_virtual
from scenarios.schema import Scenario
from scenarios.timeline import Observer, Timeline
from workbench.cli import main

VISITOR = """\
name: visitor
title: A visitor's note at the cash screen
profile: bill_payment
seed: 5
start: saturday 10:30
duration: 30m
severity: P3
usage: {enabled: true, customers_per_hour: 40, cash_share: 0.9, card_share: 0.05}
ticket:
  text: A tourist says the machine gave her note back.
timeline:
  - at: 11m
    act: insert-unknown-note 7
    wait_up_to: 8m
    note: a visitor at the cash screen offers a 7 note
  - at: 12m
    inject: display.brightness_low
expect:
  - at: 19m
    events: {device: bill_validator, kind: note_inserted, detail: {value: 7}, count: 1}
answer:
  faults: [display.brightness_low]
  actions: [remedy display.set_brightness]
"""


def _load(tmp_path: Path, text: str) -> Loaded:
    path = tmp_path / "visitor.yaml"
    path.write_text(text)
    return load(path)


def _with_seed(loaded: Loaded, seed: int) -> Loaded:
    return replace(loaded, scenario=loaded.scenario.model_copy(update={"seed": seed}))


def test_a_note_waits_for_the_cash_screen_and_the_other_steps_keep_their_times(
    tmp_path: Path,
) -> None:
    loaded = _load(tmp_path, VISITOR)
    run = run_virtual(loaded)
    assert run.ok, run.failures()
    s = loaded.scenario
    log = [(round(t - s.start_offset), text) for t, text in run.log]
    # seed 5: no customer at the cash screen at 11m; one reaches it 1m37s later
    assert (
        757,
        "insert-unknown-note 7: 7 EUR taken in (after waiting 1m37s; a visitor at the cash "
        "screen offers a 7 note)",
    ) in log
    assert (720, "fault display.brightness_low injected") in log  # not held up by the wait
    assert [c.detail for c in run.checks] == ["bill_validator note_inserted (value=7) events: 1"]


def test_a_note_the_validator_would_take_at_once_is_offered_at_its_time(tmp_path: Path) -> None:
    loaded = _with_seed(_load(tmp_path, VISITOR), 2)  # seed 2: a customer pays cash at 10:41
    run = run_virtual(loaded)
    assert run.ok, run.failures()
    offered = [t - loaded.scenario.start_offset for t, x in run.log if "EUR taken in" in x]
    assert offered == [660]
    assert not any("waiting" in x for _, x in run.log)


def test_a_note_never_taken_fails_its_step_in_one_line(tmp_path: Path) -> None:
    """No customers: no host ever enables the validator, so the visitor's note is never
    taken; the step fails when the wait ends, saying why, and the run fails."""
    run = run_virtual(_load(tmp_path, VISITOR.replace("enabled: true", "enabled: false")))
    assert not run.ok
    error = "insert-unknown-note 7: still not taken after waiting 8m00s: validator disabled"
    assert run.errors == [f"act at 660 s: {error}"]
    assert run.failures() == [
        "expect.0 (events): bill_validator note_inserted (value=7) events: 0, wanted 1",
        f"act at 660 s: {error}",
    ]


def test_a_trainer_stopping_the_scenario_ends_a_wait_unplayed(tmp_path: Path) -> None:
    loaded = _load(tmp_path, VISITOR.replace("enabled: true", "enabled: false"))
    s = loaded.scenario
    env = simpy.Environment(initial_time=s.start_offset)
    terminal = Terminal(env, "KSK-T", loaded.profile, default_catalog(), sink=Observer())
    terminal.start()
    timeline = Timeline(terminal, s)
    timeline.start()
    env.run(until=s.start_offset + 15 * 60)
    waiting = [n for n, (_, step) in enumerate(timeline.items()) if step and step.act]
    assert timeline.waiting == set(waiting)
    timeline.stop()
    env.run(until=s.start_offset + 25 * 60)
    assert timeline.waiting == set()
    assert timeline.errors == []
    assert not any("insert-unknown-note" in text for _, text in timeline.log)


def test_events_with_a_detail_are_counted_once_however_many_expectations_ask() -> None:
    observer = Observer()
    observer.watch("bill_validator", "note_inserted", (("value", 7),))
    observer.watch("bill_validator", "note_inserted", (("value", 7),))
    for value in (7, 20, 7):
        observer("K", "bill_validator", 0.0, "note_inserted", {"value": value, "genuine": True})
    assert observer.counts["K", "bill_validator", "note_inserted", (("value", 7),)] == 2
    assert observer.counts["K", "bill_validator", "note_inserted"] == 3


BAD = """\
name: bad
title: Waits that cannot work
profile: bill_payment
duration: 30m
severity: P3
ticket:
  text: nothing
timeline:
  - at: 1m
    act: touch 960 540
    wait_up_to: 5m
  - at: 2m
    inject: bill_validator.sensor_dirty
    wait_up_to: 5m
  - at: 25m
    act: insert-note 20
    wait_up_to: 10m
  - at: 26m
    act: insert-note 20
    wait_up_to: 0
expect:
  - events: {device: bill_validator, kind: note_inserted, detail: {value: [7]}}
answer:
  faults: [bill_validator.sensor_dirty]
  actions: [visit bill_validator.sensor_dirty]
"""


def test_validate_says_each_wait_that_cannot_work_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    with pytest.raises(SystemExit) as exit_info:
        main(["scenario", "validate", str(path)])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:11: timeline.0.wait_up_to: touchscreen takes touch in any state, so there is "
        "nothing to wait for (actions that may wait: insert-counterfeit, insert-note, "
        "insert-unknown-note)",
        f"{path}:12: timeline.1: 'wait_up_to' goes with 'act' only",
        f"{path}:17: timeline.2.wait_up_to: waiting until 2100 s is after the run's duration "
        "(1800 s)",
        f"{path}:18: timeline.3: wait_up_to(=0) must be more than 0 (leave it out not to wait)",
        f"{path}:22: expect.0.events.detail: detail value(=[7]) must be a number or a text",
        f"workbench: error: {path}: 5 problems",
    ]


# Seeds on which the scenario's note once found the validator disabled (0, 3), another note in
# the path (6, 11), or a customer's genuine note rejected before the visitor's (1, 7, 9).
OTHER_SEEDS = [0, 1, 3, 6, 7, 9, 11]


@pytest.mark.parametrize("seed", OTHER_SEEDS)
def test_the_foreign_note_scenario_holds_on_other_seeds(seed: int) -> None:
    loaded = _with_seed(load("p3-validator-foreign-note"), seed)
    run = run_virtual(loaded)
    assert run.ok, run.failures()
    s: Scenario = loaded.scenario
    offered = [
        t - s.start_offset
        for t, text in run.log
        if text.startswith("insert-unknown-note 7: 7 EUR taken in")
    ]
    assert len(offered) == 1 and 11 * 60 <= offered[0] <= 19 * 60, run.log


LIVE = """\
name: visitor-live
title: A visitor's note, on a kiosk whose host enables the validator when it likes
profile: bill_payment
duration: 1h
severity: P3
ticket: {at: 30m, text: A tourist says the machine gave her note back.}
timeline:
  - {at: 1m, act: insert-unknown-note 7, wait_up_to: 20m, note: a visitor offers a 7 note}
expect:
  - events: {device: bill_validator, kind: note_inserted, detail: {value: 7}, count: 1}
answer: {faults: [bill_validator.sensor_dirty], actions: [visit bill_validator.sensor_dirty]}
"""


@pytest.mark.timeout(30)
async def test_a_running_kiosk_s_scenario_says_a_step_is_waiting_until_its_host_enables(
    state_dir: Path,
) -> None:
    from devices.control import request_async
    from devices.kiosk import KioskHost
    from scenarios.stage import stage_extra

    path = state_dir / "visitor-live.yaml"
    path.write_text(LIVE)
    async with KioskHost(
        state_dir, "bill_payment", ["KSK-0042"], speed=600, extras=[stage_extra()]
    ) as kiosks:
        control = kiosks.endpoints["KSK-0042"]["control"]
        await request_async(control, "scenario.start", scenario=str(path))
        await kiosks.clock.wait(kiosks.env.timeout(300))  # past 1m: no host has enabled it
        status = await request_async(control, "scenario.status")
        step = status["steps"][0]
        assert step["what"] == (
            "act insert-unknown-note 7 (waits up to 20m00s; a visitor offers a 7 note)"
        )
        assert (step["done"], step["waiting"], status["state"]) == (False, True, "running")

        validator = kiosks.terminals["KSK-0042"].devices["bill_validator"]
        kiosks.clock.catch_up()
        validator.set_enabled(True)  # the host's ENABLE: the cash screen is up
        kiosks.clock.wake()
        await kiosks.clock.wait(kiosks.env.timeout(5))
        status = await request_async(control, "scenario.status")
        assert (status["steps"][0]["done"], status["steps"][0]["waiting"]) == (True, False)
        taken = [e["text"] for e in status["log"] if "EUR taken in" in e["text"]]
        assert len(taken) == 1 and "(after waiting " in taken[0], status["log"]
        assert status["errors"] == []
