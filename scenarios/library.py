"""Finding and loading scenario files: the shipped library (``scenarios/library/*.yaml``) by name,
any other file by path, each checked against the schema and then against the world it names
(the fault catalog, the profile's devices and actions, the remedies), errors naming file:line.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import simpy
from pydantic import BaseModel, TypeAdapter, ValidationError

from devices.catalog import default_catalog
from devices.profiles import Profile, load_profile
from devices.terminal import Terminal
from devices.transports.wire import Wire
from scenarios.schema import (
    Answer,
    Expectation,
    RunDuration,
    Scenario,
    Step,
    UsageOverrides,
    late,
    merged_usage,
)
from workbench.config import line_of, read_yaml, validation_problems
from workbench.errors import ConfigError, WorkbenchError
from workbench.faults import FaultCatalog

LIBRARY_DIR = Path(__file__).with_name("library")

M = TypeVar("M", bound=BaseModel)


def available() -> list[str]:
    """Names of the scenarios shipped in the library."""
    return sorted(p.stem for p in LIBRARY_DIR.glob("*.yaml"))


def find(name_or_path: str | Path) -> Path:
    """A library scenario by name, or a scenario file by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        return path
    path = LIBRARY_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        raise ConfigError(
            f"unknown scenario {str(name_or_path)!r}; see 'workbench scenario list' "
            "or give a path to a .yaml file"
        )
    return path


@dataclass(frozen=True)
class Loaded:
    """A validated scenario with the profile it runs on and where it came from."""

    scenario: Scenario
    profile: Profile
    source: Path


def load(name_or_path: str | Path) -> Loaded:
    """Read, validate and check a scenario; a problem is a one-line :class:`ConfigError` (the
    first in the file, with how many more: :func:`check` says each)."""
    loaded, problems = check(name_or_path)
    if problems:
        more = len(problems) - 1
        tail = (
            f" (and {more} more problem{'s' if more > 1 else ''}: "
            f"'workbench scenario validate' lists each)"
            if more
            else ""
        )
        raise ConfigError(f"{problems[0]}{tail}")
    assert loaded is not None
    return loaded


def check(name_or_path: str | Path) -> tuple[Loaded | None, list[str]]:
    """Read a scenario and find every problem in it, each one line (``FILE:LINE: where: what``),
    in the file's order: the schema's, then what the world it names lacks (its profile's devices,
    their actions and the values their settings allow, the catalog, the remedies). The loaded
    scenario when there is none. A file that cannot be read, or is not YAML, is one problem:
    nothing after it can be checked."""
    try:
        path = find(name_or_path)
    except ConfigError as exc:
        return None, [str(exc)]
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [f"{path}: no such file"]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{path}: cannot read: {exc}"]
    try:
        data, lines = read_yaml(text, str(path))
    except ConfigError as exc:
        return None, [str(exc)]
    problems = _Problems(path, lines)
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems.said.extend(validation_problems(exc, str(path), lines, Scenario))
    parts = _Parts.of(scenario) if scenario is not None else _Parts.pieces(data)
    profile = _check_parts(parts, path, problems)
    if problems.said or scenario is None or profile is None:
        return None, problems.in_order()
    return Loaded(scenario, profile, path), []


class _Problems:
    """The problems found in one file, each kept with its line, to be said in the file's order."""

    def __init__(self, path: Path, lines: dict[tuple[str | int, ...], int]) -> None:
        self.path, self.lines = path, lines
        self.said: list[tuple[int | None, str]] = []

    def __call__(self, where: tuple[str | int, ...], message: str) -> None:
        """One problem at ``where`` (a path of keys and indices; its line is the nearest one
        the file has)."""
        line = line_of(where, self.lines) if where else None
        dotted = ".".join(str(p) for p in where)
        at = f"{self.path}:{line}" if line else f"{self.path}"
        self.said.append((line, f"{at}: {dotted}: {message}" if dotted else f"{at}: {message}"))

    def in_order(self) -> list[str]:
        return [text for _, text in sorted(self.said, key=lambda p: p[0] or 0)]


_Say = Callable[[tuple[str | int, ...], str], None]


