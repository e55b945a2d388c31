"""The ``workbench capacity`` command group: run, rates, erlang, sweep, plot, size and plan export.

Each command lives in :mod:`workbench.capacity.commands` (one module per group of commands);
this module assembles the group. Mistakes raise the workbench's own errors, which the root
CLI prints as one line; ``--json`` gives machines the same figures as the tables.
"""

from __future__ import annotations

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
    """The shipped plan: write it out to edit it."""


@plan_group.command(name="export")
def plan_export() -> None:
    """Print the shipped plan's YAML, comments included: capacity plan export > plan.yaml."""
    click.echo(default_plan_text(), nl=False)


for command in (run, rates, erlang, sweep_cmd, plot, size_cmd):
    capacity.add_command(command)
