"""The scenario file: a terminal profile, a seed, a simulated start (a weekday and a time of day),
a timeline of faults, customer stimuli and wire toxics, the ticket a trainee receives, the
observations that must hold, the answer key and how a trainee's run is scored.

Every model refuses unknown keys, so a typo is reported as ``file:line: unknown key ... valid
keys: ...; did you mean ...?`` by :func:`workbench.config.load_yaml`.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    PositiveFloat,
    create_model,
    field_validator,
    model_validator,
)

from devices.usage import UsageSettings
from workbench.config import Duration, Strict
from workbench.faults import Severity

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
REFERENCE_MONDAY = dt.date(2026, 11, 30)
"""The week a ``start: monday 08:55`` falls in (a scenario may also give an ISO date)."""

_START = re.compile(r"^\s*(?P<day>\d{4}-\d{2}-\d{2}|[a-zA-Z]+)\s+(?P<h>\d{1,2}):(?P<m>\d{2})\s*$")


def parse_start(text: str) -> dt.datetime:
    """``monday 08:55`` or ``2026-12-02 14:30`` as a date and time (weekday names: the reference
    week of :data:`REFERENCE_MONDAY`)."""
    m = _START.match(str(text))
    if not m:
        raise ValueError(f"start(={text!r}) must look like 'monday 08:55' or '2026-12-02 14:30'")
    day, hour, minute = m["day"].lower(), int(m["h"]), int(m["m"])
    if hour > 23 or minute > 59:
        raise ValueError(f"start(={text!r}): no such time of day")
    if day in WEEKDAYS:
        date = REFERENCE_MONDAY + dt.timedelta(days=WEEKDAYS.index(day))
    else:
        try:
            date = dt.date.fromisoformat(day)
        except ValueError:
            raise ValueError(
                f"start(={text!r}): {m['day']!r} is neither a weekday ({', '.join(WEEKDAYS)}) "
                "nor a date YYYY-MM-DD"
            ) from None
    return dt.datetime.combine(date, dt.time(hour, minute))


class Toxic(Strict):
    """A wire fault to add between a device and its ports (toxiproxy vocabulary)."""

    device: str
    type: str
    name: str | None = None
    stream: Literal["upstream", "downstream"] = "downstream"
    toxicity: float = Field(default=1.0, ge=0.0, le=1.0)
    attributes: dict[str, float] = {}


class ToxicRemoval(Strict):
    """Remove one named toxic of a device, or all of its toxics."""

    device: str
    name: str | None = None


class MtbfDraw(Strict):
    """Draw catalog faults at their MTBF rates (times ``scale``) for a period."""

    period: Duration
    scale: PositiveFloat = 1.0


class Step(Strict):
    """One timeline entry: at simulated time ``at`` (from the start), do exactly one thing."""

    at: Duration = 0.0
    inject: str | None = None
    clear: str | None = None
    act: str | None = None
    """A customer or staff stimulus as on the command line: ``insert-note 20``."""
    device: str | None = None
    """The device for ``act`` when more than one knows the action."""
    wait_up_to: Duration | None = None
    """With ``act``: when the device would not take the stimulus at ``at`` (a note while no
    customer is at the cash screen, so the validator is not enabled), the step waits until it
    would, at most this long (the other steps keep their times); still refused then, the step
    fails. Only an action a device takes in some states only (``insert-note``...) waits."""
    toxic: Toxic | None = None
    remove_toxic: ToxicRemoval | None = None
    mtbf: MtbfDraw | None = None
    note: str = ""
    """What this step stands for in the story (shown in the run log)."""

    @model_validator(mode="after")
    def _one_thing(self) -> Step:
        kinds = [k for k in ACTIONS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                f"a timeline step does exactly one of {', '.join(ACTIONS)} "
                f"(this one: {', '.join(kinds) or 'none'})"
            )
        if self.device is not None and self.act is None:
            raise ValueError("'device' goes with 'act' only")
        if self.wait_up_to is not None and self.act is None:
            raise ValueError("'wait_up_to' goes with 'act' only")
        if self.wait_up_to == 0:
            raise ValueError("wait_up_to(=0) must be more than 0 (leave it out not to wait)")
        if self.act is not None:
            try:
                if not shlex.split(self.act):
                    raise ValueError
            except ValueError:
                raise ValueError(
                    f"act(={self.act!r}) must be an action and its arguments"
                ) from None
        return self

    @property
    def kind(self) -> str:
        """Which of :data:`ACTIONS` this step does."""
        return next(k for k in ACTIONS if getattr(self, k) is not None)


ACTIONS = ("inject", "clear", "act", "toxic", "remove_toxic", "mtbf")


class Ticket(Strict):
    """What the branch staff report, in their words, and when the trainee receives it."""

    at: Duration = 0.0
    reporter: str = "branch staff"
    text: str


_COMPARE = re.compile(r"^\s*(>=|<=|==|>|<|=)?\s*(-?\d+(?:\.\d+)?)\s*$")


def parse_comparison(value: object) -> tuple[str, float]:
    """``">= 3"``, ``"< 1.5"`` or a bare number (equal) as ``(operator, number)``."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number or a comparison like '>= 1'")
    if isinstance(value, int | float):
        return "==", float(value)
    m = _COMPARE.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a number or a comparison like '>= 1'")
    op = m[1] or "=="
    return ("==" if op == "=" else op), float(m[2])


