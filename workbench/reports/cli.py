"""``workbench report``: write the inspection report of a terminal or the quarterly service report
as HTML and PDF, archive both in the records store, and check a copy against the archive."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click

from workbench.console import out
from workbench.errors import ConfigError
from workbench.ids import check_terminal_id
from workbench.store import RecordStore
from workbench.ticket_cli import default_records, records_option

out_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory the HTML and PDF are written to.",
)


def _check_out(out_dir: Path) -> None:
    if not out_dir.is_dir():
        raise ConfigError(f"{out_dir}: no such directory for the report")


def _write(
    store: RecordStore, kind: str, subject: str, out_dir: Path, stem: str, docs: dict[str, bytes]
) -> None:
    from workbench.reports.render import archive

    for fmt, content in docs.items():
        path = out_dir / f"{stem}.{fmt}"
        path.write_bytes(content)
        record = archive(store, kind, subject, fmt, content)
        out.print(
            f"  {path}  ({len(content):,} bytes, sha256 {record.sha256[:16]}..., archived #{record.id})"
        )


@click.group()
def report() -> None:
    """Inspection and quarterly service reports from the records."""


@report.command("inspection")
@click.option("--terminal", required=True, help="The terminal inspected.")
@click.option("--run", "run_id", type=int, help="The inspection run (default: its latest).")
@out_option
@records_option
def inspection_cmd(terminal: str, run_id: int | None, out_dir: Path, records: str | None) -> None:
    """The inspection report of a terminal: the 11 items, remedies, parts, signatures."""
    from workbench.reports.inspection import build_inspection
    from workbench.reports.render import inspection_html, inspection_pdf

    check_terminal_id(terminal)
    _check_out(out_dir)
    with RecordStore(records or default_records()) as store:
        built = build_inspection(store, terminal, run_id)
        out.print(
            f"inspection of {terminal} on {built.when} by {built.run.engineer}: {built.verdict} "
            f"({sum(i.status == 'pass' for i in built.items)} of {len(built.items)} items pass; "
            f"{len(built.remedies)} remedies; {len(built.to_replace)} to replace)"
        )
        stem = f"inspection-{terminal}-{built.run.id}"
        _write(store, "inspection", terminal, out_dir, stem,
               {"html": inspection_html(built), "pdf": inspection_pdf(built)})  # fmt: skip


@report.command("quarterly")
@click.option("--quarter", required=True, help="The quarter, e.g. 2026Q3.")
@out_option
@records_option
def quarterly_cmd(quarter: str, out_dir: Path, records: str | None) -> None:
    """The quarterly service report: operation, faults, service delivered, next quarter."""
    from workbench.reports.quarterly import build_quarterly
    from workbench.reports.render import quarterly_html, quarterly_pdf

    _check_out(out_dir)
    with RecordStore(records or default_records()) as store:
        built = build_quarterly(store, quarter)
        tickets = sum(built.tickets_by_severity.values())
        held = sum(h for _, h, _ in built.sla)
        clocks = sum(n for _, _, n in built.sla)
        share = f"{100 * held / clocks:.1f} %" if clocks else "no clocks"
        out.print(
            f"{built.quarter}: {len(built.availability)} terminals, {tickets} tickets, "
            f"SLA clocks held {share}, {built.engineers_needed} engineer(s) needed next quarter"
        )
        _write(store, "quarterly", built.quarter, out_dir, f"quarterly-{built.quarter}",
               {"html": quarterly_html(built), "pdf": quarterly_pdf(built)})  # fmt: skip


@report.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@records_option
def verify_cmd(file: Path, records: str | None) -> None:
    """Check a report file against the archive: is it the document that was issued?"""
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    with RecordStore(records or default_records()) as store:
        match = [r for r in store.reports() if r.sha256 == digest]
    if not match:
        raise ConfigError(f"{file}: not an archived report (sha256 {digest[:16]}... unknown)")
    r = match[0]
    out.print(f"{file}: archived report #{r.id}, {r.kind} {r.subject} ({r.format}), unchanged")
