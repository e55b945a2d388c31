"""What the ``capacity`` commands share: their common options, the model's inputs, progress and JSON.

The composition root (``workbench/cli.py``) passes the fault catalog and the terminal
profiles' device lists in ``ctx.obj`` (``{"catalog": FaultCatalog, "profiles": {...}}``);
``--catalog PATH`` loads a catalog file instead.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from workbench.capacity.config import DEFAULT_PLAN, Plan, default_plan_text, load_plan
from workbench.capacity.model import Inputs
from workbench.capacity.rates import RateError, resolve
from workbench.capacity.scaling import vary
from workbench.config import key_lines
from workbench.errors import ConfigError
from workbench.faults import FaultCatalog


def inputs_of(ctx: click.Context) -> Inputs:
    """The catalog and profiles handed down by the composition root (or ``--catalog``)."""
    obj: dict[str, Any] = ctx.obj or {}
    catalog = obj.get("catalog")
    if catalog is None:
        path = obj.get("catalog_path")
        if path is None:
            raise ConfigError(
                "no fault catalog: run as 'workbench capacity ...' or pass --catalog PATH"
            )
        # kept for the command's next call: plan_of's rate check and the command both ask
        catalog = obj["catalog"] = FaultCatalog.load(path)
    return Inputs(catalog, dict(obj.get("profiles") or {}))


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr while replications run (silent when not a terminal)."""
    err = Console(stderr=True)
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    task = bar.add_task(label, total=None)
    with bar:

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def plan_of(config: str | None, ctx: click.Context) -> Plan:
    """The plan file given, or the shipped plan, its rates checked against the catalog: a rate
    for a fault the catalog lacks is said at its line ('plan rates: unknown fault ...', no
    file, no line, before)."""
    plan = load_plan(config)
    if (said := rate_problem(plan, config, ctx)) is not None:
        raise ConfigError(said)
    return plan


def rate_problem(plan: Plan, config: str | None, ctx: click.Context) -> str | None:
    """What the catalog refuses of the plan's rates, at its line (``FILE:LINE: rates.ID: ...``),
    or None."""
    try:
        resolve(plan, inputs_of(ctx).catalog)
    except RateError as exc:
        source = config or f"workbench/capacity/{DEFAULT_PLAN}"
        text = Path(config).read_text(encoding="utf-8") if config else default_plan_text()
        line = key_lines(text, source).get(("rates", exc.fault))
        return f"{source}:{line}: {exc}" if line else f"{source}: {exc}"
    return None


def emit_json(doc: object) -> None:
    click.echo(json.dumps(doc, indent=1, allow_nan=False))


reps_option = click.option(
    "--reps", type=click.IntRange(min=1), default=5, show_default=True, help="Replications."
)
seed_option = click.option(  # numpy's seed sequence takes no negative: a traceback, before
    "--seed",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Seed of the first replication.",
)


def _finite_years(
    _ctx: click.Context, _param: click.Parameter, value: float | None
) -> float | None:
    # FloatRange lets nan and inf through (no comparison with them is true)
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number of years")
    return value


years_option = click.option(
    "--years",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    callback=_finite_years,
    help="Simulated years (default: the plan's).",
)
workers_option = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Local worker processes (default: CPUs).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
scheduler_option = click.option(
    "--scheduler",
    default=None,
    help="Dask scheduler address (tcp://HOST:PORT); default: local processes.",
)


targets_option = click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="CLAUSE=SHARE",
    help="Target share of one SLA clause, e.g. p1_onsite=0.9, or default=0.9 for all "
    "(repeatable; default: the plan's sla section, else 0.95).",
)


def resize(plan: Plan, terminals: int | None, engineers: int | None) -> Plan:
    """The plan with the fleet and the organisation resized (proportionally over groups)."""
    if terminals is not None:
        plan = vary(plan, "terminals", terminals)
    if engineers is not None:
        plan = vary(plan, "engineers", engineers)
    return plan
