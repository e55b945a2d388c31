"""``workbench remote ...`` (CA, grants, host certificates, audit, runs, fleet fan-out) and
``workbench agent --config FILE``; also runnable as ``python -m remote.cli``."""

from __future__ import annotations

import asyncio
import importlib
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from workbench.console import err, out
from workbench.errors import ConfigError, RemoteError, WorkbenchError

_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "error": "red", "cut off": "magenta"}


def records_option(default: str | None) -> Any:
    """``--records FILE|URL`` (alias ``--store``, or ``$WORKBENCH_RECORDS``): where records go."""
    where = f"default {default}" if default else "none unless given"
    return click.option(
        "--records",
        "--store",
        "store",
        envvar="WORKBENCH_RECORDS",
        metavar="FILE|URL",
        help=f"Records store: an SQLite file or a postgresql:// URL ({where}).",
    )


known_hosts_option = click.option(
    "--known-hosts",
    envvar="WORKBENCH_KNOWN_HOSTS",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File with the host CA's @cert-authority line (CA/known_hosts); env WORKBENCH_KNOWN_HOSTS.",
)
key_option = click.option(
    "--key",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Engineer's private key.",
)
cert_option = click.option(
    "--cert",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Window certificate.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def remote() -> None:
    """Remote windows: certificate authority, grants, audit, runs and fleet fan-out."""


@remote.group()
def ca() -> None:
    """The user and host certificate authorities."""


@ca.command("init")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path))
def ca_init(directory: Path) -> None:
    """Create a user CA and a host CA (ed25519) in DIR (0700, private keys 0600)."""
    from remote.window import CertificateAuthority

    authority = CertificateAuthority.init(directory)
    out.print(f"CA created in {directory}")
    out.print(f"  agents trust the user CA: {directory / 'user_ca.pub'}")
    out.print(f"  clients trust the host CA: {directory / 'known_hosts'}")
    out.print(
        f"  window length: default {authority.settings.default_hours:g} h, max {authority.settings.max_hours:g} h"
    )


@remote.command()
@click.option("--ca", "ca_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--terminal",
    "terminals",
    multiple=True,
    help="Terminal id (repeat for a fleet).",
)
@click.option(
    "--state-dir",
    "fleet_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also every terminal running under this state directory (its */endpoints.json).",
)
@click.option("--key", "pubkey", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--engineer", help="Name for the key id (default: the public key's comment).")
@click.option("--hours", type=float, help="Window length (default from CA/window.yaml: 1 h).")
@click.option(
    "--allow",
    default="diag,remedy",
    show_default=True,
    help="Command groups: diag, remedy, trainer.",
)
@click.option("--ticket", help="Ticket reference the window is opened for.")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Default KEY-cert.pub.",
)
@records_option("CA/records.sqlite")
def grant(
    ca_dir: Path,
    terminals: tuple[str, ...],
    fleet_dir: Path | None,
    pubkey: Path,
    engineer: str | None,
    hours: float | None,
    allow: str,
    ticket: str | None,
    out_path: Path | None,
    store: str | None,
) -> None:
    """Sign an engineer's public key for a remote window on one or more terminals."""
    from remote.client import discover
    from remote.window import CertificateAuthority, parse_allow, read_public_key
    from workbench.store import RecordStore

    ids = list(terminals)
    if fleet_dir is not None:
        found = [p.parent.name for p in discover(fleet_dir)]
        if not found:
            raise ConfigError(f"{fleet_dir}: no running terminals (no */endpoints.json)")
        ids += found
    if not ids:
        raise click.UsageError("name the terminals: --terminal ID (repeatable) or --state-dir DIR")
    authority = CertificateAuthority(ca_dir)
    key = read_public_key(pubkey)
    with RecordStore(store or ca_dir / "records.sqlite") as records:
        g = authority.grant(
            ids,
            key,
            engineer=engineer,
            hours=hours,
            allow=parse_allow(allow),
            ticket=ticket,
            store=records,
        )
    target = out_path or pubkey.with_name(pubkey.name.removesuffix(".pub") + "-cert.pub")
    target.write_bytes(g.certificate)
    until = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(g.valid_before))
    where = ", ".join(g.terminals) if len(g.terminals) <= 5 else f"{len(g.terminals)} terminals"
    out.print(f"grant {g.serial}: {g.engineer} on {where} until {until} ({', '.join(g.allow)})")
    out.print(f"certificate written to {target}")


