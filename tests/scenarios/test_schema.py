"""Scenario files: a typo names the file, the line, the valid keys and the close match; a
scenario naming something its world lacks is refused with the line; the CLI says it in one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scenarios.library import load
from scenarios.schema import parse_start
from workbench.cli import main
from workbench.errors import ConfigError

GOOD = """\
name: tiny
title: A tiny scenario
profile: bill_payment
start: tuesday 08:55
duration: 1h
severity: P3
ticket:
  text: The screen is dark.
timeline:
  - at: 5m
    inject: display.brightness_low
expect:
  - active: [display.brightness_low]
answer:
  faults: [display.brightness_low]
  actions: [remedy display.set_brightness]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_a_good_file_loads(tmp_path: Path) -> None:
    loaded = load(_write(tmp_path, GOOD))
    assert loaded.scenario.start_offset == 8 * 3600 + 55 * 60
    assert loaded.scenario.clock_text(loaded.scenario.start_offset + 600) == "Tue 09:05:00"


def test_a_typo_in_a_key_names_file_line_valid_keys_and_the_close_match(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("    inject: display", "    injetc: display"))
    with pytest.raises(ConfigError) as info:
        load(path)
    assert str(info.value) == (
        f"{path}:11: unknown key 'injetc' in timeline.0; valid keys: act, at, clear, device, "
        "inject, mtbf, note, remove_toxic, toxic, wait_up_to; did you mean 'inject'?"
    )


def test_a_typo_at_the_top_level(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("severity: P3", "severty: P3"))
    with pytest.raises(
        ConfigError,
        match=rf"^{path}:6: unknown key 'severty'; valid keys: .*did you mean 'severity'\?$",
    ):
        load(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "inject: display.brightness_low",
            "inject: display.on_fire",
            r":11: timeline.0.inject: unknown fault 'display.on_fire'",
        ),
        (
            "inject: display.brightness_low",
            "inject: display.brightness_lo",
            r":11: timeline.0.inject: unknown fault 'display.brightness_lo'; see 'workbench "
            r"faults list'; did you mean 'display.brightness_low'\?$",
        ),
        (
            "tuesday 08:55",
            "someday 08:55",
            r":4: start: start\(='someday 08:55'\): 'someday' is neither a weekday",
        ),
        (
            "    inject: display.brightness_low",
            "    inject: display.brightness_low\n    clear: display.brightness_low",
            r":10: timeline.0: a timeline step does exactly one of",
        ),
        (
            "actions: [remedy display.set_brightness]",
            "actions: [remedy display.power_on]",
            r":16: answer.actions.0: remedy 'display.power_on' clears none of answer.faults",
        ),
        (
            "actions: [remedy display.set_brightness]",
            "actions: [reboot everything]",
            r"answer.actions: .*must be 'remedy NAME' or 'visit FAULT_ID'",
        ),
        ("  - at: 5m\n", "  - at: 2h\n", r":10: timeline.0: at 7200 s is after the run's duration"),
        (
            "inject: display.brightness_low",
            "act: touch",
            r":11: timeline.0.act: touch takes X Y; given: none$",
        ),
        (
            "inject: display.brightness_low",
            "act: refill-paper now",
            r":11: timeline.0.act: refill-paper takes no arguments; given: now$",
        ),
        (
            "inject: display.brightness_low",
            "act: insert-note abc",
            r":11: timeline.0.act: insert-note takes VALUE, a face value, a whole number above 0; given: abc$",
        ),
        (
            "inject: display.brightness_low",
            "act: touch 10 ten",
            r":11: timeline.0.act: touch takes X Y, each a whole number; given: 10 ten$",
        ),
        (
            "inject: display.brightness_low",
            "act: reset\n    device: ups",
            r":11: timeline.0.act: ups has no action 'reset'; its actions: battery-test, "
            r"replace-battery, reset-comms, set-load$",
        ),
        (
            "profile: bill_payment",
            "profile: ticket\nusage: {customers_per_hour: -1}",
            r"usage.customers_per_hour: Input should be greater than 0",
        ),
    ],
)
def test_what_the_world_lacks_is_refused_with_its_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in GOOD
    with pytest.raises(ConfigError, match=message):
        load(_write(tmp_path, GOOD.replace(old, new)))


