"""The capacity plan as a validated schema: regions, centres, engineers, fleet, hotline, parts, calendar.

A plan is YAML read through :func:`workbench.config.load_yaml`, so an unknown key anywhere is
refused with its file and line. All durations are hours unless the key says otherwise
(``call_minutes``, ``lead_time_days``).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from workbench.capacity.clauses import BY_KEY, DEFAULT_TARGET
from workbench.config import Strict, load_yaml, parse_yaml, read_yaml, validation_problems
from workbench.errors import ConfigError
from workbench.sla import INSPECTIONS_PER_YEAR, REMOTE_WINDOW_HOURS

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Skill(StrEnum):
    """The two maintenance groups of the service plan."""

    basic = "basic"
    self_service = "self_service"


class Dist(Strict):
    """A positive random duration: lognormal (mean, cv), exponential (mean) or fixed (mean)."""

    mean: float = Field(gt=0)
    cv: float = Field(default=0.5, ge=0)
    kind: Literal["lognormal", "exponential", "fixed"] = "lognormal"

    def draw(self, rng: random.Random, scale: float = 1.0) -> float:
        """One sample, multiplied by ``scale`` (a unit conversion or a per-fault mean)."""
        if self.kind == "fixed" or (self.kind == "lognormal" and self.cv == 0):
            return self.mean * scale
        if self.kind == "exponential":
            return rng.expovariate(1.0 / (self.mean * scale))
        sigma2 = math.log1p(self.cv * self.cv)
        mu = math.log(self.mean * scale) - sigma2 / 2
        return rng.lognormvariate(mu, math.sqrt(sigma2))

    def sampler(self, rng: random.Random, scale: float = 1.0) -> Callable[[], float]:
        """A fast closure drawing from this distribution (parameters worked out once)."""
        mean = self.mean * scale
        if self.kind == "fixed" or (self.kind == "lognormal" and self.cv == 0):
            return lambda: mean
        if self.kind == "exponential":
            expo, rate = rng.expovariate, 1.0 / mean
            return lambda: expo(rate)
        sigma2 = math.log1p(self.cv * self.cv)
        mu, sigma, lognorm = math.log(mean) - sigma2 / 2, math.sqrt(sigma2), rng.lognormvariate
        return lambda: lognorm(mu, sigma)

    def transform(self, z: np.ndarray, u: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """Samples from standard normal ``z`` (lognormal) or uniform ``u`` (exponential) draws.

        Vectorised: the model draws a chunk of faults' variates at once and maps each through
        its own distribution, so a fault's durations depend only on its index in the stream.
        """
        mean = self.mean * scale
        if self.kind == "fixed" or (self.kind == "lognormal" and self.cv == 0):
            return np.full(z.shape, mean)
        if self.kind == "exponential":
            return -mean * np.log1p(-u)
        sigma2 = math.log1p(self.cv * self.cv)
        return np.exp(math.log(mean) - sigma2 / 2 + math.sqrt(sigma2) * z)


class Shift(Strict):
    """A working pattern: starts at ``start`` o'clock on each of ``days`` and lasts ``hours``."""

    start: float = Field(ge=0, lt=24)
    hours: float = Field(gt=0, le=24)
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    holidays_off: bool = False


class Calendar(Strict):
    """The business calendar: which days are working days (the P3 '2 working days' clock)."""

    start_date: date = date(2027, 1, 1)
    workdays: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    holidays: list[date] = Field(default_factory=list)


class EngineerGroup(Strict):
    """Engineers of one centre who share a shift and skills."""

    count: int = Field(ge=0)
    shift: str
    skills: list[Skill] = Field(min_length=1)


class FleetGroup(Strict):
    """Terminals of one profile at one centre, accepted on one date (warranty starts the day after)."""

    profile: str
    count: int = Field(ge=0)
    installed: date