@remote.command("host-cert")
@click.option("--ca", "ca_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--terminal", required=True)
@click.option("--key", "pubkey", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Default KEY-cert.pub.",
)
def host_cert(ca_dir: Path, terminal: str, pubkey: Path, out_path: Path | None) -> None:
    """Sign a terminal's host key; its principal is the terminal id."""
    from remote.window import CertificateAuthority, read_public_key

    cert = CertificateAuthority(ca_dir).host_certificate(terminal, read_public_key(pubkey))
    target = out_path or pubkey.with_name(pubkey.name.removesuffix(".pub") + "-cert.pub")
    target.write_bytes(cert)
    out.print(f"host certificate for {terminal} written to {target}")


@remote.command()
@click.argument("cert", type=click.Path(dir_okay=False, path_type=Path))
def inspect(cert: Path) -> None:
    """Show a certificate: principals, window, allowed groups, ticket."""
    from remote.window import describe, read_certificate_info

    table = Table(show_header=False, title=str(cert))
    for name, value in describe(read_certificate_info(cert)):
        table.add_row(name, value)
    out.print(table)


@remote.group()
def audit() -> None:
    """The agent's hash-chained audit log."""


@audit.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An engineer's records store: check against the last seal and host key it saw.",
)
@click.option("--terminal", help="Whose log this is (default: the id the log names).")
@click.option(
    "--host-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The terminal's host public key to check the seals against.",
)
def audit_verify(
    file: Path, store: Path | None, terminal: str | None, host_key: Path | None
) -> None:
    """Check every line's form, hash chain and seal; name the first broken line."""
    from remote.audit import Seal, verify
    from remote.certs import read_public_key
    from workbench.ids import check_terminal_id
    from workbench.store import RecordStore

    if not file.is_file():
        raise ConfigError(f"{file}: no such file")
    key = read_public_key(host_key) if host_key is not None else None
    seal = None
    if store is not None:
        if not store.is_file():
            raise ConfigError(f"{store}: no such records store")
        named = terminal or verify(file, key=key).terminal
        with RecordStore(store) as records:
            known = records.audit_seal_terminals()
            if named is None and len(known) == 1:
                named = known[0]
            if named is None:
                raise RemoteError(
                    f"{file}: the log names no terminal; say whose it is with --terminal"
                )
            row = records.audit_seal(check_terminal_id(named))
        if row is None:
            raise ConfigError(f"{store}: no audit seal of {named} (no run recorded there)")
        seal = Seal(int(row["seq"]), str(row["hash"]), str(row["seal"]))
        if key is None:
            import asyncssh

            key = asyncssh.import_public_key(str(row["host_key"]))
    verdict = verify(file, key=key, seal=seal)
    if not verdict.ok:
        raise RemoteError(f"{file}:{verdict.broken_line}: chain broken: {verdict.reason}")
    notes = []
    if verdict.torn_lines:
        notes.append(f"{verdict.torn_lines} torn line(s) marked by audit_recovered")
    if verdict.torn_tail:
        notes.append("a torn last line is ignored until the log is reopened")
    if seal is not None:
        notes.append(f"reaches line {seal.seq} the store saw sealed")
    how = "sealed by" if verdict.trusted else "sealed by the key the log names,"
    tail = f"; {'; '.join(notes)}" if notes else ""
    out.print(f"{file}: {verdict.lines} lines, chain intact, {how} {verdict.sealer}{tail}")
    if not verdict.trusted and verdict.lines:
        err.print(
            "warning: seals checked against the key the log itself names; give --store or "
            "--host-key to check them against a key you trust"
        )


