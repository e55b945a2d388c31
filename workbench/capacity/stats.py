"""Statistics over replications: means with 95 % confidence intervals, and percentiles.

Each replication of the model returns a flat mapping of metric name to value; a
:class:`Summary` holds, per name, the mean over replications and the half-width of its
95 % Student-t confidence interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# Two-sided 95 % Student-t quantiles for 1..30 degrees of freedom; 1.96 beyond.
_T95 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t95(df: int) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        return math.inf
    return _T95[df - 1] if df <= len(_T95) else 1.96 + 2.4 / df


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """Mean and 95 % CI half-width of independent replications (half-width NaN for one)."""
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return math.nan, math.nan
    mean = float(arr.mean())
    if arr.size == 1:
        return mean, math.nan
    if np.isinf(arr).any():
        return mean, math.nan
    half = t95(arr.size - 1) * float(arr.std(ddof=1)) / math.sqrt(arr.size)
    return mean, half


def percentiles(
    values: Sequence[float] | np.ndarray, qs: Iterable[int] = (50, 90, 99)
) -> dict[int, float]:
    """Percentiles of a sample (NaN for an empty one); infinite values mean 'never happened'."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return {q: math.nan for q in qs}
    return {q: float(np.percentile(arr, q, method="lower")) for q in qs}


def share(flags: np.ndarray) -> float:
    """Share of True values (NaN when there are none to count)."""
    return float(flags.mean()) if flags.size else math.nan


@dataclass(frozen=True)
class Estimate:
    """A mean over replications with its 95 % CI half-width."""

    mean: float
    half: float

    @property
    def low(self) -> float:
        """Lower end of the 95 % confidence interval."""
        return self.mean - self.half

    @property
    def high(self) -> float:
        """Upper end of the 95 % confidence interval."""
        return self.mean + self.half

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval."""
        return self.low <= value <= self.high


class Summary(dict[str, Estimate]):
    """Metric name to :class:`Estimate`, built from replications' flat metric mappings."""

    reps: int = 0

    @classmethod
    def of(cls, runs: Sequence[Mapping[str, float]]) -> Summary:
        """Combine replications; a metric missing from some runs uses the runs that have it."""
        out = cls()
        out.reps = len(runs)
        names: dict[str, None] = {}
        for run in runs:
            names.update(dict.fromkeys(run))
        for name in names:
            mean, half = mean_ci([run[name] for run in runs if name in run])
            out[name] = Estimate(mean, half)
        return out

    def to_json(self) -> dict[str, dict[str, float | None]]:
        """A JSON-ready mapping (NaN and infinity become null)."""

        def clean(x: float) -> float | None:
            return None if math.isnan(x) or math.isinf(x) else round(x, 6)

        return {k: {"mean": clean(v.mean), "ci95": clean(v.half)} for k, v in self.items()}