class Centre(Strict):
    """A provincial service centre: its engineers, its terminals, travel to them, stock and standbys."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_ -]*$")
    travel: Dist
    engineers: list[EngineerGroup]
    fleet: list[FleetGroup]
    standby: int | None = Field(default=None, ge=0)
    stock: dict[str, int] | None = None


class Region(Strict):
    """A regional service centre; its provincial centres lend engineers to each other."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    cross_centre_hours: float = Field(default=1.5, ge=0)
    centres: list[Centre] = Field(min_length=1)


class Hotline(Strict):
    """The 7x24 hotline: agents answering fault reports (contact clock: 5 minutes).

    Faults the rate table gives to the hotline are talked through with the branch on the call
    (``guided_minutes`` longer); ``guided_success`` of them are closed on the phone, the rest
    go to an engineer.
    """

    agents: int = Field(ge=1)
    call_minutes: Dist
    guided_minutes: Dist = Field(default_factory=lambda: Dist(mean=15.0))
    guided_success: float = Field(default=0.8, ge=0, le=1)


class Handler(StrEnum):
    """Who deals with a fault: branch staff, the hotline, the remote desk or an engineer on site."""

    staff = "staff"
    hotline = "hotline"
    remote = "remote"
    onsite = "onsite"


class Basis(StrEnum):
    """Where a rate comes from: a cited public source, the catalog's MTBF, or an assumption."""

    cited = "cited"
    catalog = "catalog"
    assumption = "assumption"


class RateEntry(Strict):
    """The rate the plan uses for one fault mode, where it comes from, and who handles it.

    ``per_year`` is per terminal carrying the device; with ``basis: catalog`` it is left out
    and the catalog's MTBF is used. ``source`` says what the figure rests on.
    """

    per_year: float | None = Field(default=None, ge=0)
    basis: Basis
    source: str = Field(min_length=1)
    handler: Handler

    @model_validator(mode="after")
    def _rate_given(self) -> RateEntry:
        if self.basis is Basis.catalog and self.per_year is not None:
            raise ValueError("basis 'catalog' takes the catalog's MTBF: leave per_year out")
        if self.basis is not Basis.catalog and self.per_year is None:
            raise ValueError(f"basis {self.basis.value!r} needs per_year")
        return self


class Remote(Strict):
    """The remote desk: attempts a fix of remote-fixable faults inside the remote window."""

    enabled: bool = True
    desk_engineers: int = Field(ge=1)
    success_rate: float = Field(ge=0, le=1)
    attempt_minutes: Dist
    window_hours: float = Field(default=REMOTE_WINDOW_HOURS, gt=0)


class Repair(Strict):
    """How repair times spread around the catalog's means, and what a standby swap costs."""

    cv: float = Field(default=0.5, ge=0)
    swap_minutes: float = Field(default=30.0, ge=0)


class Parts(Strict):
    """Spare parts: base stock per centre (one-for-one reordering) and the lead time of an order."""

    lead_time_days: Dist
    default_stock: int = Field(default=2, ge=0)
    stock: dict[str, int] = Field(default_factory=dict)


class Standby(Strict):
    """Standby terminals per centre, swapped in when a repair cannot meet its restore clock."""

    per_centre: int = Field(default=2, ge=0)


class Inspection(Strict):
    """The inspection programme: visits per terminal per year and how long one takes."""

    enabled: bool = True
    per_year: int = Field(default=INSPECTIONS_PER_YEAR, ge=0)
    minutes: Dist


class Sla(Strict):
    """Target shares: the share of faults that must meet each clock for its clause to hold."""

    target: float = Field(default=DEFAULT_TARGET, ge=0, le=1)
    shares: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> Sla:
        for name, share in self.shares.items():
            if name not in BY_KEY:
                raise ValueError(f"unknown SLA clause {name!r}; valid: {', '.join(BY_KEY)}")
            if not 0 <= share <= 1:
                raise ValueError(f"share of {name!r} must be in [0, 1], got {share}")
        return self


