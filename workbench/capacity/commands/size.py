"""The ``capacity size`` command: the fewest engineers per region that meet the targets."""

from __future__ import annotations

import click

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
from workbench.capacity.report import print_table, sizing_row_verdict, sizing_table
from workbench.capacity.sizing import parse_target, size


@click.command(name="size")
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
@seed_option
@years_option
@workers_option
@scheduler_option
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="Most engineers tried per region.",
)
@json_option
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
    plan = plan_of(config, ctx)
    inputs = inputs_of(ctx)
    with progress_bar("sizing") as progress:
        result = size(
            plan, inputs, parsed, reps, seed, years, workers, scheduler, limit, progress, max_reps
        )
    if as_json:
        emit_json({
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
