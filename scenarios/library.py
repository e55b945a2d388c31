"""Finding and loading scenario files: the shipped library (``scenarios/library/*.yaml``) by name,
any other file by path, each checked against the schema and then against the world it names
(the fault catalog, the profile's devices and actions, the remedies), errors naming file:line.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import simpy
from pydantic import ValidationError

from devices.base import Device
from devices.catalog import default_catalog
from devices.profiles import Profile, load_profile
from devices.terminal import Terminal
from devices.transports.wire import Wire
from scenarios.schema import Scenario
from workbench.config import key_lines, parse_yaml
from workbench.errors import ConfigError, WorkbenchError

LIBRARY_DIR = Path(__file__).with_name("library")

_Fail = Callable[[tuple[str | int, ...], str], ConfigError]


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
    """Read, validate and check a scenario; every problem is a one-line :class:`ConfigError`."""
    path = find(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    scenario = parse_yaml(text, Scenario, str(path))
    lines = key_lines(text)

    def fail(where: tuple[str | int, ...], message: str) -> ConfigError:
        line = next(
            (lines[where[:n]] for n in range(len(where), 0, -1) if where[:n] in lines), None
        )
        dotted = ".".join(str(p) for p in where)
        return ConfigError(f"{path}:{line}: {dotted}: {message}" if line else f"{path}: {message}")

    if path.parent.resolve() == LIBRARY_DIR.resolve() and scenario.name != path.stem:
        raise fail(("name",), f"a library scenario is named as its file ({path.stem!r})")
    try:
        profile = load_profile(scenario.profile)
    except ConfigError as exc:
        raise fail(("profile",), str(exc)) from None
    try:
        usage = scenario.usage_settings(profile.usage)
    except ValidationError as exc:
        first = exc.errors()[0]
        msg = str(first["msg"]).removeprefix("Value error, ")
        raise fail(("usage", *first["loc"]), msg) from None
    profile = replace(profile, usage=usage)
    _check_world(scenario, profile, fail)
    return Loaded(scenario, profile, path)


def _check_world(scenario: Scenario, profile: Profile, fail: _Fail) -> None:
    """The scenario names faults, devices, actions, toxics and remedies this world has."""
    from remote.remedies import REMEDIES

    catalog = default_catalog()
    terminal = Terminal(simpy.Environment(), "CHECK", profile, catalog)
    faults = set(terminal.owner)
    known = set(catalog)  # FaultCatalog's [] raises CatalogError, so 'in' cannot be used on it
    device_list = ", ".join(terminal.devices)

    def fault(where: tuple[str | int, ...], fault_id: str) -> None:
        if fault_id not in known:
            raise fail(where, catalog.unknown(fault_id))
        if fault_id not in faults:
            raise fail(where, f"profile {profile.name!r} has no device showing {fault_id!r}")

    def device(where: tuple[str | int, ...], name: str) -> None:
        if name not in terminal.devices:
            raise fail(
                where, f"profile {profile.name!r} has no device {name!r}; it has {device_list}"
            )

    for n, step in enumerate(scenario.timeline):
        at: tuple[str | int, ...] = ("timeline", n)
        if step.inject is not None:
            fault((*at, "inject"), step.inject)
        elif step.clear is not None:
            fault((*at, "clear"), step.clear)
        elif step.act is not None:
            action = shlex.split(step.act)[0]
            owners = [
                d
                for name, d in terminal.devices.items()
                if action in d.actions and step.device in (None, name)
            ]
            if step.device is not None:
                device((*at, "device"), step.device)
            if not owners and step.device is not None:
                mine = ", ".join(sorted(terminal.devices[step.device].actions))
                raise fail(
                    (*at, "act"), f"{step.device} has no action {action!r}; its actions: {mine}"
                )
            if not owners:
                actions = sorted({a for d in terminal.devices.values() for a in d.actions})
                raise fail(
                    (*at, "act"), f"no device has action {action!r}; actions: {', '.join(actions)}"
                )
            if len(owners) > 1:
                names = ", ".join(d.name for d in owners)
                raise fail((*at, "act"), f"action {action!r} is ambiguous ({names}); add 'device'")
            _check_arguments(owners[0], action, shlex.split(step.act)[1:], (*at, "act"), fail)
        elif step.toxic is not None:
            device((*at, "toxic", "device"), step.toxic.device)
            try:
                Wire().add(step.toxic.type, attributes=step.toxic.attributes)
            except WorkbenchError as exc:
                raise fail((*at, "toxic"), str(exc)) from None
        elif step.remove_toxic is not None:
            device((*at, "remove_toxic", "device"), step.remove_toxic.device)
    for n, item in enumerate(scenario.expect):
        for key in ("active", "inactive", "raised"):
            for i, fault_id in enumerate(getattr(item, key) or []):
                fault(("expect", n, key, i), fault_id)
        if item.events is not None:
            device(("expect", n, "events", "device"), item.events.device)
        for name in item.toxics or {}:
            device(("expect", n, "toxics", name), name)
        if item.app is not None and (profile.usage is None or not profile.usage.enabled):
            raise fail(
                ("expect", n, "app"), "counts customers, but the run has none (usage.enabled)"
            )
    answer = scenario.answer
    for i, fault_id in enumerate(answer.faults):
        fault(("answer", "faults", i), fault_id)
    for i, action in enumerate([*answer.actions, *answer.harmful]):
        where: tuple[str | int, ...] = (
            ("answer", "actions", i) if i < len(answer.actions) else ("answer", "harmful")
        )
        verb, _, arg = action.partition(" ")
        arg = arg.strip()
        if verb == "remedy" and arg not in REMEDIES:
            raise fail(where, f"no remedy {arg!r}; remedies: {', '.join(REMEDIES)}")
        if verb == "visit":
            fault(where, arg)
        if verb not in ("remedy", "visit"):
            raise fail(where, f"{action!r} must be 'remedy NAME' or 'visit FAULT_ID'")
    for i, action in enumerate(answer.actions):
        verb, _, arg = action.partition(" ")
        arg = arg.strip()
        if verb == "visit" and arg not in answer.faults:
            raise fail(
                ("answer", "actions", i), f"a visit for {arg!r}, which is not in answer.faults"
            )
        if verb == "remedy" and not any(catalog[f].remedy == arg for f in answer.faults):
            raise fail(
                ("answer", "actions", i),
                f"remedy {arg!r} clears none of answer.faults ({', '.join(answer.faults)})",
            )


def _check_arguments(
    owner: Device[Any], action: str, args: list[str], where: tuple[str | int, ...], fail: _Fail
) -> None:
    """The step gives the action as many arguments as it takes, each of the form the device
    declares for it (``insert-note`` a whole number): the check ``kiosk act`` makes, in its
    words. What only the device's state decides (a touch off its screen) is judged when the
    step plays."""
    if (wrong := owner.wrong_arguments(action, args)) is not None:
        raise fail(where, wrong)