@dataclass(frozen=True)
class _Parts:
    """What of a scenario file the world is checked on: the whole scenario when the schema
    takes it, else each piece the schema takes on its own (a typo in one step leaves the others
    checked; the schema's own problems are said already)."""

    name: str | None
    profile: str | None
    duration: float | None
    usage: BaseModel | None
    steps: list[tuple[int, Step]]
    expect: list[tuple[int, Expectation]]
    answer: Answer | None

    @classmethod
    def of(cls, s: Scenario) -> _Parts:
        return cls(
            s.name,
            s.profile,
            s.duration,
            s.usage,
            list(enumerate(s.timeline)),
            list(enumerate(s.expect)),
            s.answer,
        )

    @classmethod
    def pieces(cls, data: Any) -> _Parts:
        data = data if isinstance(data, dict) else {}
        fields = Scenario.model_fields

        def piece(key: str, schema: Any) -> Any:
            if key not in data and fields[key].is_required():
                return None
            try:
                return TypeAdapter(schema).validate_python(data.get(key, fields[key].default))
            except ValidationError:
                return None

        def items(key: str, schema: type[M]) -> list[tuple[int, M]]:
            raw = data.get(key)
            kept = []
            for n, item in enumerate(raw if isinstance(raw, list) else []):
                try:
                    kept.append((n, schema.model_validate(item)))
                except ValidationError:
                    pass
            return kept

        return cls(
            piece("name", Scenario.model_fields["name"].annotation),
            piece("profile", str),
            piece("duration", RunDuration),
            piece("usage", UsageOverrides | None),
            items("timeline", Step),
            items("expect", Expectation),
            piece("answer", Answer),
        )


def _check_parts(parts: _Parts, path: Path, say: _Say) -> Profile | None:
    """Check what of the scenario is whole against the world it names; the profile with the
    scenario's usage when it loads."""
    if (
        parts.name is not None
        and path.parent.resolve() == LIBRARY_DIR.resolve()
        and parts.name != path.stem
    ):
        say(("name",), f"a library scenario is named as its file ({path.stem!r})")
    if parts.duration is not None:
        for where, message in late(parts.duration, parts.steps, parts.expect):
            say(where, message)
    if parts.profile is None:
        return None
    named = Path(parts.profile)
    if named.suffix in (".yaml", ".yml") and not named.is_absolute():
        beside = path.parent / named
        if beside.exists() or not named.exists():  # read beside the scenario, as written there
            named = beside
    try:
        profile = load_profile(named if named.suffix in (".yaml", ".yml") else parts.profile)
    except ConfigError as exc:
        say(("profile",), str(exc))
        return None
    try:
        profile = replace(profile, usage=merged_usage(parts.usage, profile.usage))
    except ValidationError as exc:
        for error in exc.errors():
            msg = str(error["msg"]).removeprefix("Value error, ")
            say(("usage", *error["loc"]), msg)
    _check_world(parts, profile, say)
    return profile


def _check_world(parts: _Parts, profile: Profile, say: _Say) -> None:
    """The scenario names faults, devices, actions (with arguments the profile's devices
    allow), toxics and remedies this world has."""
    from remote.remedies import REMEDIES

    catalog = default_catalog()
    terminal = Terminal(simpy.Environment(), "CHECK", profile, catalog)
    faults = set(terminal.owner)
    known = set(catalog)  # FaultCatalog's [] raises CatalogError, so 'in' cannot be used on it
    device_list = ", ".join(terminal.devices)

    def fault(where: tuple[str | int, ...], fault_id: str) -> bool:
        if fault_id not in known:
            say(where, catalog.unknown(fault_id))
        elif fault_id not in faults:
            say(where, f"profile {profile.name!r} has no device showing {fault_id!r}")
        else:
            return True
        return False

    def device(where: tuple[str | int, ...], name: str) -> bool:
        if name in terminal.devices:
            return True
        say(where, f"profile {profile.name!r} has no device {name!r}; it has {device_list}")
        return False

    for n, step in parts.steps:
        at: tuple[str | int, ...] = ("timeline", n)
        if step.inject is not None:
            fault((*at, "inject"), step.inject)
        elif step.clear is not None:
            fault((*at, "clear"), step.clear)
        elif step.act is not None:
            _check_act(terminal, step, at, say, device)
        elif step.toxic is not None:
            device((*at, "toxic", "device"), step.toxic.device)
            try:
                Wire().add(step.toxic.type, attributes=step.toxic.attributes)
            except WorkbenchError as exc:
                say((*at, "toxic"), str(exc))
        elif step.remove_toxic is not None:
            device((*at, "remove_toxic", "device"), step.remove_toxic.device)
    for n, item in parts.expect:
        for key in ("active", "inactive", "raised"):
            for i, fault_id in enumerate(getattr(item, key) or []):
                fault(("expect", n, key, i), fault_id)
        if item.events is not None:
            device(("expect", n, "events", "device"), item.events.device)
        for name in item.toxics or {}:
            device(("expect", n, "toxics", name), name)
        if item.app is not None and (profile.usage is None or not profile.usage.enabled):
            say(("expect", n, "app"), "counts customers, but the run has none (usage.enabled)")
    if parts.answer is not None:
        _check_answer(parts.answer, catalog, REMEDIES, say, fault)


