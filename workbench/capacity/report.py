"""Rich tables of capacity results for people: attainment per region, sweeps, sizing, Erlang C.

The command group prints these; ``--json`` output bypasses them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.table import Table

from workbench.capacity.clauses import BY_KEY, CLAUSES, CLOCKS
from workbench.capacity.config import Plan
from workbench.capacity.erlang import ErlangCheck
from workbench.capacity.metrics import OVERALL
from workbench.capacity.rates import Rate
from workbench.capacity.sizing import UNREACHABLE, UNSURE, Sizing
from workbench.capacity.stats import Estimate, Summary
from workbench.capacity.sweep import Point
from workbench.capacity.verdict import FAILS, HOLDS, UNDECIDED, Verdict

_MARK = {HOLDS: ("ok", "green"), FAILS: ("FAIL", "bold red"), UNDECIDED: ("?", "yellow")}


def print_table(*tables: Table) -> None:
    """Print tables on stdout (190 columns wide when stdout is not a terminal)."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=190)
    for table in tables:
        console.print(table)


def fmt(est: Estimate | None, pct: bool = True) -> str:
    """A share as a percentage with its CI half-width, or a plain figure when ``pct`` is False."""
    if est is None or math.isnan(est.mean):
        return "-"
    if math.isinf(est.mean):
        return "never"
    if pct:
        half = "" if math.isnan(est.half) else f" ±{100 * est.half:.1f}"
        return f"{100 * est.mean:.1f}{half}"
    half = "" if math.isnan(est.half) or math.isinf(est.half) else f" ±{est.half:.2g}"
    return f"{est.mean:.3g}{half}"


def count(est: Estimate | None) -> str:
    """A count with thousands separators (the half-width only when it is at least 0.5)."""
    if est is None or math.isnan(est.mean):
        return "-"
    half = "" if math.isnan(est.half) or est.half < 0.5 else f" ±{est.half:,.0f}"
    return f"{est.mean:,.0f}{half}"


def verdict_table(plan: Plan, verdict: Verdict, years: float) -> Table:
    """Every clause (rows) per scope (columns): share meeting it, its CI and the verdict mark."""
    scopes = [OVERALL, *(r.name for r in plan.regions)]
    table = Table(
        title=f"{plan.name}: SLA verdict per clause, every clock from the fault report "
        f"(share meeting it, % mean ±95 % CI over {verdict.reps} reps, {years:g} y)",
        caption="ok: the whole interval is at or above the target (holds); FAIL: the whole "
        "interval is below it; ?: the interval straddles the target (undecided, run more "
        "--reps); -: no faults of that kind",
    )
    table.add_column("severity / clock (from the report)", no_wrap=True)
    table.add_column("target", justify="right")
    for scope in scopes:
        table.add_column(scope, justify="right")
    cells = {(r.clause.key, r.scope): r for r in verdict.rows}
    for clause in CLAUSES:
        row = [
            f"{clause.severity} {clause.label}",
            f"{100 * cells[(clause.key, OVERALL)].target:g}",
        ]
        for scope in scopes:
            r = cells[(clause.key, scope)]
            if r.verdict not in _MARK:
                row.append("-")
                continue
            mark, style = _MARK[r.verdict]
            row.append(f"{fmt(r.share)} [{style}]{mark}[/]")
        table.add_row(*row)
    return table


def run_tables(
    plan: Plan, summary: Summary, verdict: Verdict, years: float
) -> tuple[Table, Table, Table]:
    """The verdict per clause and region, distributions, and operations per region."""
    scopes = [OVERALL, *(r.name for r in plan.regions)]
    table = verdict_table(plan, verdict, years)
    dist = Table(title="overall distributions (hours from the fault report; contact in minutes)")
    dist.add_column("severity")
    dist.add_column("faults/rep", justify="right")
    for what in ("onsite", "restore"):
        for q in (50, 90, 99):
            dist.add_column(f"{what} p{q}", justify="right")
    dist.add_column("contact p99", justify="right")
    for sev in CLOCKS:
        cells = [count(summary.get(f"{OVERALL}.{sev}.faults"))]
        for what in ("onsite", "restore"):
            cells += [
                fmt(summary.get(f"{OVERALL}.{sev}.{what}_p{q}_h"), pct=False) for q in (50, 90, 99)
            ]
        cells.append(fmt(summary.get(f"{OVERALL}.{sev}.contact_p99_min"), pct=False))
        dist.add_row(sev, *cells)
    ops = Table(title="operations per region")
    for col in ("scope", "engineers", "terminals", "utilisation %", "dispatch wait h", "max queue",
                "stock-outs", "standby uses", "remote fixed %", "availability %", "inspections on time %"):  # fmt: skip
        ops.add_column(col, justify="left" if col == "scope" else "right")
    for scope in scopes:
        g = summary.get
        ops.add_row(
            scope,
            count(g(f"{scope}.engineers")),
            count(g(f"{scope}.terminals")),
            fmt(g(f"{scope}.utilisation")),
            fmt(g(f"{scope}.dispatch_wait_mean_h"), False),
            count(g(f"{scope}.max_queue")),
            count(g(f"{scope}.stockouts")),
            count(g(f"{scope}.standby_uses")),
            fmt(g(f"{scope}.remote_resolved")),
            fmt(g(f"{scope}.availability")),
            fmt(g(f"{scope}.inspections_on_time")),
        )
    return table, dist, ops