def _print_line(line: dict[str, Any]) -> None:
    event = line.get("event")
    if event == "result":
        status = str(line.get("status"))
        meas = ", ".join(
            f"{k} {v.get('value')} {v.get('unit', '')}".strip()
            if isinstance(v, dict)
            else f"{k} {v}"
            for k, v in (line.get("measurements") or {}).items()
        )
        suspect = f"  suspect {line['suspect']}" if line.get("suspect") else ""
        hint = f"  -> {line['remedy']}" if line.get("remedy") else ""
        why = f"  {line.get('detail')}" if status == "error" else ""
        out.print(
            f"[{_STYLE.get(status, 'white')}]{status:>4}[/] {line.get('test')}  {meas}{suspect}{hint}{why}"
        )
    elif event == "summary":
        out.print(_summary(line))
    elif event == "queued":
        err.print(f"{line.get('message')}", markup=False)
    elif event in ("error", "window_closed"):
        err.print(f"[red]{event}[/]: {line.get('error') or line.get('message')}")


def _window_line(identity: Any) -> str:
    from remote.window_text import window_left

    info = identity.info
    signed = time.strftime("%H:%M", time.localtime(info.valid_after))
    return (
        f"window: {window_left(info.valid_before)}; it counts from signing ({signed}), "
        "not from first use"
    )


def _summary(counts: dict[str, Any]) -> str:
    """``summary: 10 pass, 1 warn, 0 fail`` (and ``, N error`` when a test could not run)."""
    text = f"summary: {counts.get('pass', 0)} pass, {counts.get('warn', 0)} warn, {counts.get('fail', 0)} fail"
    return text + (f", {counts['error']} error" if counts.get("error") else "")


@remote.command("run")
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
    out.print(_window_line(identity))

    def show(line: dict[str, Any]) -> None:
        if line.get("event") not in ("error", "window_closed"):  # the final error says it once
            _print_line(line)

    try:
        report = asyncio.run(run_suite(endpoint, identity, suite, on_line=show, check_names=True))
    except UnknownNames as exc:
        raise click.UsageError(str(exc)) from None
    with RecordStore(store or endpoints.parent.parent / "records.sqlite") as records:
        run_id = record_run(records, report)
    style = _STYLE.get(report.outcome, "white")
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


def _terminal_manifest(state_dir: Path, terminal: str) -> Path:
    from workbench.ids import check_terminal_id

    check_terminal_id(terminal)
    return state_dir / terminal / "endpoints.json"


@remote.command("remedy")
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
    from remote.client import Endpoint, Identity, apply_remedy, record_remedy
    from remote.diagnostics.base import catalog
    from workbench.store import RecordStore

    if name not in remedies.REMEDIES and name not in set(catalog()):
        raise click.UsageError(
            f"no remedy {name!r}; remedies: {', '.join(remedies.REMEDIES)} (or a fault id)"
        )
    identity = Identity.load(key, cert, known_hosts)
    endpoint = Endpoint.from_manifest(_terminal_manifest(state_dir, terminal))
    out.print(f"{endpoint.terminal}: remedy {name} as {identity.engineer}")
    out.print(_window_line(identity))
    report = asyncio.run(apply_remedy(endpoint, identity, name))
    if report.error:
        raise RemoteError(f"{endpoint.terminal}: {report.error}")
    with RecordStore(store or state_dir / "records.sqlite") as records:
        run_id = record_remedy(records, report)
    for step in report.steps:
        out.print(f"  {step}")
    if report.retest:
        out.print("re-test:")
        _print_line({"event": "result", **report.retest})
    style = "green" if report.cleared else "red"
    out.print(f"[{style}]{report.outcome}[/]: {report.detail} (maintenance run {run_id})")
    if not report.cleared:
        sys.exit(1)


def _findings(findings: Any) -> str:
    return "; ".join(
        f"{f.test} {f.status}" + (f": {f.suspect}" if f.suspect else "") for f in findings
    )


@remote.command("history")
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
        style = _STYLE.get(run.outcome or "", "green" if run.outcome == "cleared" else "red")
        table.add_row(
            str(run.id),
            time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started)),
            run.suite,
            run.engineer or "",
            f"[{style}]{run.outcome}[/]",
            _findings(run.findings),
        )
    out.print(table)


@remote.command("exec")
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


