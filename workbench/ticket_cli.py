"""``workbench ticket``: open a ticket for a fault report, watch its SLA clocks, record when each
promise was met, and close it with the warranty's verdict on who pays."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path

import click
import platformdirs
from rich.table import Table

from workbench import tickets
from workbench.console import out
from workbench.errors import CatalogError, ConfigError
from workbench.faults import FaultCatalog
from workbench.ids import check_terminal_id
from workbench.records import TicketRecord
from workbench.store import RecordStore

_STYLE = {
    "met": "green",
    "late": "red",
    "breached": "bold red",
    "open": "yellow",
    "waiting": "dim",
    "not needed": "dim",
}


def default_records() -> Path:
    """``$WORKBENCH_STATE_DIR/records.sqlite``, else the user's state directory's."""
    state = os.environ.get("WORKBENCH_STATE_DIR") or platformdirs.user_state_dir("kiosk-workbench")
    return Path(state) / "records.sqlite"


records_option = click.option(
    "--records",
    "--store",
    "records",
    envvar="WORKBENCH_RECORDS",
    metavar="FILE|URL",
    help="Records store: an SQLite file or a postgresql:// URL "
    "(default $WORKBENCH_STATE_DIR/records.sqlite, else the user state directory's).",
)


def _open(records: str | None) -> RecordStore:
    return RecordStore(records or default_records())


def _when(text: str | None) -> float:
    """A time given as ISO 8601 (local time unless it says otherwise), or now."""
    if text is None:
        return time.time()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO date and time such as 2026-12-01T14:05"
        ) from None
    return moment.timestamp() if moment.tzinfo else moment.astimezone().timestamp()


def _after_report(t: TicketRecord, when: float, what: str) -> None:
    """Refuse a time before the fault was reported: no clock is met before it starts."""
    if when < t.reported:
        raise ConfigError(
            f"ticket #{t.id}: {what} at {_fmt(when)} is before the report ({_fmt(t.reported)})"
        )


def _fmt(when: float | None) -> str:
    return "" if when is None else dt.datetime.fromtimestamp(when).strftime("%Y-%m-%d %H:%M")


def _left(deadline: float, now: float) -> str:
    minutes = int((deadline - now) // 60)
    sign, minutes = ("-", -minutes) if minutes < 0 else ("", minutes)
    return f"{sign}{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{sign}{minutes}m"


def _next_clock(ticket: TicketRecord, now: float) -> str:
    states = tickets.clock_states(ticket, now)
    breached = [c.clock for c in states if c.state in ("breached", "late")]
    if breached:
        return f"[red]breached: {', '.join(breached)}[/]"
    due = [c for c in states if c.state == "open" and c.deadline is not None]
    if not due:
        return "all met" if ticket.status == "closed" else ""
    first = min(due, key=lambda c: c.deadline or 0.0)
    assert first.deadline is not None
    return f"{first.clock} by {_fmt(first.deadline)} [{_left(first.deadline, now)} left]"


@click.group()
def ticket() -> None:
    """Tickets for fault reports, with the service plan's clocks and warranty."""


@ticket.command("open")
@click.option("--terminal", required=True, help="The terminal the fault was reported on.")
@click.option("--severity", required=True, type=click.Choice(["P1", "P2", "P3"]))
@click.option("--summary", required=True, help="What the branch reported, in their words.")
@click.option("--fault", help="The catalog fault, once known (e.g. printer.paper_out).")
@click.option("--source", default="branch", show_default=True, help="Who reported it.")
@click.option("--at", "at", help="When it was reported (ISO 8601; default now).")
@click.option("--accepted", help="The terminal's acceptance date (YYYY-MM-DD), for warranty.")
@click.option("--region", help="The terminal's region.")
@records_option
@click.pass_context
def open_cmd(
    ctx: click.Context,
    terminal: str,
    severity: str,
    summary: str,
    fault: str | None,
    source: str,
    at: str | None,
    accepted: str | None,
    region: str | None,
    records: str | None,
) -> None:
    """Open a ticket; its SLA clocks start from the report."""
    check_terminal_id(terminal)
    if fault is not None:
        _check_fault(ctx, fault)
    if accepted is not None:
        _date(accepted, "--accepted")
    new = tickets.new_ticket(terminal, severity, summary, _when(at), source=source, fault=fault)
    with _open(records) as store:
        if accepted or region:
            store.describe_terminal(terminal, region=region, accepted=accepted)
        number = store.add_ticket(new)
    out.print(f"ticket #{number}: {severity} on {terminal}: {summary}")
    for clock in new.clocks:
        due = _fmt(clock.deadline) if clock.deadline else "counted from the engineer's arrival"
        out.print(f"  {clock.clock:<17} {due}")


def _check_fault(ctx: click.Context, fault: str) -> None:
    """Refuse a fault id the catalog lacks (CatalogError: exit 2, with a close id if there is one).
    The composition root hands the catalog's loader in; this module may not import ``devices``."""
    load: Callable[[], FaultCatalog] | None = (ctx.find_object(dict) or {}).get("fault_catalog")
    if load is None:
        raise ConfigError("ticket open --fault: no fault catalog to check the id against")
    catalog = load()
    if fault not in catalog:
        raise CatalogError(catalog.unknown(fault))


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date such as 2026-03-01", param_hint=option
        ) from None


