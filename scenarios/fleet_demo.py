"""``workbench demo --fleet``: a support organisation's day on a small fleet, on loopback.

Five simulated kiosks come up with their SSH agents; monitoring reports faults on three of them
and a ticket is opened for each, its SLA clocks running; one engineer gets a single fleet grant
(a 1-hour window on every terminal), runs the quarterly inspection on the whole fleet over SSH,
fixes remotely what can be fixed (meeting the tickets' clocks and closing them), sends a site
visit for the rest; the inspection report of one terminal and the quarter's service report are
written and archived. Everything is closed at the end; the records stay.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from devices.kiosk import KioskHost
from remote.audit import verify
from remote.client import Endpoint, Identity, RunReport, record_run
from remote.endpoint import discover
from remote.fleet import fleet
from remote.remedy_client import apply_remedy, record_remedy
from remote.window import CertificateAuthority, engineer_key
from scenarios.wiring import kiosk_backend, kiosk_extra
from workbench import tickets
from workbench.faults import FaultCatalog
from workbench.records import TicketRecord
from workbench.reports.inspection import build_inspection
from workbench.reports.quarterly import build_quarterly
from workbench.reports.render import (
    archive,
    inspection_html,
    inspection_pdf,
    quarterly_html,
    quarterly_pdf,
)
from workbench.store import RecordStore

FLEET = [f"KSK-F{i:03d}" for i in range(1, 6)]
REGIONS = {"KSK-F001": "North", "KSK-F002": "North", "KSK-F003": "North"}
"""The rest stand in the South region."""
FAULTS = {
    "KSK-F002": "printer.paper_out",
    "KSK-F003": "display.brightness_low",
    "KSK-F005": "system_software.service_crashed",
}
"""The faults monitoring reports, one terminal each."""
ENGINEER = "fleet.engineer"
STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "error": "red"}


def current_quarter(today: dt.date | None = None) -> str:
    """``2026Q4`` for a day in October to December 2026."""
    day = today or dt.date.today()
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


@contextmanager
def _store(where: str | Path) -> Iterator[RecordStore]:
    store = RecordStore(where)
    try:
        yield store
    finally:
        store.close()


def _open_tickets(store: RecordStore, catalog: FaultCatalog, out: Console) -> dict[str, int]:
    """A ticket per fault report, with the contact clock met at once (the hotline called back)."""
    opened = {}
    for terminal, fault in FAULTS.items():
        mode = catalog[fault]
        reported = time.time()
        new = tickets.new_ticket(
            terminal,
            str(mode.severity),
            mode.title,
            reported,
            source="monitoring",
            fault=fault,
        )
        number = store.add_ticket(new)
        store.meet_clock(number, "contact", time.time())
        opened[terminal] = number
        first = _next_deadline(new)
        out.print(
            f"  ticket #{number}: {new.severity} on {terminal}: {new.summary} ({fault}); {first}"
        )
    return opened


def _next_deadline(ticket: TicketRecord) -> str:
    due = [c for c in ticket.clocks if c.deadline is not None and c.clock != "contact"]
    first = min(due, key=lambda c: c.deadline or 0.0)
    assert first.deadline is not None
    return f"{first.clock} due {dt.datetime.fromtimestamp(first.deadline):%H:%M}"


def _fleet_table(reports: list[RunReport], ticket_of: dict[str, int]) -> Table:
    table = Table(title=f"inspection of {len(reports)} terminals over SSH")
    for column in ("terminal", "outcome", "pass", "warn", "fail", "s", "ticket", "findings"):
        table.add_column(column, no_wrap=column != "findings")
    for r in sorted(reports, key=lambda r: r.terminal):
        counts = r.counts()
        table.add_row(
            r.terminal,
            f"[{STATUS_STYLE.get(r.outcome, 'red')}]{r.outcome}[/]",
            str(counts["pass"]),
            str(counts["warn"]),
            str(counts["fail"]),
            f"{r.finished - r.started:.1f}",
            f"#{ticket_of[r.terminal]}" if r.terminal in ticket_of else "",
            r.what_went_wrong(),
        )
    return table


def _close(store: RecordStore, number: int, accepted: dt.date, resolution: str) -> str:
    """Meet the remaining clocks of a ticket solved remotely and close it with its billing."""
    now = time.time()
    for clock in ("solution", "repair_plan", "service_restored", "all_normal"):
        store.meet_clock(number, clock, now)
    bill = tickets.billing(accepted, dt.date.today())
    store.close_ticket(number, now, resolution, bill)
    late = tickets.breaches(store.ticket(number), now)
    verdict = "free" if bill["free"] else f"billable {bill['charge']:.2f}"
    held = "every clock held" if not late else "breached: " + ", ".join(late)
    return f"closed, {verdict} ({bill['reason']}); SLA: {held}"


async def run_fleet_demo(
    state_dir: Path, speed: float, out: Console, records: str | Path | None = None
) -> Path:
    """Run the fleet demo; returns the directory it left its state in. Nothing stays running."""
    base = (state_dir / "fleet").absolute()
    base.mkdir(parents=True, exist_ok=True)
    ca_dir = base / "ca"
    ca = (
        CertificateAuthority(ca_dir)
        if (ca_dir / "user_ca").exists()
        else CertificateAuthority.init(ca_dir)
    )
    reports_dir = base / "reports"
    reports_dir.mkdir(exist_ok=True)
    accepted = dt.date.today() - dt.timedelta(days=200)
    where = records or base / "records.sqlite"
    extra = kiosk_extra(ca_dir, kiosk_backend)
    started = time.monotonic()
    with _store(where) as store:
        async with KioskHost(
            base, "bill_payment", FLEET, speed=speed, extras=[extra], store=store
        ) as host:
            out.rule(f"1. a fleet of {len(FLEET)} simulated kiosks with SSH agents")
            for tid in FLEET:
                region = REGIONS.get(tid, "South")
                store.describe_terminal(
                    tid, region=region, site=f"{region} branch", accepted=accepted.isoformat()
                )
                out.print(f"  {tid}  {region:5}  agent {host.endpoints[tid]['agent']}")
            out.print(f"  records: {store.engine.where}   CA: {ca_dir}")

            out.rule("2. faults arrive; monitoring opens a ticket for each")
            for tid, fault in FAULTS.items():
                host.terminals[tid].inject(fault)
            ticket_of = _open_tickets(store, host.catalog, out)

            out.rule("3. one engineer, one fleet grant: a 1-hour window on every terminal")
            key_path = base / "engineer"
            key = engineer_key(key_path, ENGINEER)
            grant = ca.grant(
                FLEET,
                key,
                hours=1,
                allow=("diag", "remedy"),
                ticket=",".join(f"#{n}" for n in ticket_of.values()),
                store=store,
            )
            cert_path = base / "engineer-cert.pub"
            cert_path.write_bytes(grant.certificate)
            identity = Identity.load(key_path, cert_path, ca_dir / "known_hosts")
            out.print(
                f"  grant {grant.serial}: {grant.engineer} on {len(grant.terminals)} terminals "
                f"until {dt.datetime.fromtimestamp(grant.valid_before):%H:%M} "
                f"({', '.join(grant.allow)}; tickets {grant.ticket})"
            )

            out.rule("4. the quarterly inspection, fanned out over the fleet")
            for number in ticket_of.values():
                store.meet_clock(number, "remote_session", time.time())

            def done(report: RunReport) -> None:
                record_run(store, report, ticket_of.get(report.terminal))

            reports = await fleet(
                discover(base), identity, "inspection", concurrency=len(FLEET), on_done=done
            )
            out.print(_fleet_table(reports, ticket_of))

            out.rule("5. remedies over SSH; a site visit for what cannot be fixed remotely")
            for tid, fault in FAULTS.items():
                mode = host.catalog[fault]
                number = ticket_of[tid]
                if not mode.remote_fixable or not mode.remedy:
                    store.meet_clock(number, "solution", time.time())
                    out.print(
                        f"  {tid} #{number}: {fault} is not remote-fixable; an engineer is "
                        f"dispatched ({mode.repair_minutes:g} min on site), the ticket stays open"
                    )
                    continue
                endpoint = Endpoint.from_manifest(host.manifest_path(tid))
                remedy = await apply_remedy(endpoint, identity, mode.remedy)
                record_remedy(store, remedy)
                line = f"  {tid} #{number}: remedy {mode.remedy}: {remedy.outcome}"
                if remedy.outcome == "cleared":
                    line += "; " + _close(store, number, accepted, f"remote: {mode.remedy}")
                out.print(line)

        out.rule("6. reports from the records")
        shown = next(t for t, f in FAULTS.items() if host.catalog[f].remote_fixable)
        inspection = build_inspection(store, shown)
        written = []
        stem = f"inspection-{shown}-{inspection.run.id}"
        for fmt, content in (
            ("html", inspection_html(inspection)),
            ("pdf", inspection_pdf(inspection)),
        ):
            path = reports_dir / f"{stem}.{fmt}"
            path.write_bytes(content)
            archived = archive(store, "inspection", shown, fmt, content)
            written.append((path, archived.sha256))
        out.print(
            f"  inspection of {shown}: {inspection.verdict} after "
            f"{len(inspection.remedies)} remedy(ies), {len(inspection.to_replace)} to replace"
        )
        quarter = current_quarter()
        quarterly = build_quarterly(store, quarter)
        for fmt, content in (
            ("html", quarterly_html(quarterly)),
            ("pdf", quarterly_pdf(quarterly)),
        ):
            path = reports_dir / f"quarterly-{quarterly.quarter}.{fmt}"
            path.write_bytes(content)
            archived = archive(store, "quarterly", quarterly.quarter, fmt, content)
            written.append((path, archived.sha256))
        n_tickets = sum(quarterly.tickets_by_severity.values())
        out.print(
            f"  {quarterly.quarter}: {len(quarterly.availability)} terminals, {n_tickets} tickets, "
            f"{quarterly.remote_resolved} resolved remotely, {quarterly.on_site} on site"
        )
        for path, digest in written:
            out.print(f"  {path}  sha256 {digest[:16]}...")
        open_left = len(store.tickets(status="open"))

    out.rule("7. the audit trail of every agent")
    for tid in FLEET:
        chain = verify(base / tid / "agent" / "audit.jsonl")
        state = "hash chain verified" if chain.ok else f"BROKEN at line {chain.broken_line}"
        out.print(f"  {tid}: {state}, {chain.lines} lines")

    records_arg = f"--records {where}"
    out.rule(f"done in {time.monotonic() - started:.0f} s; nothing is left running")
    out.print(f"State, keys, records and reports are in {base}", markup=False)
    out.print("Look at what happened:", markup=False)
    for line in (
        f"workbench ticket list {records_arg}",
        f"workbench ticket show {ticket_of[shown]} {records_arg}",
        f"workbench report verify {written[0][0]} {records_arg}",
        f"workbench tui --state-dir {base} --ca {ca_dir}",
    ):
        out.print(f"  {line}", markup=False, soft_wrap=True)
    live = base / "live"
    out.print("Try next:", markup=False)
    for line in (
        f"workbench kiosk up --count 5 --ca {ca_dir} --state-dir {live}",
        f"  and in another terminal: workbench tui --state-dir {live} --ca {ca_dir}",
        "workbench scenario list",
        "workbench capacity run",
    ):
        out.print(f"  {line}", markup=False, soft_wrap=True)
    if open_left:
        out.print(f"{open_left} ticket(s) still open: a site visit is due.", markup=False)
    return base
