"""``workbench remote audit verify``: check an agent's hash-chained audit log, line by line, its
seals against a key the engineer trusts and, with a records store, against the last seal the
engineer's client kept."""

from __future__ import annotations

from pathlib import Path

import click

from workbench.console import err, out
from workbench.errors import ConfigError, RemoteError


@click.group()
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
