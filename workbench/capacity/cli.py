"""The ``workbench capacity`` command group: run, erlang, sweep, size and plot.

The composition root (``workbench/cli.py``) passes the fault catalog and the terminal
profiles' device lists in ``ctx.obj`` (``{"catalog": FaultCatalog, "profiles": {...}}``);
``--catalog PATH`` loads a catalog file instead. Mistakes raise the workbench's own errors,
which the root CLI prints as one line; ``--json`` gives machines the same figures as the tables.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from workbench.capacity.clauses import DEFAULT_TARGET
from workbench.capacity.config import Plan, default_plan_text, load_plan
from workbench.capacity.erlang import check_mmc
from workbench.capacity.metrics import OVERALL
from workbench.capacity.model import Inputs
from workbench.capacity.rates import fleet_year, resolve
from workbench.capacity.report import (
    erlang_table,
    print_table,
    rates_table,
    run_tables,
    sizing_row_verdict,
    sizing_table,
    sweep_table,
)
from workbench.capacity.scaling import parse_vary, vary
from workbench.capacity.sizing import parse_target, size
from workbench.capacity.sweep import load, run_reps, save, sweep
from workbench.capacity.verdict import judge, resolve_targets
from workbench.errors import ConfigError
from workbench.faults import FaultCatalog


def _inputs(ctx: click.Context) -> Inputs:
    """The catalog and profiles handed down by the composition root (or ``--catalog``)."""
    obj: dict[str, Any] = ctx.obj or {}
    catalog = obj.get("catalog")
    if catalog is None:
        path = obj.get("catalog_path")
        if path is None:
            raise ConfigError(
                "no fault catalog: run as 'workbench capacity ...' or pass --catalog PATH"
            )
        catalog = FaultCatalog.load(path)
    return Inputs(catalog, dict(obj.get("profiles") or {}))


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
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


def _plan(config: str | None) -> Plan:
    return load_plan(config)


def _emit_json(doc: object) -> None:
    click.echo(json.dumps(doc, indent=1, allow_nan=False))


@click.group(name="capacity")
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(dir_okay=False),
    help="Fault catalog YAML (default: the workbench's).",
)
@click.pass_context
def capacity(ctx: click.Context, catalog_path: str | None) -> None:
    """Capacity planning: simulate the fleet and the support organisation against the service plan."""
    ctx.ensure_object(dict)
    if catalog_path is not None:
        ctx.obj["catalog"] = None
        ctx.obj["catalog_path"] = catalog_path


@capacity.group(name="plan")
def plan_group() -> None:
    """The shipped plan: write it out to edit it."""


@plan_group.command(name="export")
def plan_export() -> None:
    """Print the shipped plan's YAML, comments included: capacity plan export > plan.yaml."""
    click.echo(default_plan_text(), nl=False)


_reps = click.option(
    "--reps", type=click.IntRange(min=1), default=5, show_default=True, help="Replications."
)
_seed = click.option(
    "--seed", type=int, default=1, show_default=True, help="Seed of the first replication."
)


def _finite_years(
    _ctx: click.Context, _param: click.Parameter, value: float | None
) -> float | None:
    # FloatRange lets nan and inf through (no comparison with them is true)
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number of years")
    return value


_years = click.option(
    "--years",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    callback=_finite_years,
    help="Simulated years (default: the plan's).",
)
_workers = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Local worker processes (default: CPUs).",
)
_json = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")


_targets = click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="CLAUSE=SHARE",
    help="Target share of one SLA clause, e.g. p1_onsite=0.9, or default=0.9 for all "
    "(repeatable; default: the plan's sla section, else 0.95).",
)


def _resize(plan: Plan, terminals: int | None, engineers: int | None) -> Plan:
    """The plan with the fleet and the organisation resized (proportionally over groups)."""
    if terminals is not None:
        plan = vary(plan, "terminals", terminals)
    if engineers is not None:
        plan = vary(plan, "engineers", engineers)
    return plan


