"""Replications over a grid of plans, on local processes by default or on a Dask cluster.

The unit of work is :func:`replicate`: one plan (as plain data), one seed, one replication;
with fewer replications than workers it is one region of a replication
(:func:`workbench.capacity.field.run_field`). Both live at module level and importing them
starts nothing, so local worker processes and Dask workers can import them freely. Every value of the swept variable reuses
the same seeds (common random numbers), so neighbouring points differ by the plan only.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.capacity.config import Plan
from workbench.capacity.field import FieldResult, run_field
from workbench.capacity.model import Inputs, Model, run_replication
from workbench.capacity.scaling import vary
from workbench.capacity.stats import Estimate, Summary
from workbench.capacity.workers import Executor, Progress, executor
from workbench.errors import ConfigError


def rep_seed(seed: int, rep: int) -> int:
    """The seed of replication ``rep``: the same for every point of a sweep."""
    return seed * 100_003 + rep


def replicate(
    plan_data: dict[str, Any], inputs: Inputs, seed: int, years: float | None
) -> dict[str, float]:
    """One replication of a plan given as plain data (what workers receive)."""
    return run_replication(Plan.model_validate(plan_data), inputs, seed, years)


@dataclass(frozen=True)
class Point:
    """One point of a sweep: the variable's value and the summary over replications."""

    param: str
    value: float
    summary: Summary


def run_reps(
    plans: Sequence[Plan],
    inputs: Inputs,
    reps: int,
    seed: int,
    years: float | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[Summary]:
    """Run ``reps`` replications of each plan; one :class:`Summary` per plan, in order."""
    runs = run_raw(plans, inputs, range(reps), seed, years, workers, scheduler, progress)
    return [Summary.of(r) for r in runs]


def run_raw(
    plans: Sequence[Plan],
    inputs: Inputs,
    reps: Sequence[int] | range,
    seed: int,
    years: float | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[list[dict[str, float]]]:
    """Replications numbered ``reps`` of each plan (so more can be added later), unsummarised.

    With fewer replications than workers, each replication's regions run in parallel instead
    (:func:`by_region`); the figures are the same either way.
    """
    reps = list(reps)
    if not reps:
        raise ConfigError("reps(=0) must be >= 1")
    tasks = [(p, rep_seed(seed, r)) for p in plans for r in reps]
    regions = max(len(p.regions) for p in plans)
    with executor(workers, scheduler, len(tasks) * regions) as ex:
        if ex.slots > len(tasks) and regions > 1:
            runs = by_region(ex, tasks, inputs, years, progress)
        else:
            calls = [(p.model_dump(), inputs, s, years) for p, s in tasks]
            runs = ex.map(replicate, calls, progress)
    n = len(reps)
    return [runs[k * n : (k + 1) * n] for k in range(len(plans))]


def by_region(
    ex: Executor,
    tasks: Sequence[tuple[Plan, int]],
    inputs: Inputs,
    years: float | None,
    progress: Progress | None = None,
) -> list[dict[str, float]]:
    """Replications of (plan, seed) with every region's field as a call of its own: this
    process draws the faults and runs the front line, the executor the regions (largest
    first), and this process merges their rows into each replication's metrics."""
    models = [Model(plan, inputs, seed, years) for plan, seed in tasks]
    calls: list[tuple[int, tuple[Any, ...], int]] = []
    for m, model in enumerate(models):
        for r, work in enumerate(model.works()):
            size = len(work.row) + len(work.visit_at)
            calls.append((m, (model.plan, r, work, model.horizon, model.end), size))
    calls.sort(key=lambda c: -c[2])
    results = ex.map(run_field, [c[1] for c in calls], progress)
    fields: list[list[FieldResult]] = [[] for _ in models]
    for (m, _, _), res in zip(calls, results, strict=True):
        fields[m].append(res)
    return [model.collect(f) for model, f in zip(models, fields, strict=True)]


def sweep(
    plan: Plan,
    inputs: Inputs,
    param: str,
    values: Iterable[float],
    reps: int,
    seed: int = 1,
    years: float | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[Point]:
    """Replicate the plan at every value of one variable."""
    values = list(values)
    plans = [vary(plan, param, v) for v in values]
    summaries = run_reps(plans, inputs, reps, seed, years, workers, scheduler, progress)
    return [Point(param, v, s) for v, s in zip(values, summaries, strict=True)]


def _clean(x: float) -> float | None:
    return None if math.isnan(x) or math.isinf(x) else round(x, 6)


def save(points: Sequence[Point], path: str | Path) -> None:
    """Write a sweep as CSV (one row per point and metric) or JSON, by the file's suffix."""
    p = Path(path)
    if p.suffix == ".json":
        doc = [
            {
                "param": pt.param,
                "value": pt.value,
                "reps": pt.summary.reps,
                "metrics": pt.summary.to_json(),
            }
            for pt in points
        ]
        p.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    elif p.suffix == ".csv":
        with p.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["param", "value", "reps", "metric", "mean", "ci95"])
            for pt in points:
                for name, est in pt.summary.items():
                    out.writerow(
                        [
                            pt.param,
                            pt.value,
                            pt.summary.reps,
                            name,
                            _clean(est.mean),
                            _clean(est.half),
                        ]
                    )
    else:
        raise ConfigError(f"{p}: results go to a .csv or .json file")


def load(path: str | Path) -> list[Point]:
    """Read a sweep written by :func:`save`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not a sweep results file (not UTF-8 text)") from None

    def est(mean: Any, half: Any) -> Estimate:
        return Estimate(
            math.nan if mean in (None, "") else float(mean),
            math.nan if half in (None, "") else float(half),
        )

    points: dict[tuple[str, float], Point] = {}
    try:
        if p.suffix == ".json":
            for row in json.loads(text):
                summary = Summary({k: est(v["mean"], v["ci95"]) for k, v in row["metrics"].items()})
                summary.reps = int(row["reps"])
                points[(row["param"], float(row["value"]))] = Point(
                    row["param"], float(row["value"]), summary
                )
        elif p.suffix == ".csv":
            for row in csv.DictReader(text.splitlines()):
                key = (row["param"], float(row["value"]))
                if key not in points:
                    points[key] = Point(key[0], key[1], Summary())
                    points[key].summary.reps = int(row["reps"])
                points[key].summary[row["metric"]] = est(row["mean"], row["ci95"])
        else:
            raise ConfigError(f"{p}: results come from a .csv or .json file")
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(f"{p}: not a sweep results file ({exc})") from None
    return list(points.values())
