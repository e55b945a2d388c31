"""``workbench remote ca|grant|host-cert|inspect``: the window authority's commands, which make
the CAs, sign an engineer's key for a window on some terminals, sign a terminal's host key and
show what a certificate allows."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from rich.table import Table

from remote.cli.output import records_option
from workbench.console import out
from workbench.errors import ConfigError


@click.group()
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


@click.command()
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
    "--class",
    "class_ref",
    metavar="ID|STATE",
    help="Bind the window to a class (its kiosks admit no other): a class id, or a class's "
    "state directory (its class.json). Default with --state-dir: that directory's class, if any.",
)
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
    class_ref: str | None,
    out_path: Path | None,
    store: str | None,
) -> None:
    """Sign an engineer's public key for a remote window on one or more terminals.

    A class's kiosks (``workbench class up``) admit only windows naming their class: give
    ``--class`` (or ``--state-dir`` of the class) to look at a trainee's kiosk."""
    from remote.endpoint import discover
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
    class_id = _class_of(class_ref, fleet_dir)
    authority = CertificateAuthority(ca_dir)
    key = read_public_key(pubkey)
    target = _cert_target(pubkey, out_path)  # before signing: no grant without its certificate
    with RecordStore(store or ca_dir / "records.sqlite") as records:
        g = authority.grant(
            ids,
            key,
            engineer=engineer,
            hours=hours,
            allow=parse_allow(allow),
            ticket=ticket,
            class_id=class_id,
            store=records,
        )
    _write_cert(target, g.certificate)
    until = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(g.valid_before))
    where = ", ".join(g.terminals) if len(g.terminals) <= 5 else f"{len(g.terminals)} terminals"
    of_class = f", class {g.class_id}" if g.class_id else ""
    out.print(
        f"grant {g.serial}: {g.engineer} on {where} until {until} ({', '.join(g.allow)}{of_class})"
    )
    out.print(f"certificate written to {target}")


def _class_of(class_ref: str | None, fleet_dir: Path | None) -> str | None:
    """The class a grant names: ``--class`` as an id or a class's state directory; without it,
    the class of ``--state-dir`` when a class runs there (its kiosks admit nothing else)."""
    from remote.certs import check_class_id

    if class_ref is None:
        if fleet_dir is None or not (fleet_dir / "class.json").is_file():
            return None
        return _read_class_id(fleet_dir / "class.json")
    if Path(class_ref).is_dir():
        return _read_class_id(Path(class_ref) / "class.json")
    return check_class_id(class_ref)


def _read_class_id(path: Path) -> str:
    from remote.certs import check_class_id

    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"--class {path.parent}: no class there (no class.json)") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--class {path.parent}: {path} is not a class record: {exc}") from None
    class_id = record.get("class_id") if isinstance(record, dict) else None
    if not isinstance(class_id, str):
        raise ConfigError(f"--class {path.parent}: {path} names no class_id")
    return check_class_id(class_id)


def _cert_target(pubkey: Path, out_path: Path | None) -> Path:
    """Where a certificate goes (``--out``, or ``KEY-cert.pub`` next to the key); its directory
    must exist."""
    target = out_path or pubkey.with_name(pubkey.name.removesuffix(".pub") + "-cert.pub")
    if not target.parent.is_dir():
        raise ConfigError(f"--out {target}: no directory {target.parent}")
    return target


def _write_cert(target: Path, cert: bytes) -> None:
    try:
        target.write_bytes(cert)
    except OSError as exc:
        raise ConfigError(f"{target}: cannot write the certificate: {exc.strerror}") from None


@click.command("host-cert")
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

    target = _cert_target(pubkey, out_path)
    cert = CertificateAuthority(ca_dir).host_certificate(terminal, read_public_key(pubkey))
    _write_cert(target, cert)
    out.print(f"host certificate for {terminal} written to {target}")


@click.command()
@click.argument("cert", type=click.Path(dir_okay=False, path_type=Path))
def inspect(cert: Path) -> None:
    """Show a certificate: principals, window, allowed groups, ticket."""
    from remote.window import describe, read_certificate_info

    table = Table(show_header=False, title=str(cert))
    for name, value in describe(read_certificate_info(cert)):
        table.add_row(name, value)
    out.print(table)