@capacity.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--terminals",
    type=click.IntRange(min=1),
    default=None,
    help="Resize the fleet to N terminals (spread over its groups in proportion).",
)
@click.option(
    "--engineers",
    type=click.IntRange(min=0),
    default=None,
    help="Resize the organisation to M field engineers (spread in proportion).",
)
@_targets
@_years
@_reps
@_seed
@_workers
@_json
@click.pass_context
def run(
    ctx: click.Context,
    config: str | None,
    terminals: int | None,
    engineers: int | None,
    targets: tuple[str, ...],
    years: float | None,
    reps: int,
    seed: int,
    workers: int | None,
    as_json: bool,
) -> None:
    """Simulate a plan (default: the shipped organisation): the SLA verdict, then every clock."""
    plan = _resize(_plan(config), terminals, engineers)
    shares = resolve_targets(plan.sla.target, plan.sla.shares, targets)
    inputs = _inputs(ctx)
    with _progress("replications") as progress:
        summary = run_reps([plan], inputs, reps, seed, years, workers, None, progress)[0]
    scopes = [OVERALL, *(r.name for r in plan.regions)]
    verdict = judge(summary, scopes, shares)
    if as_json:
        _emit_json(
            {
                "plan": plan.name,
                "terminals": plan.terminals,
                "engineers": plan.engineers,
                "years": years or plan.years,
                "reps": reps,
                "seed": seed,
                "verdict": verdict.to_json(),
                "metrics": summary.to_json(),
            }
        )
        return
    click.echo(verdict.line())
    print_table(*run_tables(plan, summary, verdict, years or plan.years))


@capacity.command()
@click.option("--arrival-rate", type=float, required=True, help="Arrivals per time unit (lambda).")
@click.option(
    "--service-rate", type=float, required=True, help="Services per server per time unit (mu)."
)
@click.option("--servers", type=int, required=True, help="Servers (c).")
@click.option(
    "--customers",
    type=click.IntRange(min=1),
    default=200_000,
    show_default=True,
    help="Customers per replication.",
)
@click.option(
    "--reps", type=click.IntRange(min=2), default=10, show_default=True, help="Replications."
)
@_seed
@_workers
@_json
def erlang(
    arrival_rate: float,
    service_rate: float,
    servers: int,
    customers: int,
    reps: int,
    seed: int,
    workers: int | None,
    as_json: bool,
) -> None:
    """Run the model reduced to M/M/c and compare with Erlang C (P(wait) and mean wait)."""
    check = check_mmc(
        arrival_rate, service_rate, servers, customers, reps, seed, workers or os.cpu_count() or 1
    )
    if as_json:
        _emit_json(check.to_json())
        return
    print_table(erlang_table(check))


@capacity.command(name="sweep")
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--vary",
    "specs",
    required=True,
    multiple=True,
    help="NAME=START:STOP:STEP or NAME=A,B,C (engineers, terminals, hotline, desk, success_rate, standby); one variable per sweep.",
)
@click.option(
    "--reps",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Replications per point.",
)
@_seed
@_years
@_workers
@click.option(
    "--scheduler",
    default=None,
    help="Dask scheduler address (tcp://HOST:PORT); default: local processes.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write results to a .csv or .json file.",
)
@click.option(
    "--region",
    "regions",
    multiple=True,
    help="Also print the table of this region (repeatable; 'all' for every region).",
)
@_json
@click.pass_context
def sweep_cmd(
    ctx: click.Context,
    config: str | None,
    specs: tuple[str, ...],
    reps: int,
    seed: int,
    years: float | None,
    workers: int | None,
    scheduler: str | None,
    out: str | None,
    regions: tuple[str, ...],
    as_json: bool,
) -> None:
    """Replicate a plan at every value of one variable, on local processes or a Dask cluster."""
    if len(specs) > 1:
        given = ", ".join(s.partition("=")[0].strip() for s in specs)
        raise ConfigError(
            f"--vary given {len(specs)} times ({given}): a sweep varies one variable; "
            "run one sweep per variable, or fix the others in the plan (capacity plan export)"
        )
    spec = specs[0]
    if out is not None and Path(out).suffix not in (".csv", ".json"):
        raise ConfigError(f"--out {out}: results go to a .csv or .json file")
    if out is not None and not Path(out).absolute().parent.is_dir():
        raise ConfigError(f"--out {out}: no directory {Path(out).absolute().parent}")
    plan = _plan(config)
    names = [r.name for r in plan.regions]
    scopes = names if "all" in regions else list(regions)
    for r in scopes:
        if r not in names:
            raise ConfigError(f"--region {r!r}: no such region; regions: {', '.join(names)}, all")
    name, values = parse_vary(spec)
    inputs = _inputs(ctx)
    with _progress(f"sweep {name}") as progress:
        points = sweep(plan, inputs, name, values, reps, seed, years, workers, scheduler, progress)
    if out is not None:
        try:
            save(points, out)
        except OSError as exc:
            raise ConfigError(f"{out}: cannot write: {exc.strerror}") from None
    if as_json:
        _emit_json(
            [
                {
                    "param": p.param,
                    "value": p.value,
                    "reps": p.summary.reps,
                    "metrics": p.summary.to_json(),
                }
                for p in points
            ]
        )
        return
    print_table(*(sweep_table(points, scope) for scope in (OVERALL, *scopes)))
    if out:
        click.echo(f"results written to {out}")