def test_a_fault_the_profile_cannot_show(tmp_path: Path) -> None:
    text = GOOD.replace("bill_payment", "query_print").replace(
        "inject: display.brightness_low", "inject: cash_box.full"
    )
    with pytest.raises(
        ConfigError,
        match=r":11: timeline.0.inject: profile 'query_print' has no device showing 'cash_box.full'",
    ):
        load(_write(tmp_path, text))


def test_an_ambiguous_action_asks_for_the_device(tmp_path: Path) -> None:
    text = GOOD.replace("inject: display.brightness_low", "act: clean-head")
    with pytest.raises(
        ConfigError,
        match=r"action 'clean-head' is ambiguous \(printer, card_reader\); add 'device'",
    ):
        load(_write(tmp_path, text))


def test_start_accepts_a_weekday_or_a_date() -> None:
    assert parse_start("Monday 08:55").strftime("%A %H:%M") == "Monday 08:55"
    assert parse_start("2026-12-24 17:30").strftime("%A %H:%M") == "Thursday 17:30"
    with pytest.raises(ValueError, match="no such time of day"):
        parse_start("monday 25:00")


def test_validate_cli_one_line_per_file_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write(tmp_path, GOOD)
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("title:", "titel:"))
    with pytest.raises(SystemExit) as exit_info:
        main(["scenario", "validate", str(good), str(bad), "p3-paper-out"])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert f"ok {good}: tiny (P3, 1 step, 1 expectation)" in captured.out
    assert "p3-paper-out (P3" in captured.out
    # the misspelt key only: not also the required 'title' it left missing
    problem, count = captured.err.splitlines()
    assert problem.startswith(f"{bad}:2: unknown key 'titel'; valid keys: ")
    assert problem.endswith("did you mean 'title'?")
    assert count == f"workbench: error: {bad}: 1 problem"


BROKEN = GOOD.replace(
    "timeline:\n  - at: 5m\n    inject: display.brightness_low\n",
    """timeline:
  - at: 5m
    inject: display.brightness_low
  - at: 6m
    injct: printer.paper_out
  - at: 7m
    act: touch 1920 540
  - at: 2h
    act: insert-note 25
  - {at: 8m, act: refill-paper, device: ups}
""",
).replace("  - active: [display.brightness_low]", "  - active: [display.brightness_lo]")


def test_validate_says_every_problem_of_a_file_in_its_order_then_how_many(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A trainer sees every problem at once, each where it is, one line each: a typo in one
    step leaves the steps after it checked against the world."""
    path = _write(tmp_path, BROKEN)
    with pytest.raises(SystemExit) as exit_info:
        main(["scenario", "validate", str(path)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"{path}:13: unknown key 'injct' in timeline.1; valid keys: act, at, clear, device, "
        "inject, mtbf, note, remove_toxic, toxic, wait_up_to; did you mean 'inject'?",
        f"{path}:15: timeline.2.act: touch takes X Y, X a column of the 1920x1080 screen, "
        "0 to 1919; given: 1920 540",
        f"{path}:16: timeline.3: at 7200 s is after the run's duration (3600 s)",
        f"{path}:17: timeline.3.act: insert-note takes VALUE, a face value the unit knows "
        "(5, 10, 20, 50, 100, 200, 500 EUR); given: 25 (to offer a note the unit does not know "
        "on purpose, write 'insert-unknown-note 25')",
        f"{path}:18: timeline.4.act: ups has no action 'refill-paper'; its actions: "
        "battery-test, replace-battery, reset-comms, set-load",
        f"{path}:20: expect.0.active.0: unknown fault 'display.brightness_lo'; see 'workbench "
        "faults list'; did you mean 'display.brightness_low'?",
        f"workbench: error: {path}: 6 problems",
    ]


@pytest.mark.parametrize("duration", ["0", "0s"])
def test_a_duration_of_0_is_one_problem_not_every_step_late(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], duration: str
) -> None:
    """A run of 0 s said each step and expectation was 'after the run's duration (0 s)'."""
    path = _write(tmp_path, GOOD.replace("duration: 1h", f"duration: {duration}"))
    with pytest.raises(SystemExit) as exit_info:
        main(["scenario", "validate", str(path)])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:5: duration: must be above 0 (how long the run lasts, e.g. '2h'); given: 0",
        f"workbench: error: {path}: 1 problem",
    ]