def erlang_table(check: ErlangCheck) -> Table:
    """Simulated vs Erlang C, with the CI and whether it contains the theory."""
    load_ = check.arrival_rate / (check.service_rate * check.servers)
    table = Table(
        title=f"M/M/{check.servers}, lambda={check.arrival_rate:g}, mu={check.service_rate:g}, load {load_:.3f}: {check.reps} reps x {check.customers:,} customers"
    )
    for col in ("quantity", "Erlang C", "simulated", "95 % CI", "relative error"):
        table.add_column(col, justify="left" if col == "quantity" else "right")
    rows = (
        ("P(wait)", check.theory_p_wait, check.p_wait),
        ("mean wait", check.theory_mean_wait, check.mean_wait),
        ("mean wait (observed)", check.theory_mean_wait, check.observed_wait),
    )
    for name, theory, est in rows:
        inside = "contains" if est.contains(theory) else "misses"
        err = abs(est.mean - theory) / theory
        table.add_row(
            name,
            f"{theory:.6f}",
            f"{est.mean:.6f}",
            f"±{est.half:.6f} ({inside})",
            f"{100 * err:.2f} %",
        )
    return table


def sweep_table(points: Sequence[Point], scope: str = OVERALL) -> Table:
    """One row per point of a sweep, for one scope: the headline clauses, utilisation, availability."""
    table = Table(
        title=f"sweep of {points[0].param}: {scope}, % (mean ±95 % CI; clocks from the fault report)"
        if points
        else "sweep"
    )
    keys = ("p1_onsite", "p2_onsite", "p1_restore", "p2_restore", "p3_onsite")
    cols = [(f"{BY_KEY[k].severity} {BY_KEY[k].label.split(' (')[0]}", f"{scope}.{BY_KEY[k].metric}")
            for k in keys]  # fmt: skip
    cols += [("utilisation", f"{scope}.utilisation"), ("availability", f"{scope}.availability")]
    table.add_column(points[0].param if points else "value", justify="right")
    for label, _ in cols:
        table.add_column(label, justify="right")
    for p in points:
        table.add_row(f"{p.value:g}", *(fmt(p.summary.get(key)) for _, key in cols))
    return table


def sizing_row_verdict(result: Sizing, region: str) -> str:
    """What the search concluded for one region, in words."""
    state = result.state[region]
    if state == UNREACHABLE:
        return f"not reachable with {result.tried[region]:,} engineers"
    if state == UNSURE:
        return f"undecided after {result.summary.reps} reps"
    return "meets (95 % CI)"


def sizing_table(result: Sizing) -> Table:
    """Engineers now and needed per region, the verdict, and the targets' figures there.

    A region no count can bring to the targets says so in both the needed and the verdict
    column, and its figures are those at the count tried last, which the verdict names.
    """
    unreachable = [r for r in result.needed if result.state[r] == UNREACHABLE]
    table = Table(
        title=f"fewest engineers meeting {', '.join(f'{t.name}={t.floor:g}' for t in result.targets)} "
        f"({result.runs} model runs, up to {result.summary.reps} reps at the answer)",
        caption="figures: mean ± 95 % interval at the needed count"
        + (
            "; in a 'not reachable' row, at the count tried last, where more engineers no "
            "longer raised them"
            if unreachable
            else ""
        ),
    )
    table.add_column("region")
    table.add_column("engineers now", justify="right")
    table.add_column("needed", justify="right")
    table.add_column("verdict")
    for t in result.targets:
        table.add_column(f"{t.name}, %", justify="right")
    for r in result.needed:
        n = result.needed[r]
        table.add_row(
            r,
            str(result.current[r]),
            "not reachable" if r in unreachable else "-" if n is None else str(n),
            sizing_row_verdict(result, r),
            *(fmt(result.summary.get(t.key(r))) for t in result.targets),
        )
    reachable = not unreachable and all(n is not None for n in result.needed.values())
    table.add_row(
        "total",
        str(sum(result.current.values())),
        str(sum(n or 0 for n in result.needed.values())) if reachable else "-",
        "" if reachable else f"not reachable in {len(unreachable)} of {len(result.needed)} regions",
        *("" for _ in result.targets),
    )
    return table


def rates_table(plan: Plan, rates: Mapping[str, Rate], fleet: Mapping[str, float]) -> Table:
    """Per fault mode: rate per terminal-year, the fleet's faults a year, handler, basis, source."""
    table = Table(
        title=f"{plan.name}: fault rates for a fleet of {plan.terminals:,} terminals "
        f"({plan.engineers} engineers)",
        caption="per year: per terminal carrying the device; fleet/year: expected over the "
        "whole fleet. basis: cited (a public source), catalog (the catalog's MTBF), "
        "assumption (marked as one). handler: staff (branch staff), hotline (on the call), "
        "remote (the remote desk), onsite (an engineer).",
    )
    for col in ("fault", "sev", "per year", "fleet/year", "handler", "basis", "source"):
        right = col in ("per year", "fleet/year")
        table.add_column(col, justify="right" if right else "left", no_wrap=col != "source")
    for fid, r in rates.items():
        table.add_row(
            fid,
            str(r.mode.severity),
            f"{r.per_year:.3g}",
            f"{fleet.get(fid, 0.0):,.0f}",
            r.handler.value,
            r.basis.value,
            r.source,
        )
    terminals = max(plan.terminals, 1)
    for handler in ("staff", "hotline", "remote", "onsite"):
        total = sum(fleet.get(f, 0.0) for f, r in rates.items() if r.handler.value == handler)
        table.add_row(
            f"[bold]all {handler}[/]", "", f"{total / terminals:.3g}", f"{total:,.0f}", handler,
            "", "average per terminal of the fleet",
        )  # fmt: skip
    return table
