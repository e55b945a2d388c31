"""``workbench remote run|exec|fleet``: diagnostics over SSH inside a window, on one terminal
(streamed, kept as a maintenance record) or fanned out over every terminal of a state directory
(a progress bar, then the failing tests per terminal)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from remote.cli.output import (
    STYLE,
    cert_option,
    key_option,
    known_hosts_option,
    print_line,
    records_option,
    window_line,
)
from workbench.console import err, out
from workbench.errors import ConfigError, RemoteError


@click.command("run")
@click.option("--endpoints", required=True, type=click.Path(dir_okay=False, path_type=Path))
@key_option
@cert_option
@known_hosts_option
@records_option("STATE/records.sqlite")
@click.argument("suite")
def run_cmd(
    endpoints: Path, key: Path, cert: Path, known_hosts: Path, store: str | None, suite: str
) -> None:
    """Run a suite on one terminal, stream its results and keep them as a maintenance record."""
    from remote.client import Endpoint, Identity, UnknownNames, record_run, run_suite
    from workbench.store import RecordStore

    if suite.split()[:1] == ["remedy"]:
        raise click.UsageError(
            f"{suite!r} is not a suite; apply a remedy with `workbench remote remedy TERMINAL NAME`"
        )
    identity = Identity.load(key, cert, known_hosts)
    endpoint = Endpoint.from_manifest(endpoints)
    out.print(f"{endpoint.terminal}: diag run {suite} as {identity.engineer}")
    out.print(window_line(identity))

    def show(line: dict[str, Any]) -> None:
        if line.get("event") not in ("error", "window_closed"):  # the final error says it once
            print_line(line)

    try:
        report = asyncio.run(run_suite(endpoint, identity, suite, on_line=show, check_names=True))
    except UnknownNames as exc:
        raise click.UsageError(str(exc)) from None
    with RecordStore(store or endpoints.parent.parent / "records.sqlite") as records:
        run_id = record_run(records, report)
    style = STYLE.get(report.outcome, "white")
    out.print(
        f"[{style}]{report.outcome}[/] in {report.finished - report.started:.2f} s (maintenance run {run_id})"
    )
    if report.outcome in ("error", "cut off"):
        error = str(report.error)
        raise RemoteError(
            error if error.startswith(endpoint.terminal) else f"{endpoint.terminal}: {error}"
        )
    if report.outcome == "fail":
        sys.exit(1)


@click.command("exec")
@click.option("--endpoints", required=True, type=click.Path(dir_okay=False, path_type=Path))
@key_option
@cert_option
@known_hosts_option
@click.argument("command", nargs=-1, required=True)
def exec_cmd(
    endpoints: Path, key: Path, cert: Path, known_hosts: Path, command: tuple[str, ...]
) -> None:
    """Run one agent command (status, logs, remedy ACTION, diag ...): its JSON lines, its exit
    status."""
    import shlex

    from remote.client import AgentClient, Endpoint, Identity

    identity = Identity.load(key, cert, known_hosts)
    endpoint = Endpoint.from_manifest(endpoints)

    async def run() -> int | None:
        async with AgentClient(endpoint, identity) as client:
            async for line in client.stream(shlex.join(command)):
                out.print(json.dumps(line), markup=False, highlight=False)
            return client.exit_status

    status = asyncio.run(run())
    if status is None:
        raise RemoteError(f"{endpoint.terminal}: the command was cut off")
    if status:
        sys.exit(status)


@click.command()
@click.option("--state-dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@key_option
@cert_option
@known_hosts_option
@click.option("--suite", default="inspection", show_default=True)
@click.option("--concurrency", default=20, show_default=True, type=click.IntRange(1, 1000))
@records_option("STATE_DIR/records.sqlite")
def fleet(
    state_dir: Path,
    key: Path,
    cert: Path,
    known_hosts: Path,
    suite: str,
    concurrency: int,
    store: str | None,
) -> None:
    """Run a suite on every terminal under STATE_DIR, N at a time; a summary table at the end."""
    from remote import client
    from remote.endpoint import discover
    from remote.fleet import fleet as fan_out
    from workbench.store import RecordStore

    identity = client.Identity.load(key, cert, known_hosts)
    manifests = discover(state_dir)
    if not manifests:
        raise ConfigError(f"{state_dir}: no */endpoints.json (no running terminals)")
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    started = time.time()
    with (
        RecordStore(store or state_dir / "records.sqlite") as records,
        Progress(*columns, console=err) as progress,
    ):
        task = progress.add_task(f"{suite} on {len(manifests)} terminals", total=len(manifests))

        def done(report: client.RunReport) -> None:
            client.record_run(records, report)
            progress.advance(task)

        reports = asyncio.run(
            fan_out(manifests, identity, suite, concurrency=concurrency, on_done=done)
        )
    # plain text: as markup, 'device:printer: 1 terminals' showed as 'device🖨 1 terminals'
    title = Text(f"{suite}: {len(reports)} terminals in {time.time() - started:.1f} s")
    table = Table(title=title)
    for col in ("terminal", "outcome", "pass", "warn", "fail", "s", "failing tests / error"):
        table.add_column(col)
    for r in sorted(reports, key=lambda r: r.terminal):
        c = r.counts()
        style = STYLE.get(r.outcome, "white")
        table.add_row(
            r.terminal,
            f"[{style}]{r.outcome}[/]",
            str(c["pass"]),
            str(c["warn"]),
            str(c["fail"]),
            f"{r.finished - r.started:.2f}",
            r.what_went_wrong(),
        )
    out.print(table)
    tally: dict[str, int] = {}
    for r in reports:
        tally[r.outcome] = tally.get(r.outcome, 0) + 1
    out.print("  ".join(f"{k}: {v}" for k, v in sorted(tally.items())))
    if any(r.outcome != "pass" and r.outcome != "warn" for r in reports):
        sys.exit(1)