def test_load_says_the_first_problem_and_how_many_more(tmp_path: Path) -> None:
    path = _write(tmp_path, BROKEN)
    with pytest.raises(ConfigError) as info:
        load(path)
    assert str(info.value).startswith(f"{path}:13: unknown key 'injct' in timeline.1; ")
    assert str(info.value).endswith(
        "(and 5 more problems: 'workbench scenario validate' lists each)"
    )


SMALL_PROFILE = """\
name: small
devices:
  bill_validator:
    country: CNY
    denominations: [1, 5, 10, 20, 50, 100]
  touchscreen:
    screen_width: 1280
    screen_height: 1024
"""


@pytest.mark.parametrize(
    ("act", "bill_payment", "small"),
    [
        ("touch 1500 1000", None, "touch takes X Y, X a column of the 1280x1024 screen, 0 to 1279"),
        ("touch 100 1050", None, "touch takes X Y, Y a row of the 1280x1024 screen, 0 to 1023"),
        (
            "touch -1 10",
            "touch takes X Y, X a column of the 1920x1080 screen, 0 to 1919",
            "touch takes X Y, X a column of the 1280x1024 screen, 0 to 1279",
        ),
        (
            "insert-note 200",
            None,
            "insert-note takes VALUE, a face value the unit knows (1, 5, 10, 20, 50, 100 CNY)",
        ),
        (
            "insert-note 1",
            "insert-note takes VALUE, a face value the unit knows (5, 10, 20, 50, 100, 200, 500 EUR)",
            None,
        ),
        (
            "insert-counterfeit 1",
            "insert-counterfeit takes [VALUE], a face value the unit knows (5, 10, 20, 50, 100, "
            "200, 500 EUR)",
            None,
        ),
        ("insert-counterfeit", None, None),
        # a note the unit does not know, offered on purpose: the profile decides which it is
        ("insert-unknown-note 7", None, None),
        (
            "insert-unknown-note 200",
            "insert-unknown-note takes VALUE, a face value the unit does not know (it knows 5, "
            "10, 20, 50, 100, 200, 500 EUR: offer those with insert-note); given: 200",
            None,
        ),
        (
            "insert-unknown-note 50",
            "insert-unknown-note takes VALUE, a face value the unit does not know (it knows 5, ",
            "insert-unknown-note takes VALUE, a face value the unit does not know (it knows 1, 5, "
            "10, 20, 50, 100 CNY: offer those with insert-note); given: 50",
        ),
        ("set-load 20000", "set-load takes WATTS, a number of watts, 0 to 10000", "no device has"),
        (
            "restart-service spooler",
            "restart-service takes [NAME], a service of the release (kiosk-ui, payment-service, ",
            "no device has",
        ),
    ],
)
def test_values_the_profile_s_devices_allow_are_checked_against_the_profile_named(
    tmp_path: Path, act: str, bill_payment: str | None, small: str | None
) -> None:
    """The same step, on the shipped bill_payment profile and on a profile of the trainer's with
    a smaller screen and other notes (and no UPS): its device's settings decide."""
    (tmp_path / "small.yaml").write_text(SMALL_PROFILE)
    for profile, message in (("bill_payment", bill_payment), (tmp_path / "small.yaml", small)):
        path = _write(
            tmp_path,
            GOOD.replace("profile: bill_payment", f"profile: {profile}")
            .replace("inject: display.brightness_low", f"act: {act}")
            .replace("display.brightness_low", "cash_box.full")
            .replace("remedy display.set_brightness", "visit cash_box.full"),
        )
        if message is None:
            assert load(path).scenario.timeline[0].act == act
        else:
            with pytest.raises(
                ConfigError, match=rf"^{path}:11: timeline.0.act: {re.escape(message)}"
            ):
                load(path)