@capacity.command(name="size")
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--target",
    "targets",
    multiple=True,
    required=True,
    help="NAME=SHARE, e.g. p1_onsite=0.95 (repeatable).",
)
@click.option(
    "--reps",
    type=click.IntRange(min=2),
    default=3,
    show_default=True,
    help="Replications per candidate to start with (and per step while undecided).",
)
@click.option(
    "--max-reps",
    type=click.IntRange(min=2),
    default=12,
    show_default=True,
    help="Most replications per candidate before a region is called undecided.",
)
@_seed
@_years
@_workers
@click.option("--scheduler", default=None, help="Dask scheduler address; default: local processes.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="Most engineers tried per region.",
)
@_json
@click.pass_context
def size_cmd(
    ctx: click.Context,
    config: str | None,
    targets: tuple[str, ...],
    reps: int,
    max_reps: int,
    seed: int,
    years: float | None,
    workers: int | None,
    scheduler: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Find the fewest engineers per region that meet every target at 95 % confidence."""
    parsed = [parse_target(t) for t in targets]
    plan = _plan(config)
    inputs = _inputs(ctx)
    with _progress("sizing") as progress:
        result = size(
            plan, inputs, parsed, reps, seed, years, workers, scheduler, limit, progress, max_reps
        )
    if as_json:
        _emit_json({
            "targets": {t.name: t.floor for t in parsed},
            "runs": result.runs,
            "reps": result.summary.reps,
            "regions": {
                r: {"current": result.current[r], "needed": result.needed[r],
                    "state": result.state[r], "verdict": sizing_row_verdict(result, r),
                    "metrics": {t.name: result.summary.to_json()[t.key(r)] for t in parsed}}
                for r in result.needed
            },
            "total": {"current": sum(result.current.values()),
                      "needed": None if None in result.needed.values()
                      else sum(n or 0 for n in result.needed.values())},
        })  # fmt: skip
        return
    print_table(sizing_table(result))


@capacity.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--terminals", type=click.IntRange(min=1), default=None, help="Resize the fleet.")
@_json
@click.pass_context
def rates(ctx: click.Context, config: str | None, terminals: int | None, as_json: bool) -> None:
    """The fault rates the plan uses: per fault, rate, source, and who handles it."""
    plan = _resize(_plan(config), terminals, None)
    inputs = _inputs(ctx)
    resolved = resolve(plan, inputs.catalog)
    profiles = {**plan.profiles, **{k: list(v) for k, v in inputs.profiles.items()}}
    fleet = fleet_year(plan, resolved, profiles)
    if as_json:
        _emit_json(
            {
                "plan": plan.name,
                "terminals": plan.terminals,
                "rates": [
                    {
                        "fault": fid,
                        "device": r.mode.device,
                        "severity": str(r.mode.severity),
                        "per_terminal_year": r.per_year,
                        "fleet_per_year": round(fleet.get(fid, 0.0), 3),
                        "handler": r.handler.value,
                        "basis": r.basis.value,
                        "source": r.source,
                    }
                    for fid, r in resolved.items()
                ],
            }
        )
        return
    print_table(rates_table(plan, resolved, fleet))


@capacity.command()
@click.argument("results", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="PNG file to write.")
@click.option("--terminal", is_flag=True, help="Draw the plot in the terminal (plotext).")
@click.option(
    "--region",
    "regions",
    multiple=True,
    help="Scope to plot: overall (default), a region, or all (repeatable).",
)
@click.option(
    "--target-share",
    type=click.FloatRange(0, 1),
    default=DEFAULT_TARGET,
    show_default=True,
    help="Where to draw the target line.",
)
def plot(
    results: str, out: str | None, terminal: bool, regions: tuple[str, ...], target_share: float
) -> None:
    """Plot a sweep's SLA attainment (with the target line) and utilisation per scope."""
    from workbench.capacity.plot import plot_png, render_text, scopes_of

    if out is None and not terminal:
        raise ConfigError("plot: give --out FILE.png, --terminal, or both")
    points = load(results)
    scopes = list(regions) or ["overall"]
    if "all" in scopes:
        scopes = scopes_of(points)
    if out is not None:
        path = plot_png(points, out, scopes, target_share)
        click.echo(f"wrote {path}")
    if terminal:
        width = min(120, os.get_terminal_size().columns) if sys.stdout.isatty() else 100
        for scope in scopes:
            click.echo(render_text(points, width=width, scope=scope, target=target_share))
