"""``workbench diag list|run``: the checklist diagnostics run on the terminal itself (or beside a
simulated one), with no SSH and no window; results on the console or as JSON lines, and kept as
a maintenance record when a records store is named."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import click

from remote.cli.output import print_line, records_option, summary
from workbench.console import out


@click.group()
def diag() -> None:
    """Run the checklist diagnostics locally, on the terminal or beside a simulated one."""


@diag.command("list")
def diag_list() -> None:
    """Every diagnostic and suite."""
    from remote.diagnostics import registry

    for item in registry.describe():
        about = item.get("checklist") or item.get("about", "")
        out.print(f"{item['kind']:5} {item['name']:22} {about}")


@diag.command("run")
@click.option(
    "--endpoints",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The terminal's endpoints manifest (STATE/ID/endpoints.json).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON line per result.")
@records_option(None)
@click.argument("names", nargs=-1, required=True)
def diag_run(endpoints: Path, as_json: bool, store: str | None, names: tuple[str, ...]) -> None:
    """Run suites or tests (inspection, quick, device:NAME, print_head...); exit 1 on a failure."""
    from remote.client import RunReport, record_run, verdict
    from remote.terminal_backend import TerminalBackend
    from workbench.store import RecordStore

    backend = TerminalBackend.from_file(endpoints)
    report = RunReport(backend.terminal, " ".join(names), "local", time.time(), exit_status=0)

    async def run() -> None:
        async for line in backend.diag_run(list(names)):
            report.results.append(line)
            if as_json:
                out.print(json.dumps(line), markup=False, highlight=False)
            else:
                print_line({"event": "result", **line})

    asyncio.run(run())
    report.finished = time.time()
    counts = report.counts()
    report.outcome = verdict(counts)
    if store is not None:
        with RecordStore(store) as records:
            record_run(records, report)
    if not as_json:
        out.print(summary(counts))
    if counts["fail"] or counts.get("error"):
        sys.exit(1)