def test_a_note_the_unit_does_not_know_is_a_typo_unless_written_on_purpose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``insert-note 7`` in a scenario is refused as a likely typo, and the error says how to
    offer such a note on purpose; written that way, the same file validates."""
    path = _write(
        tmp_path,
        GOOD.replace("inject: display.brightness_low", "act: insert-note 7")
        .replace("display.brightness_low", "cash_box.full")
        .replace("remedy display.set_brightness", "visit cash_box.full"),
    )
    with pytest.raises(SystemExit) as typo:
        main(["scenario", "validate", str(path)])
    assert typo.value.code == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        f"{path}:11: timeline.0.act: insert-note takes VALUE, a face value the unit knows (5, 10, "
        "20, 50, 100, 200, 500 EUR); given: 7 (to offer a note the unit does not know on "
        "purpose, write 'insert-unknown-note 7')"
    )
    path.write_text(path.read_text().replace("insert-note 7", "insert-unknown-note 7"))
    with pytest.raises(SystemExit) as fixed:
        main(["scenario", "validate", str(path)])
    assert fixed.value.code == 0
    assert capsys.readouterr().out.startswith(f"ok {path}: tiny (P3, 1 step, 1 expectation)")


def test_run_cli_reports_checks_and_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ok:
        main(["scenario", "run", str(_write(tmp_path, GOOD))])
    assert ok.value.code == 0
    out = capsys.readouterr().out
    assert "Tue 09:00:00  fault display.brightness_low injected" in out
    assert "ok   Tue 09:55:00  active: display.brightness_low" in out
    failing = tmp_path / "f.yaml"
    failing.write_text(GOOD.replace("expect:\n  - active:", "expect:\n  - inactive:"))
    with pytest.raises(SystemExit) as bad:
        main(["scenario", "run", str(failing)])
    assert bad.value.code == 1
    assert (
        "FAIL Tue 09:55:00  inactive: still active: display.brightness_low"
        in capsys.readouterr().out
    )


def test_an_unknown_scenario_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["scenario", "run", "no-such-thing"])
    assert info.value.code == 2
    assert (
        "unknown scenario 'no-such-thing'; see 'workbench scenario list'" in capsys.readouterr().err
    )


def test_a_profile_path_is_read_beside_the_scenario_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # it was read from the current directory: the trainer's folder of a scenario and its
    # profile worked only from inside that folder ("profile: small.yaml: no such file")
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "small.yaml").write_text("name: small\ndevices:\n  display: {}\n")
    path = folder / "tiny.yaml"
    path.write_text(GOOD.replace("profile: bill_payment", "profile: small.yaml"))
    monkeypatch.chdir(tmp_path)
    assert load(str(path)).profile.name == "small"
    assert load("course/tiny.yaml").profile.name == "small"
    (folder / "small.yaml").unlink()
    with pytest.raises(
        ConfigError, match=r"^course/tiny.yaml:3: profile: course/small.yaml: no such"
    ):
        load("course/tiny.yaml")


def test_show_says_when_the_ticket_arrives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'scenario show' gave the start and the ticket's words, not when the ticket comes: a
    trainer briefing a class could not say when to expect it."""
    text = GOOD.replace("start: tuesday 08:55", "start: tuesday 23:30").replace(
        "ticket:\n", "ticket:\n  at: 45m\n  reporter: the night guard\n"
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["scenario", "show", str(_write(tmp_path, text))])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.splitlines() == [
        "A tiny scenario (P3, bill_payment)",
        "simulated start: Tuesday 2026-12-01 23:30",
        "ticket at Wed 00:15:00 (+45:00) from the night guard:",
        "  The screen is dark.",
    ]
