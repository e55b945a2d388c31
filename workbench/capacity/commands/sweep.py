"""The ``capacity`` commands over many plans: ``sweep`` one variable (local processes or Dask) and ``plot`` it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from workbench.capacity.clauses import DEFAULT_TARGET
from workbench.capacity.commands.options import (
    emit_json,
    inputs_of,
    json_option,
    plan_of,
    progress_bar,
    scheduler_option,
    seed_option,
    workers_option,
    years_option,
)
from workbench.capacity.metrics import OVERALL
from workbench.capacity.report import print_table, sweep_table
from workbench.capacity.scaling import parse_vary
from workbench.capacity.sweep import load, save, sweep
from workbench.errors import ConfigError


@click.command(name="sweep")
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
@seed_option
@years_option
@workers_option
@scheduler_option
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
@json_option
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
    plan = plan_of(config, ctx)
    names = [r.name for r in plan.regions]
    scopes = names if "all" in regions else list(regions)
    for r in scopes:
        if r not in names:
            raise ConfigError(f"--region {r!r}: no such region; regions: {', '.join(names)}, all")
    name, values = parse_vary(spec)
    inputs = inputs_of(ctx)
    with progress_bar(f"sweep {name}") as progress:
        points = sweep(plan, inputs, name, values, reps, seed, years, workers, scheduler, progress)
    if out is not None:
        try:
            save(points, out)
        except OSError as exc:
            raise ConfigError(f"{out}: cannot write: {exc.strerror}") from None
    if as_json:
        emit_json(
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


PLOT_SUFFIXES = (".png", ".svg", ".pdf")
"""The files ``plot --out`` writes (by the name's suffix)."""


@click.command()
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
    if out is not None and Path(out).suffix.lower() not in PLOT_SUFFIXES:
        # matplotlib's "Format 'txt' is not supported" came as a traceback
        raise ConfigError(f"--out {out}: a plot is written as {', '.join(PLOT_SUFFIXES)}")
    points = load(results)
    if not points:
        raise ConfigError(
            f"{results}: no sweep points: give a `workbench capacity sweep --out` file"
        )
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