def _check_act(
    terminal: Terminal,
    step: Step,
    at: tuple[str | int, ...],
    say: _Say,
    device: Callable[[tuple[str | int, ...], str], bool],
) -> None:
    """An ``act`` step names an action one device of the profile has (or the one it names),
    with the arguments it takes, each of the form the device declares and a value its settings
    allow (the check ``kiosk act`` makes, in its words: a touch on this profile's screen, a note
    its validator knows), and ``wait_up_to`` only on an action the device takes in some states
    only. What only the device's state decides is judged when the step plays."""
    assert step.act is not None
    action, *args = shlex.split(step.act)
    if step.device is not None and not device((*at, "device"), step.device):
        return
    owners = [
        d
        for name, d in terminal.devices.items()
        if action in d.actions and step.device in (None, name)
    ]
    if not owners and step.device is not None:
        mine = ", ".join(sorted(terminal.devices[step.device].actions))
        say((*at, "act"), f"{step.device} has no action {action!r}; its actions: {mine}")
    elif not owners:
        actions = sorted({a for d in terminal.devices.values() for a in d.actions})
        say((*at, "act"), f"no device has action {action!r}; actions: {', '.join(actions)}")
    elif len(owners) > 1:
        names = ", ".join(d.name for d in owners)
        say((*at, "act"), f"action {action!r} is ambiguous ({names}); add 'device'")
    elif (wrong := owners[0].wrong_arguments(action, args)) is not None:
        say((*at, "act"), wrong)
    elif step.wait_up_to is not None and owners[0].SPECS[action].waits_on is None:
        waiting = sorted(
            {a for d in terminal.devices.values() for a, x in d.SPECS.items() if x.waits_on}
        )
        some = f" (actions that may wait: {', '.join(waiting)})" if waiting else ""
        say(
            (*at, "wait_up_to"),
            f"{owners[0].name} takes {action} in any state, so there is nothing to wait for{some}",
        )


def _check_answer(
    answer: Answer,
    catalog: FaultCatalog,
    remedies: Any,
    say: _Say,
    fault: Callable[[tuple[str | int, ...], str], bool],
) -> None:
    """The answer key names faults the profile shows, remedies that exist and clear one of
    them, and visits for its own faults."""
    for i, fault_id in enumerate(answer.faults):
        fault(("answer", "faults", i), fault_id)
    for i, action in enumerate([*answer.actions, *answer.harmful]):
        where: tuple[str | int, ...] = (
            ("answer", "actions", i) if i < len(answer.actions) else ("answer", "harmful")
        )
        verb, _, arg = action.partition(" ")
        arg = arg.strip()
        if verb == "remedy" and arg not in remedies:
            say(where, f"no remedy {arg!r}; remedies: {', '.join(remedies)}")
        elif verb == "visit":
            fault(where, arg)
        elif verb not in ("remedy", "visit"):
            say(where, f"{action!r} must be 'remedy NAME' or 'visit FAULT_ID'")
    known = set(catalog)
    for i, action in enumerate(answer.actions):
        verb, _, arg = action.partition(" ")
        arg = arg.strip()
        if verb == "visit" and arg not in answer.faults:
            say(("answer", "actions", i), f"a visit for {arg!r}, which is not in answer.faults")
        elif (
            verb == "remedy"
            and arg in remedies
            and not any(catalog[f].remedy == arg for f in answer.faults if f in known)
        ):
            say(
                ("answer", "actions", i),
                f"remedy {arg!r} clears none of answer.faults ({', '.join(answer.faults)})",
            )