class EventCount(Strict):
    """How many log events of a kind a device recorded (``credit``, ``rejected``, ``receipt``),
    of those whose details include ``detail`` (``{value: 7}``: the 7 notes offered)."""

    device: str
    kind: str
    detail: dict[str, Any] = {}
    count: str | float = ">= 1"

    @field_validator("detail")
    @classmethod
    def _detail(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key, value in v.items():
            if not isinstance(value, bool | int | float | str):
                raise ValueError(f"detail {key}(={value!r}) must be a number or a text")
        return v

    @property
    def wanted(self) -> tuple[tuple[str, Any], ...]:
        """``detail`` as sorted pairs (how the observer keys the events it counts)."""
        return tuple(sorted(self.detail.items()))

    @property
    def text(self) -> str:
        """The events counted, in words: ``bill_validator note_inserted (value=7)``."""
        where = ", ".join(f"{k}={v}" for k, v in self.wanted)
        return f"{self.device} {self.kind}" + (f" ({where})" if where else "")

    @field_validator("count")
    @classmethod
    def _count(cls, v: str | float) -> str | float:
        parse_comparison(v)
        return v


class Expectation(Strict):
    """An observation that must hold at simulated time ``at`` (default: the end of the run)."""

    at: Duration | None = None
    active: list[str] | None = None
    """These faults are active (others may be too)."""
    inactive: list[str] | None = None
    raised: list[str] | None = None
    """Each of these faults was raised at least once by then."""
    app: dict[str, str | float] | None = None
    """The kiosk application's counters: ``{receipts_skipped: ">= 1"}``."""
    events: EventCount | None = None
    toxics: dict[str, int] | None = None
    """Active toxics per device."""
    why: str = ""

    @model_validator(mode="after")
    def _one_check(self) -> Expectation:
        kinds = [k for k in CHECKS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                f"an expectation checks exactly one of {', '.join(CHECKS)} "
                f"(this one: {', '.join(kinds) or 'none'})"
            )
        for stat, value in (self.app or {}).items():
            if stat not in _APP_STATS:
                raise ValueError(
                    f"app: unknown counter {stat!r}; counters: {', '.join(_APP_STATS)}"
                )
            parse_comparison(value)
        return self

    @property
    def kind(self) -> str:
        return next(k for k in CHECKS if getattr(self, k) is not None)


CHECKS = ("active", "inactive", "raised", "app", "events", "toxics")
_APP_STATS = (
    "customers",
    "card_payments",
    "cash_payments",
    "lookups",
    "notes_credited",
    "cash_credited",
    "notes_returned",
    "card_read_errors",
    "touches_seen",
    "receipts",
    "receipts_skipped",
    "walked_away",
    "paper_refills",
    "cash_collections",
)


class Answer(Strict):
    """The answer key (never shown to trainees): what is wrong and what resolves it.

    ``actions`` are ``remedy NAME`` (a remote remedy) or ``visit FAULT`` (a site visit)."""

    faults: list[str] = Field(min_length=1)
    actions: list[str] = Field(min_length=1)
    harmful: dict[str, str] = {}
    """Actions that do damage here, with why: ``{remedy bill_validator.reset: loses the credit}``."""
    explanation: str = ""

    @field_validator("actions")
    @classmethod
    def _actions(cls, v: list[str]) -> list[str]:
        for action in v:
            verb, _, arg = action.partition(" ")
            if verb not in ("remedy", "visit") or not arg.strip():
                raise ValueError(f"action {action!r} must be 'remedy NAME' or 'visit FAULT_ID'")
        return v


class Points(Strict):
    """How many points each part of the scorecard is worth (they add up to the full marks)."""

    diagnosed: int = Field(default=20, ge=0)
    """A first diagnostic within ``diagnose_within`` of the ticket."""
    identified: int = Field(default=30, ge=0)
    """The right fault named in a remedy or a site-visit request."""
    resolved: int = Field(default=30, ge=0)
    """The right resolution: the valid remedy applied, or a visit for a fault that needs one."""
    restored: int = Field(default=20, ge=0)
    """Service restored within the severity's SLA (simulated time)."""
    unnecessary_visit: int = Field(default=30, ge=0)
    """Taken off for each site visit requested for a fault a remote remedy fixes."""
    harmful: int = Field(default=20, ge=0)
    """Taken off for each harmful action (the scenario's ``answer.harmful``)."""
    wrong_remedy: int = Field(default=5, ge=0)
    """Taken off for each remedy that does not address the scenario's faults."""


class Scoring(Strict):
    """How a trainee's run is scored."""

    diagnose_within: Duration = 900.0
    restore_within: Duration | None = None
    """Default: the severity's SLA (P1 3 h, P2 6 h, P3 2 working days, simulated)."""
    points: Points = Points()


class SiteVisit(Strict):
    """What happens when a trainee dispatches an engineer (live runs)."""

    travel: Duration = 3600.0
    """Simulated time to reach the site; the catalog's repair time is added on site."""


def _above_zero(seconds: float) -> float:
    if seconds <= 0:
        raise ValueError(f"must be above 0 (how long the run lasts, e.g. '2h'); given: {seconds:g}")
    return seconds


RunDuration = Annotated[Duration, AfterValidator(_above_zero)]
"""A run's duration: a :data:`~workbench.config.Duration` above 0 (a run of 0 s has every step
after its end)."""


def _usage_overrides_model() -> type[BaseModel]:
    """A schema with every :class:`UsageSettings` key optional (a scenario overrides a few)."""
    fields: dict[str, Any] = {
        name: (info.annotation | None, None)  # type: ignore[operator]
        for name, info in UsageSettings.model_fields.items()
    }
    model: type[BaseModel] = create_model("usage", __base__=Strict, **fields)
    return model


if TYPE_CHECKING:
    UsageOverrides = BaseModel
else:
    UsageOverrides = _usage_overrides_model()


class Scenario(Strict):
    """A fault scenario for a trainer's class or a regression run."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    description: str = ""
    tags: list[str] = []
    profile: str = "bill_payment"
    seed: int = 0
    start: str = "monday 08:55"
    duration: RunDuration = 3600.0
    """How long the virtual run lasts (simulated time from the start)."""
    severity: Severity
    ticket: Ticket
    usage: UsageOverrides | None = None
    """Overrides of the profile's ``usage`` (customers); ``{enabled: true}`` brings customers."""
    timeline: list[Step] = []
    expect: list[Expectation] = Field(min_length=1)
    answer: Answer
    scoring: Scoring = Scoring()
    site_visit: SiteVisit = SiteVisit()

    @field_validator("start")
    @classmethod
    def _start(cls, v: str) -> str:
        parse_start(v)
        return v

    @property
    def started(self) -> dt.datetime:
        """The simulated date and time the scenario starts at."""
        return parse_start(self.start)

    @property
    def start_offset(self) -> float:
        """Seconds from midnight to the start: the SimPy environment's initial time."""
        s = self.started
        return s.hour * 3600.0 + s.minute * 60.0

    def clock_text(self, sim_time: float) -> str:
        """A simulated time as the trainee's wall calendar shows it: ``Mon 09:05:00``."""
        midnight = dt.datetime.combine(self.started.date(), dt.time())
        return (midnight + dt.timedelta(seconds=sim_time)).strftime("%a %H:%M:%S")


def merged_usage(overrides: BaseModel | None, base: UsageSettings | None) -> UsageSettings | None:
    """A profile's usage (``base``) with a scenario's overrides applied, validated together
    (pydantic's ValidationError when they do not agree)."""
    if overrides is None:
        return base
    merged = (base.model_dump() if base is not None else {}) | {
        k: v for k, v in overrides.model_dump().items() if v is not None
    }
    return UsageSettings.model_validate(merged)


def late(
    duration: float, steps: list[tuple[int, Step]], expect: list[tuple[int, Expectation]]
) -> list[tuple[tuple[str | int, ...], str]]:
    """The timeline steps and expectations that fall after the run's ``duration``, each as where
    (``("timeline", 2)``) and what."""
    after = f"is after the run's duration ({duration:g} s)"
    found: list[tuple[tuple[str | int, ...], str]] = []
    for n, step in steps:
        if step.at > duration:
            found.append((("timeline", n), f"at {step.at:g} s {after}"))
        elif step.wait_up_to is not None and step.at + step.wait_up_to > duration:
            found.append(
                (
                    ("timeline", n, "wait_up_to"),
                    f"waiting until {step.at + step.wait_up_to:g} s {after}",
                )
            )
    for n, item in expect:
        if item.at is not None and item.at > duration:
            found.append((("expect", n), f"at {item.at:g} s {after}"))
    return found
