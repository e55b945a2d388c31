"""The ``capacity`` commands about one plan: ``run`` (the SLA verdict), ``rates`` and ``erlang``."""

from __future__ import annotations

import os

import click

from workbench.capacity.commands.options import (
    emit_json,
    inputs_of,
    json_option,
    plan_of,
    progress_bar,
    reps_option,
    resize,
    seed_option,
    targets_option,
    workers_option,
    years_option,
)
from workbench.capacity.erlang import check_mmc
from workbench.capacity.metrics import OVERALL
from workbench.capacity.rates import fleet_year, resolve
from workbench.capacity.report import erlang_table, print_table, rates_table, run_tables
from workbench.capacity.sweep import run_reps
from workbench.capacity.verdict import judge, resolve_targets


@click.command()
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
@targets_option
@years_option
@reps_option
@seed_option
@workers_option
@json_option
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
    plan = resize(plan_of(config, ctx), terminals, engineers)
    shares = resolve_targets(plan.sla.target, plan.sla.shares, targets)
    inputs = inputs_of(ctx)
    with progress_bar("simulating") as progress:  # counts tasks: replications, or regions
        summary = run_reps([plan], inputs, reps, seed, years, workers, None, progress)[0]
    scopes = [OVERALL, *(r.name for r in plan.regions)]
    verdict = judge(summary, scopes, shares)
    if as_json:
        emit_json(
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


@click.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--terminals", type=click.IntRange(min=1), default=None, help="Resize the fleet.")
@json_option
@click.pass_context
def rates(ctx: click.Context, config: str | None, terminals: int | None, as_json: bool) -> None:
    """The fault rates the plan uses: per fault, rate, source, and who handles it."""
    plan = resize(plan_of(config, ctx), terminals, None)
    inputs = inputs_of(ctx)
    resolved = resolve(plan, inputs.catalog)
    profiles = {**plan.profiles, **{k: list(v) for k, v in inputs.profiles.items()}}
    fleet = fleet_year(plan, resolved, profiles)
    if as_json:
        emit_json(
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


@click.command()
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
@seed_option
@workers_option
@json_option
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
        emit_json(check.to_json())
        return
    print_table(erlang_table(check))
