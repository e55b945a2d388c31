"""The ``workbench capacity`` command group: run, rates, erlang, sweep, plot, size, plan export
and plan check.

Each command lives in :mod:`workbench.capacity.commands` (one module per group of commands);
this module assembles the group. Mistakes raise the workbench's own errors, which the root
CLI prints as one line; ``--json`` gives machines the same figures as the tables.
"""

from __future__ import annotations

import sys

import click

from workbench.capacity.commands.run import erlang, rates, run
from workbench.capacity.commands.size import size_cmd
from workbench.capacity.commands.sweep import plot, sweep_cmd
from workbench.capacity.config import default_plan_text


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
    """The shipped plan: write it out to edit it; check a plan file for every problem."""


@plan_group.command(name="check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.pass_context
def plan_check(ctx: click.Context, files: tuple[str, ...]) -> None:
    """Check plan files: every problem one line (FILE:LINE: where: what), then how many; exit 2
    when a file has one."""
    from workbench.capacity.commands.options import rate_problem
    from workbench.capacity.config import plan_problems
    from workbench.console import err, out

    bad = 0
    for f in files:
        plan, problems = plan_problems(f)
        if plan is not None and (said := rate_problem(plan, f, ctx)) is not None:
            problems = [said]
        if problems:
            bad += 1
            for problem in problems:
                err.print(problem, markup=False, emoji=False)
            n = len(problems)
            err.print(f"workbench: error: {f}: {n} problem{'s' * (n > 1)}", markup=False)
            continue
        assert plan is not None
        out.print(
            f"ok {f}: {plan.name} ({plan.terminals:,} terminals, {plan.engineers} engineers in "
            f"{len(plan.regions)} regions, {plan.years:g} y)",
            markup=False,
        )
    if bad:
        sys.exit(2)


@plan_group.command(name="export")
def plan_export() -> None:
    """Print the shipped plan's YAML, comments included: capacity plan export > plan.yaml."""
    click.echo(default_plan_text(), nl=False)


for command in (run, rates, erlang, sweep_cmd, plot, size_cmd):
    capacity.add_command(command)