@ticket.command("list")
@click.option("--terminal", help="Only this terminal's tickets.")
@click.option("--open", "only_open", is_flag=True, help="Only tickets still open.")
@records_option
def list_cmd(terminal: str | None, only_open: bool, records: str | None) -> None:
    """Tickets with their next clock or their breaches."""
    now = time.time()
    with _open(records) as store:
        found = store.tickets(terminal, status="open" if only_open else None)
    table = Table(title=f"{len(found)} ticket(s)")
    for column in ("#", "terminal", "sev", "status", "reported", "summary", "clocks"):
        table.add_column(column)
    for t in found:
        table.add_row(
            str(t.id), t.terminal, t.severity, t.status, _fmt(t.reported), t.summary,
            _next_clock(t, now),
        )  # fmt: skip
    out.print(table)


@ticket.command("show")
@click.argument("number", type=int)
@records_option
def show_cmd(number: int, records: str | None) -> None:
    """One ticket: each clock with its deadline and when it was met, and the warranty."""
    now = time.time()
    with _open(records) as store:
        t = store.ticket(number)
        terminal = store.terminal(t.terminal)
        runs = [r for r in store.runs(t.terminal) if r.ticket == number]
    out.print(f"ticket #{t.id}: {t.severity} on {t.terminal} ({t.status}): {t.summary}")
    out.print(
        f"  reported {_fmt(t.reported)} by {t.source}" + (f"; fault {t.fault}" if t.fault else "")
    )
    table = Table()
    for column in ("clock", "promise", "deadline", "met", "state"):
        table.add_column(column)
    for c in tickets.clock_states(t, now):
        style = _STYLE[c.state]
        table.add_row(
            c.clock, tickets.CLOCKS[c.clock], _fmt(c.deadline), _fmt(c.met),
            f"[{style}]{c.state}[/]",
        )  # fmt: skip
    out.print(table)
    if terminal and terminal.accepted:
        cover = tickets.warranty(dt.date.fromisoformat(terminal.accepted))
        out.print(
            f"  warranty: hardware until {cover.hardware_until}, software until "
            f"{cover.software_until}, spare parts until {cover.parts_until}"
        )
    for run in runs:
        out.print(f"  {run.suite} run #{run.id} by {run.engineer}: {run.outcome}")
    if t.status == "closed":
        out.print(f"  closed {_fmt(t.closed)}: {t.resolution}")
        if t.billing:
            verdict = "free" if t.billing.get("free") else f"billable {t.billing.get('charge'):.2f}"
            out.print(f"  billing: {verdict} ({t.billing.get('reason')})")


@ticket.command("meet")
@click.argument("number", type=int)
@click.argument("clock", type=click.Choice(sorted(tickets.CLOCKS)))
@click.option("--at", "at", help="When (ISO 8601; default now).")
@records_option
def meet_cmd(number: int, clock: str, at: str | None, records: str | None) -> None:
    """Record that a promise was kept (the customer contacted, the engineer on site...)."""
    when = _when(at)
    with _open(records) as store:
        t = store.ticket(number)
        if clock not in {c.clock for c in t.clocks}:
            raise ConfigError(f"ticket #{number} ({t.severity}) has no {clock} clock")
        if any(c.clock == clock and c.met is not None for c in t.clocks):
            raise ConfigError(f"ticket #{number}: {clock} was already met")
        _after_report(t, when, f"{clock} met")
        if not store.meet_clock(number, clock, when):
            raise ConfigError(f"ticket #{number}: {clock} was already met")
        if clock == "on_site" and (deadline := tickets.restore_deadline(t.severity, when)):
            store.set_deadline(number, "service_restored", deadline)
        t = store.ticket(number)
    state = next(c for c in tickets.clock_states(t, when) if c.clock == clock)
    out.print(f"ticket #{number}: {clock} met {_fmt(when)} ({state.state})")


@ticket.command("close")
@click.argument("number", type=int)
@click.option("--resolution", required=True, help="What was done.")
@click.option("--parts-cost", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option("--bid-price", type=click.FloatRange(min=0), help="Caps a billable parts charge.")
@click.option("--not-defect", is_flag=True, help="Damage or misuse, not a manufacturing defect.")
@click.option("--at", "at", help="When service was restored (ISO 8601; default now).")
@records_option
def close_cmd(
    number: int,
    resolution: str,
    parts_cost: float,
    bid_price: float | None,
    not_defect: bool,
    at: str | None,
    records: str | None,
) -> None:
    """Close a ticket: service restored, and who pays for the parts."""
    when = _when(at)
    with _open(records) as store:
        t = store.ticket(number)
        if t.status == "closed":
            raise ConfigError(f"ticket #{number} is already closed")
        _after_report(t, when, "closed")
        terminal = store.terminal(t.terminal)
        accepted = (
            dt.date.fromisoformat(terminal.accepted) if terminal and terminal.accepted else None
        )
        bill = tickets.billing(
            accepted,
            dt.datetime.fromtimestamp(when).date(),
            parts_cost=parts_cost,
            bid_price=bid_price,
            defect=not not_defect,
        )
        for clock in ("service_restored", "all_normal"):
            store.meet_clock(number, clock, when)
        store.close_ticket(number, when, resolution, bill)
        t = store.ticket(number)
    late = tickets.breaches(t, when)
    verdict = "free" if bill["free"] else f"billable {bill['charge']:.2f}"
    out.print(f"ticket #{number} closed: {resolution}; {verdict} ({bill['reason']})")
    out.print(f"  SLA: {'breached: ' + ', '.join(late) if late else 'every clock held'}")