@remote.command()
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
    from workbench.store import RecordStore

    identity = client.Identity.load(key, cert, known_hosts)
    manifests = client.discover(state_dir)
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
            client.fleet(manifests, identity, suite, concurrency=concurrency, on_done=done)
        )
    table = Table(title=f"{suite}: {len(reports)} terminals in {time.time() - started:.1f} s")
    for col in ("terminal", "outcome", "pass", "warn", "fail", "s", "failing tests / error"):
        table.add_column(col)
    for r in sorted(reports, key=lambda r: r.terminal):
        c = r.counts()
        style = _STYLE.get(r.outcome, "white")
        failing = "; ".join(
            f"{x.get('test')} {x.get('status')}" + (f": {x['suspect']}" if x.get("suspect") else "")
            for x in r.results
            if x.get("status") != "pass"
        )
        table.add_row(
            r.terminal,
            f"[{style}]{r.outcome}[/]",
            str(c["pass"]),
            str(c["warn"]),
            str(c["fail"]),
            f"{r.finished - r.started:.2f}",
            "; ".join(x for x in (failing, r.error or "") if x),
        )
    out.print(table)
    tally: dict[str, int] = {}
    for r in reports:
        tally[r.outcome] = tally.get(r.outcome, 0) + 1
    out.print("  ".join(f"{k}: {v}" for k, v in sorted(tally.items())))
    if any(r.outcome != "pass" and r.outcome != "warn" for r in reports):
        sys.exit(1)


@click.command()
@click.option(
    "--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
def agent(config_path: Path) -> None:
    """Run this terminal's SSH agent until SIGINT/SIGTERM (prints its address as a JSON line)."""
    from remote.agent import Agent, AgentConfig
    from workbench.config import load_yaml

    config = load_yaml(config_path, AgentConfig)
    backend = _load_backend(config, config_path)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with Agent(config, backend) as running:
            print(json.dumps({"terminal": config.terminal, "agent": running.address}), flush=True)
            await stop.wait()

    asyncio.run(serve())


def _load_backend(config: Any, source: Path) -> Any:
    """Build the terminal's backend: the built-in one over its ``devices`` map, or the one the
    config names as ``module:callable``; anything that is not a callable giving a
    :class:`remote.backend.Backend` is a one-line config error."""
    from remote.backend import Backend

    if config.backend and config.devices:
        raise ConfigError(f"{source}: give devices (the built-in backend) or backend, not both")
    if config.devices:
        from remote.real_terminal import check_devices, real_terminal_backend

        return real_terminal_backend(config.terminal, check_devices(config.devices, str(source)))
    if not config.backend:
        raise ConfigError(
            f"{source}: devices: name this terminal's devices and their ports "
            "(or backend: module:callable for a backend of your own)"
        )
    where = f"{source}: backend(={config.backend!r})"
    module, sep, attr = config.backend.partition(":")
    if not sep or not module or not attr.isidentifier():
        raise ConfigError(f"{where} must be module:callable")
    try:
        factory = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"{where} cannot be imported: {exc}") from None
    if not callable(factory) or isinstance(factory, type(print)):
        # a builtin (os:system, builtins:exec...) is never a backend factory: refuse it
        # before calling it with the config
        raise ConfigError(f"{where} is not a backend factory (a Python function or class)")
    try:
        backend = factory(config)
    except WorkbenchError:
        raise
    except Exception as exc:
        raise ConfigError(f"{where} failed to build a backend: {exc}") from None
    if not isinstance(backend, Backend):
        raise ConfigError(f"{where} returned {type(backend).__name__}, not an agent backend")
    return backend


def main() -> None:
    """Entry point for ``python -m remote.cli``: errors become one line and an exit code."""
    cli = click.Group(commands={"remote": remote, "agent": agent})
    try:
        cli.main(standalone_mode=False)
    except WorkbenchError as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)


if __name__ == "__main__":
    main()


# -- diagnostics on the terminal itself (no SSH) -------------------------------------------------
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
                _print_line({"event": "result", **line})

    asyncio.run(run())
    report.finished = time.time()
    counts = report.counts()
    report.outcome = verdict(counts)
    if store is not None:
        with RecordStore(store) as records:
            record_run(records, report)
    if not as_json:
        out.print(_summary(counts))
    if counts["fail"] or counts.get("error"):
        sys.exit(1)
