"""``workbench remote remedy|history``: a terminal's maintenance, applied and read back. A
remedy is applied over SSH inside a window and kept with its re-test; the history lists the
terminal's maintenance records from the records store."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import click
from rich.table import Table

from remote.cli.output import (
    STYLE,
    cert_option,
    key_option,
    known_hosts_option,
    print_line,
    window_line,
)
from workbench.console import out
from workbench.errors import ConfigError, RemoteError


def _terminal_manifest(state_dir: Path, terminal: str) -> Path:
    from workbench.ids import check_terminal_id

    check_terminal_id(terminal)
    return state_dir / terminal / "endpoints.json"


@click.command("remedy")
@click.option(
    "--state-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the terminal's endpoints.json is (STATE/TERMINAL/endpoints.json).",
)
@key_option
@cert_option
@known_hosts_option
@click.option(
    "--store", type=click.Path(dir_okay=False, path_type=Path), help="Default STATE/records.sqlite."
)
@click.argument("terminal")
@click.argument("name")
def remedy_cmd(
    state_dir: Path,
    key: Path,
    cert: Path,
    known_hosts: Path,
    store: Path | None,
    terminal: str,
    name: str,
) -> None:
    """Apply a remote remedy (or the remedy of a fault id) on TERMINAL and re-test; exit 1 when it
    did not clear. Kept as a maintenance action with its re-test."""
    from remote import remedies
    from remote.client import Endpoint, Identity
    from remote.diagnostics.base import catalog
    from remote.remedy_client import apply_remedy, record_remedy
    from workbench.store import RecordStore

    if name not in remedies.REMEDIES and name not in set(catalog()):
        raise click.UsageError(
            f"no remedy {name!r}; remedies: {', '.join(remedies.REMEDIES)} (or a fault id)"
        )
    identity = Identity.load(key, cert, known_hosts)
    endpoint = Endpoint.from_manifest(_terminal_manifest(state_dir, terminal))
    out.print(f"{endpoint.terminal}: remedy {name} as {identity.engineer}")
    out.print(window_line(identity))
    report = asyncio.run(apply_remedy(endpoint, identity, name))
    if report.error:
        raise RemoteError(f"{endpoint.terminal}: {report.error}")
    with RecordStore(store or state_dir / "records.sqlite") as records:
        run_id = record_remedy(records, report)
    for step in report.steps:
        out.print(f"  {step}")
    if report.retest:
        out.print("re-test:")
        print_line({"event": "result", **report.retest})
    style = "green" if report.cleared else "red"
    out.print(f"[{style}]{report.outcome}[/]: {report.detail} (maintenance run {run_id})")
    if not report.cleared:
        sys.exit(1)


@click.command("history")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Read STATE/records.sqlite (or give --store).",
)
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10000))
@click.argument("terminal")
def history_cmd(state_dir: Path | None, store: Path | None, limit: int, terminal: str) -> None:
    """List TERMINAL's maintenance records, newest first: runs, remedies, what failed."""
    from workbench.store import RecordStore

    path = store or (state_dir / "records.sqlite" if state_dir else None)
    if path is None:
        raise click.UsageError("name the records: --state-dir DIR or --store FILE")
    if not path.is_file():
        raise ConfigError(f"{path}: no records store there")
    with RecordStore(path) as records:
        runs = records.maintenance_runs(terminal, limit=limit)
    if not runs:
        out.print(f"{terminal}: no maintenance records in {path}")
        return
    table = Table(title=f"{terminal}: {len(runs)} maintenance records (newest first)")
    for col in ("run", "when", "suite", "engineer", "outcome", "failing tests / suspected faults"):
        table.add_column(col)
    for run in runs:
        style = STYLE.get(run.outcome or "", "green" if run.outcome == "cleared" else "red")
        table.add_row(
            str(run.id),
            time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started)),
            run.suite,
            run.engineer or "",
            f"[{style}]{run.outcome}[/]",
            run.what_went_wrong(),
        )
    out.print(table)
