"""Terminal profiles: which devices a kind of kiosk has, on which transports, with which
capacities and wear rates, and which faults arrive on their own (MTBF or a timeline).

Profiles are YAML files in ``devices/profiles/``; ``--profile NAME`` finds ``NAME.yaml`` there,
and a path to a file of the same shape works too. Unknown keys are refused with file:line.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, PositiveFloat, create_model, model_validator

from devices.registry import KINDS
from devices.usage import UsageSettings
from workbench.config import Duration, Strict, key_lines, load_yaml
from workbench.errors import ConfigError

PROFILE_DIR = Path(__file__).with_name("profiles")


class ScheduledToxic(Strict):
    """A wire fault (see :mod:`devices.transports.wire`) between a device and its ports."""

    device: str
    type: str
    stream: Literal["upstream", "downstream"] = "downstream"
    toxicity: float = Field(1.0, ge=0.0, le=1.0)
    attributes: dict[str, float] = {}


class ScheduledFault(Strict):
    """A catalog fault (``inject``) or a wire fault (``toxic``) raised at a simulated time after
    start, optionally cleared some time later."""

    at: Duration
    inject: str | None = None
    toxic: ScheduledToxic | None = None
    clear_after: Duration | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ScheduledFault:
        if (self.inject is None) == (self.toxic is None):
            raise ValueError("a scheduled item names either 'inject' (a fault id) or 'toxic'")
        return self


class FaultPlan(Strict):
    """How faults arrive on their own on this kind of terminal."""

    mtbf: bool = False
    """Draw faults from the catalog's MTBF."""
    mtbf_scale: PositiveFloat = 1.0
    """Multiply every catalog rate (a training speed-up)."""
    schedule: list[ScheduledFault] = []
    self_clearing: dict[str, Duration] = {}
    """Faults that clear themselves this long after they arise (``{network.high_latency: 20m}``);
    every other fault, however it arrived, stays until a remedy or a site visit clears it."""


@cache
def _devices_model() -> type[BaseModel]:
    """A schema with one optional entry per known device kind: its settings plus ``transports``."""
    fields: dict[str, Any] = {}
    for name, k in KINDS.items():
        choices: Any = Literal.__getitem__(k.transports)
        entry = create_model(
            f"{name}_entry",
            __base__=k.settings_model,
            transports=(list[choices], list(k.default_transports)),
        )
        fields[name] = (entry | None, None)
    model: type[BaseModel] = create_model("devices", __base__=Strict, **fields)
    return model


@dataclass(frozen=True)
class Profile:
    """A validated terminal profile: its devices (name -> settings entry) and its fault plan."""

    name: str
    description: str
    devices: dict[str, Any]
    faults: FaultPlan
    source: Path
    usage: UsageSettings | None = None
    """Customers and the kiosk application (:mod:`devices.usage`), when the profile has them."""


@cache
def _profile_model() -> type[BaseModel]:
    model: type[BaseModel] = create_model(
        "profile",
        __base__=Strict,
        name=(str, ...),
        description=(str, ""),
        devices=(_devices_model(), ...),
        faults=(FaultPlan, FaultPlan()),
        usage=(UsageSettings | None, None),
    )
    return model


def where(profile: Profile, *path: str | int, shown: int | None = None) -> str:
    """``FILE:LINE: dotted.path`` of a key in a profile, for a check made after loading (the
    line is left out when the file cannot be read again); ``shown`` parts of the path are named."""
    dotted = ".".join(str(p) for p in path[:shown])
    try:
        lines = key_lines(profile.source.read_text(encoding="utf-8"))
    except (OSError, ValueError, ConfigError, yaml.YAMLError):
        return f"{profile.source}: {dotted}"
    line = next((lines[path[:n]] for n in range(len(path), 0, -1) if path[:n] in lines), None)
    return f"{profile.source}:{line}: {dotted}" if line else f"{profile.source}: {dotted}"


def available() -> list[str]:
    """Names of the profiles shipped with the workbench."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a shipped profile by name, or a profile file by path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = PROFILE_DIR / f"{name_or_path}.yaml"
        if not path.exists():
            raise ConfigError(
                f"unknown profile {str(name_or_path)!r}; available: {', '.join(available())}"
            )
    data: Any = load_yaml(path, _profile_model())
    entries = {n: e for n in KINDS if (e := getattr(data.devices, n)) is not None}
    if not entries:
        raise ConfigError(f"{path}: profile {data.name!r} has no devices")
    return Profile(data.name, data.description, entries, data.faults, path, data.usage)