class Plan(Strict):
    """A whole capacity plan: the support organisation, the fleet and the service terms it runs."""

    name: str = "capacity plan"
    years: float = Field(default=1.0, gt=0)
    calendar: Calendar = Field(default_factory=Calendar)
    shifts: dict[str, Shift]
    skills: dict[str, Skill]
    profiles: dict[str, list[str]] = Field(default_factory=dict)
    hotline: Hotline
    remote: Remote
    repair: Repair = Field(default_factory=Repair)
    parts: Parts
    standby: Standby = Field(default_factory=Standby)
    inspection: Inspection
    regions: list[Region] = Field(min_length=1)
    sla: Sla = Field(default_factory=Sla)
    rates: dict[str, RateEntry] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> Plan:
        # each error names its path ("regions.0.centres.1.name: ..."), so the loader says the
        # line it is on rather than the document's first line
        seen: set[str] = set()
        for i, region in enumerate(self.regions):
            named = [(f"regions.{i}.name", region.name)] + [
                (f"regions.{i}.centres.{j}.name", c.name) for j, c in enumerate(region.centres)
            ]
            for path, name in named:
                if name in seen:
                    raise ValueError(
                        f"{path}: {name!r} is named twice; region and centre names must be unique"
                    )
                seen.add(name)
        for i, region in enumerate(self.regions):
            for j, centre in enumerate(region.centres):
                where = f"regions.{i}.centres.{j}"
                for k, group in enumerate(centre.engineers):
                    if group.shift not in self.shifts:
                        raise ValueError(
                            f"{where}.engineers.{k}.shift: centre {centre.name!r}: unknown shift "
                            f"{group.shift!r}; valid shifts: {', '.join(sorted(self.shifts))}"
                        )
                for k, fleet in enumerate(centre.fleet):
                    if fleet.profile not in self.skills:
                        raise ValueError(
                            f"{where}.fleet.{k}.profile: centre {centre.name!r}: profile "
                            f"{fleet.profile!r} has no skill in 'skills'; known profiles: "
                            f"{', '.join(sorted(self.skills))}"
                        )
        return self

    @property
    def engineers(self) -> int:
        """Engineers in the whole organisation."""
        return sum(g.count for r in self.regions for c in r.centres for g in c.engineers)

    @property
    def terminals(self) -> int:
        """Terminals in the whole fleet."""
        return sum(f.count for r in self.regions for c in r.centres for f in c.fleet)

    def region_engineers(self, region: str) -> int:
        """Engineers in one region."""
        r = next(r for r in self.regions if r.name == region)
        return sum(g.count for c in r.centres for g in c.engineers)


DEFAULT_PLAN = "default.yaml"


def default_plan_text() -> str:
    """The YAML of the plan shipped with the package, comments included."""
    return resources.files(__package__).joinpath(DEFAULT_PLAN).read_text(encoding="utf-8")


def load_plan(path: str | Path | None = None) -> Plan:
    """Read a plan file, or the plan shipped with the package when ``path`` is None; a file
    with several problems says its first and how to list them all."""
    if path is None:
        return parse_yaml(default_plan_text(), Plan, f"workbench/capacity/{DEFAULT_PLAN}")
    try:
        return load_yaml(path, Plan)
    except ConfigError as exc:
        said = str(exc)
        if re.search(r" \(and \d+ more problems?\)$", said):
            hint = f": 'workbench capacity plan check {path}' lists each)"
            raise ConfigError(said[:-1] + hint) from None
        raise


def plan_problems(path: str | Path) -> tuple[Plan | None, list[str]]:
    """The plan in a file, or every problem its schema finds, one line each in the file's
    order (``FILE:LINE: where: what``): what ``capacity plan check`` says."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        data, lines = read_yaml(text, str(p))
    except FileNotFoundError:
        return None, [f"{p}: no such file"]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{p}: cannot read: {exc}"]
    except ConfigError as exc:
        return None, [str(exc)]
    try:
        return Plan.model_validate(data), []
    except ValidationError as exc:
        return None, [said for _, said in validation_problems(exc, str(p), lines, Plan)]
