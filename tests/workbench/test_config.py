"""YAML loading: one-line errors that name the file, the line and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.config import Duration, Strict, parse_duration, parse_yaml
from workbench.errors import ConfigError


class Inner(Strict):
    size: int
    label: str = ""


class Outer(Strict):
    name: str
    parts: list[Inner] = []
    wait: Duration = 0.0


def test_unknown_key_names_file_line_and_valid_keys() -> None:
    text = "name: a\nparts:\n  - size: 1\n  - size: 2\n    colour: red\n"
    with pytest.raises(ConfigError) as info:
        parse_yaml(text, Outer, "plan.yaml")
    assert (
        str(info.value) == "plan.yaml:5: unknown key 'colour' in parts.1; valid keys: label, size"
    )


def test_wrong_type_names_the_field_and_line() -> None:
    with pytest.raises(
        ConfigError, match=r"^plan.yaml:3: parts.0.size: Input should be a valid integer"
    ):
        parse_yaml("name: a\nparts:\n  - size: many\n", Outer, "plan.yaml")


def test_missing_field_and_broken_yaml() -> None:
    with pytest.raises(ConfigError, match=r"^p.yaml:1: name: Field required"):
        parse_yaml("parts: []\n", Outer, "p.yaml")
    with pytest.raises(ConfigError, match=r"^p.yaml:2: not valid YAML"):
        parse_yaml("name: a\n  - : [\n", Outer, "p.yaml")


class Timed(Strict):
    years: float = 1.0


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", ".NaN"])
def test_an_infinite_or_nan_number_is_refused_at_its_line(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^plan.yaml:2: years: Input should be a finite number"):
        parse_yaml(f"# a plan\nyears: {value}\n", Timed, "plan.yaml")


def test_an_infinite_plan_year_is_refused_by_capacity_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.capacity.config import default_plan_text
    from workbench.cli import main

    plan = tmp_path / "plan.yaml"
    plan.write_text(default_plan_text().replace("\nyears: 1\n", "\nyears: .inf\n"))
    with pytest.raises(SystemExit) as exited:
        main(["capacity", "run", str(plan)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err == f"workbench: error: {plan}:8: years: Input should be a finite number\n"


def test_an_impossible_date_is_a_one_line_error_at_its_line() -> None:
    # PyYAML turns 2027-02-30 into datetime.date(...), which raised ValueError: a traceback
    with pytest.raises(ConfigError) as info:
        parse_yaml("name: a\nlabel: x\nholidays: [2027-01-01, 2027-02-30]\n", Outer, "plan.yaml")
    assert str(info.value) == (
        "plan.yaml:3: not valid YAML: '2027-02-30' is not a date: day is out of range for month"
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(90, 90.0), ("90s", 90.0), ("10m", 600.0), ("2h", 7200.0), ("1.5d", 129600.0)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert parse_yaml(f"name: x\nwait: {text}\n", Outer).wait == seconds


def test_bad_duration_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"p.yaml:2: wait: .*like '90s'"):
        parse_yaml("name: x\nwait: soon\n", Outer, "p.yaml")


def test_a_misspelt_required_key_is_reported_as_the_typo() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^p.yaml:1: unknown key 'nmae'; valid keys: name, parts, wait; did you mean 'name'\?$",
    ):
        parse_yaml("nmae: a\n", Outer, "p.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: a\nparts: &p [*p]\n", "plan.yaml:2: an alias refers to a value that contains it"),
        ("name: &n {x: *n}\n", "plan.yaml:1: an alias refers to a value that contains it"),
        ("name: a\nparts: " + "[" * 100 + "]" * 100 + "\n", "plan.yaml:2: nested deeper than 64"),
        (
            "name: a\nparts: " + "[ " * 5000 + "]" * 5000 + "\n",
            "plan.yaml:2: nested deeper than 64",
        ),
        ("name: a\nparts:\n  " + "- " * 3000 + "1\n", "plan.yaml: nested deeper than 64"),
        (
            "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
            + "".join(
                f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
                for p, c in zip("abcd", "bcde", strict=True)
            ),
            "plan.yaml:1: more than 100,000 values once aliases are expanded",
        ),
    ],
)
def test_hostile_yaml_is_a_one_line_error(text: str, message: str) -> None:
    # a recursive alias or deep nesting raised RecursionError; an alias bomb ran for minutes
    with pytest.raises(ConfigError) as info:
        parse_yaml(text, Outer, "plan.yaml")
    assert str(info.value).startswith(message)


def test_a_file_that_is_not_utf8_is_a_one_line_error(tmp_path: Path) -> None:
    from devices.profiles import load_profile
    from remote.window import CertificateAuthority

    bad = tmp_path / "kiosk.yaml"
    bad.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_profile(bad)
    assert str(info.value) == f"{bad}:1: not UTF-8 text (byte 0xe9 at offset 9)"
    ca = CertificateAuthority.init(tmp_path / "CA")
    (ca.dir / "window.yaml").write_bytes(b"# window\ndefault_hours: 1 \xff\n")
    with pytest.raises(ConfigError, match=r"window\.yaml:2: not UTF-8 text \(byte 0xff"):
        CertificateAuthority(ca.dir)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: a\nwait: 5\nname: b\n", "plan.yaml:3: key 'name' written twice (first at line 1)"),
        (
            "name: a\nparts:\n  - size: 1\n    label: x\n    size: 2\n",
            "plan.yaml:5: key 'size' written twice in parts.0 (first at line 3)",
        ),
        (
            "name: a\nparts: [{size: 1, size: 2}]\n",
            "plan.yaml:2: key 'size' written twice in parts.0",
        ),
    ],
)
def test_a_key_written_twice_is_refused_at_its_second_line(text: str, message: str) -> None:
    # YAML keeps the last value without a word: a second 'name:' replaced the first
    with pytest.raises(ConfigError) as info:
        parse_yaml(text, Outer, "plan.yaml")
    assert str(info.value).startswith(message)
    assert str(info.value).endswith("; YAML would keep only the last")


def test_a_merge_key_may_repeat_and_still_loads() -> None:
    text = "base: &b {size: 1}\nname: a\nparts:\n  - <<: *b\n    label: x\n"
    with pytest.raises(ConfigError, match="unknown key 'base'"):  # the schema, not the repeat
        parse_yaml(text, Outer, "plan.yaml")
    assert parse_yaml("name: a\nparts:\n  - {<<: {size: 3}, label: y}\n", Outer).parts[0].size == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "p.yaml:1: the file holds a list, not a mapping of keys (name)"),
        ("just text\n", "p.yaml:1: the file holds a line of text, not a mapping of keys (name)"),
        ("", "p.yaml: the file is empty; it needs name"),
        ("# only a comment\n", "p.yaml: the file is empty; it needs name"),
    ],
)
def test_a_file_that_is_no_mapping_says_so_in_a_users_words(text: str, message: str) -> None:
    # pydantic said "document: Input should be a valid dictionary or instance of Outer", and
    # an empty scenario file was six "Field required" lines
    with pytest.raises(ConfigError) as info:
        parse_yaml(text, Outer, "p.yaml")
    assert str(info.value) == message
