"""The SLA verdict: for every clause, severity and region, does the plan hold its promise?

A clause holds in a scope when the whole 95 % confidence interval of the share meeting its
clock (over replications) lies at or above the target share; it fails when the whole interval
lies below; it is undecided when the interval straddles the target (more replications decide
it) or when one replication gives no interval. A clause with no faults to count says so.
The plan as a whole fails if any row fails, holds if every row holds, else is undecided.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from workbench.capacity.clauses import BY_KEY, CLAUSES, DEFAULT_TARGET, Clause
from workbench.capacity.stats import Estimate, Summary
from workbench.errors import ConfigError

HOLDS, FAILS, UNDECIDED, NO_FAULTS = "holds", "fails", "undecided", "no faults"


def parse_share(spec: str, option: str = "--target") -> tuple[str, float]:
    """Parse ``p1_onsite=0.9`` into a clause key and a share; errors name the bad part."""
    name, sep, value = spec.partition("=")
    name = name.strip()
    if not sep:
        raise ConfigError(f"{option} {spec!r}: expected NAME=SHARE, e.g. p1_onsite=0.95")
    try:
        share = float(value)
    except ValueError:
        share = math.nan
    if not 0 <= share <= 1:
        raise ConfigError(
            f"{option} {spec!r}: the share of {name!r} must be a number in [0, 1], got {value!r}"
        )
    return name, share


def check_clause(name: str, where: str) -> Clause:
    """The clause called ``name``; an unknown name is refused with the valid ones listed."""
    clause = BY_KEY.get(name)
    if clause is None:
        raise ConfigError(
            f"{where}: unknown SLA clause {name!r}; valid: {', '.join(BY_KEY)} or 'default'"
            + did_you_mean(name, [*BY_KEY, "default"])
        )
    return clause


def did_you_mean(name: str, valid: list[str]) -> str:
    """``; did you mean 'p1_onsite'?`` for a close misspelling of one of ``valid``, else ''."""
    close = difflib.get_close_matches(name, valid, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def resolve_targets(
    default: float, shares: Mapping[str, float], overrides: Sequence[str] = ()
) -> dict[str, float]:
    """Target share per clause: the default, then the plan's ``shares``, then ``--target``s."""
    out = dict.fromkeys(BY_KEY, default)
    for name, share in shares.items():
        out[check_clause(name, "plan sla.shares").key] = share
    for spec in overrides:
        name, share = parse_share(spec)
        if name == "default":
            out = {k: share for k in out}
            continue
        out[check_clause(name, f"--target {spec!r}").key] = share
    return out


@dataclass(frozen=True)
class Row:
    """One clause in one scope: target, measured share with its interval, and the verdict."""

    clause: Clause
    scope: str
    target: float
    share: Estimate
    faults: float
    verdict: str

    def to_json(self) -> dict[str, object]:
        """A JSON-ready mapping (NaN becomes null)."""

        def clean(x: float) -> float | None:
            return None if math.isnan(x) or math.isinf(x) else round(x, 6)

        return {
            "clause": self.clause.key,
            "severity": self.clause.severity,
            "clock": self.clause.clock,
            "label": self.clause.label,
            "from": "fault report",
            "limit_hours": self.clause.hours,
            "counts": self.clause.population,
            "scope": self.scope,
            "target": self.target,
            "share": clean(self.share.mean),
            "ci95": [clean(self.share.low), clean(self.share.high)],
            "faults_per_rep": clean(self.faults),
            "verdict": self.verdict,
        }


def decide(est: Estimate | None, target: float, faults: float) -> str:
    """Holds, fails, undecided or no faults, from the interval against the target."""
    if est is None or math.isnan(est.mean) or not faults > 0:
        return NO_FAULTS
    if math.isnan(est.half):
        return UNDECIDED
    if est.low >= target:
        return HOLDS
    if est.high < target:
        return FAILS
    return UNDECIDED


@dataclass(frozen=True)
class Verdict:
    """Every row, and the plan's overall verdict."""

    rows: tuple[Row, ...]
    reps: int

    @property
    def overall(self) -> str:
        """``fails`` if any row fails, ``holds`` if every measured row holds, else ``undecided``."""
        seen = {r.verdict for r in self.rows}
        if FAILS in seen:
            return FAILS
        if UNDECIDED in seen:
            return UNDECIDED
        return HOLDS

    def count(self, verdict: str) -> int:
        """Rows with this verdict."""
        return sum(1 for r in self.rows if r.verdict == verdict)

    def line(self) -> str:
        """The one-line answer printed before any table."""
        rows = self.rows
        measured = [r for r in rows if r.verdict != NO_FAULTS]
        tally = (
            f"{self.count(FAILS)} of {len(measured)} clause rows fail, "
            f"{self.count(UNDECIDED)} undecided, {self.count(HOLDS)} hold"
        )
        head = f"SLA verdict: {self.overall.upper()} ({tally}; clocks from the fault report)"
        if self.overall == FAILS:
            worst = min(
                (r for r in rows if r.verdict == FAILS), key=lambda r: r.share.mean - r.target
            )
            return (
                f"{head}; worst: {worst.scope} {worst.clause.severity} {worst.clause.label} "
                f"{100 * worst.share.mean:.1f} % vs target {100 * worst.target:g} %"
            )
        if self.overall == UNDECIDED:
            hint = "one replication gives no interval" if self.reps < 2 else "intervals straddle"
            return f"{head}; {hint}: run more --reps"
        return head

    def to_json(self) -> dict[str, object]:
        """The verdict for machines: overall, the line, and every row."""
        return {
            "overall": self.overall,
            "line": self.line(),
            "confidence": 0.95,
            "rows": [r.to_json() for r in self.rows],
        }


def judge(summary: Summary, scopes: Sequence[str], targets: Mapping[str, float]) -> Verdict:
    """The verdict of every clause in every scope (``overall`` and the regions)."""
    rows = []
    for clause in CLAUSES:
        target = targets.get(clause.key, DEFAULT_TARGET)
        for scope in scopes:
            key = f"{scope}.{clause.metric}"
            est = summary.get(key)
            n = summary.get(f"{key}.n")
            faults = n.mean if n is not None else math.nan
            rows.append(Row(clause, scope, target, est or Estimate(math.nan, math.nan), faults,
                            decide(est, target, faults)))  # fmt: skip
    return Verdict(tuple(rows), summary.reps)
