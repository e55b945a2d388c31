"""YAML loading: one-line errors that name the file, the line and what is wrong."""

from __future__ import annotations

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
