"""The window authority: a user CA and a host CA that sign OpenSSH certificates, so that a remote
window is exactly a user certificate's validity and the commands it allows ride inside it.

A grant signs an engineer's key for one or more terminal ids (the principals, which are also the
SSH login names), for ``--hours`` from now, with the allowed command groups carried in the
non-critical extension ``workbench-allow@kiosk-workbench`` and every ``permit-*`` extension
cleared (no pty, no forwarding). Terminals prove themselves with host certificates whose
principal is their terminal id; clients trust the host CA through an ``@cert-authority`` line.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import asyncssh
from asyncssh.public_key import CERT_TYPE_USER, SSHKey
from pydantic import Field

from remote.certs import (
    ALLOW_EXTENSION,
    CLASS_EXTENSION,
    TICKET_EXTENSION,
    CertInfo,
    _WorkbenchCertV01,
    describe,
    fingerprint,
    inspect_certificate,
    read_certificate_info,
    read_public_key,
)
from workbench import sla
from workbench.config import Strict, load_yaml
from workbench.errors import AuthError, ConfigError, RemoteError
from workbench.ids import check_terminal_id
from workbench.records import GrantRecord
from workbench.store import RecordStore

log = logging.getLogger(__name__)

GROUPS = ("diag", "remedy", "trainer")
"""Command groups: ``diag`` (status, diag, logs), ``remedy``, ``trainer`` (fault injection)."""
DEFAULT_ALLOW = ("diag", "remedy")


class WindowSettings(Strict):
    """``CA/window.yaml``: how long a grant lasts by default and the longest one the CA signs."""

    default_hours: float = Field(default=sla.REMOTE_WINDOW_HOURS, gt=0, allow_inf_nan=False)
    max_hours: float = Field(default=sla.REMOTE_WINDOW_HOURS, gt=0, allow_inf_nan=False)
    """The service plan's window is one hour; a longer job takes a second grant (audited)."""


def parse_allow(text: str) -> tuple[str, ...]:
    """``diag,remedy`` -> ('diag', 'remedy'), refusing unknown groups."""
    groups = tuple(dict.fromkeys(g.strip() for g in text.split(",") if g.strip()))
    unknown = [g for g in groups if g not in GROUPS]
    if unknown or not groups:
        raise ConfigError(f"--allow(={text!r}): groups must be among {', '.join(GROUPS)}")
    return groups


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _read_private_key(path: Path) -> SSHKey:
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (run `workbench remote ca init`)") from None
    if mode & 0o077:
        raise AuthError(f"{path}: permissions {mode:04o} are too open; the CA key must be 0600")
    try:
        return asyncssh.read_private_key(str(path))
    except (OSError, asyncssh.KeyImportError, ValueError) as exc:
        raise ConfigError(f"{path}: not a private key: {exc}") from None


@dataclass(frozen=True, slots=True)
class Grant:
    """One signed remote window."""

    serial: int
    terminals: tuple[str, ...]
    engineer: str
    ticket: str | None
    allow: tuple[str, ...]
    valid_after: int
    valid_before: int
    certificate: bytes  # OpenSSH one-line format, as written to ``...-cert.pub``
    class_id: str | None = None
    """The class whose kiosks admit this window (``None``: kiosks serving no class)."""


class CertificateAuthority:
    """A CA directory: ``user_ca`` and ``host_ca`` (private, 0600) with ``.pub`` twins,
    ``known_hosts`` (the ``@cert-authority`` line clients use), ``window.yaml`` and ``serial``."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        if not (self.dir / "user_ca.pub").is_file():
            raise ConfigError(
                f"{self.dir}: not a CA directory (run `workbench remote ca init --dir {self.dir}`)"
            )
        settings_path = self.dir / "window.yaml"
        self.settings = (
            load_yaml(settings_path, WindowSettings) if settings_path.exists() else WindowSettings()
        )
        self.user_ca_public = read_public_key(self.dir / "user_ca.pub")
        self.host_ca_public = read_public_key(self.dir / "host_ca.pub")

    @classmethod
    def init(cls, directory: str | Path) -> CertificateAuthority:
        """Create the two CAs (ed25519) in a new or empty directory (0700); refuse to overwrite."""
        d = Path(directory)
        if (d / "user_ca").exists() or (d / "host_ca").exists():
            raise ConfigError(f"{d}: a CA already exists there; refusing to overwrite it")
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
        d.chmod(0o700)
        for name in ("user_ca", "host_ca"):
            key = asyncssh.generate_private_key("ssh-ed25519", comment=f"kiosk-workbench {name}")
            _write_private(d / name, key.export_private_key("openssh"))
            (d / f"{name}.pub").write_bytes(key.export_public_key("openssh"))
        host_ca = (d / "host_ca.pub").read_text().strip()
        (d / "known_hosts").write_text(f"@cert-authority * {host_ca}\n")
        (d / "window.yaml").write_text(
            f"# remote window lengths in hours\ndefault_hours: {sla.REMOTE_WINDOW_HOURS:g}\n"
            f"max_hours: {sla.REMOTE_WINDOW_HOURS:g}\n"
        )
        (d / "serial").write_text("0\n")
        log.info("CA created in %s", d)
        return cls(d)

    @property
    def known_hosts_line(self) -> str:
        """The ``@cert-authority`` line a client needs to trust every terminal's host cert."""
        return (self.dir / "known_hosts").read_text().strip()

    @property
    def user_ca_line(self) -> str:
        """The user CA public key in OpenSSH one-line form (what an agent trusts)."""
        return (self.dir / "user_ca.pub").read_text().strip()

    def next_serial(self) -> int:
        """Take the next certificate serial under an exclusive lock (serials never repeat)."""
        path = self.dir / "serial"
        with open(path, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(0)
            current = int(f.read().strip() or 0)
            f.seek(0)
            f.truncate()
            f.write(f"{current + 1}\n")
            f.flush()
            os.fsync(f.fileno())
        return current + 1

    def grant(
        self,
        terminals: list[str] | tuple[str, ...],
        engineer_key: SSHKey,
        *,
        engineer: str | None = None,
        hours: float | None = None,
        allow: tuple[str, ...] = DEFAULT_ALLOW,
        ticket: str | None = None,
        class_id: str | None = None,
        now: float | None = None,
        store: RecordStore | None = None,
    ) -> Grant:
        """Sign ``engineer_key`` as a user certificate for ``terminals`` from now for ``hours``.

        ``class_id`` binds the window to one class (a trainee's, or a trainer's grant with
        ``--class``): only that class's agents admit it, and a class's agents admit no other.

        ``now`` exists for tests (a window that opened in the past, or opens in the future).
        """
        hours = self.settings.default_hours if hours is None else hours
        if not hours > 0:  # also refuses NaN
            raise ConfigError(f"a window of {hours:g} h is refused: --hours must be > 0")
        if not hours <= self.settings.max_hours:
            raise AuthError(
                f"a window of {hours:g} h is refused: the maximum is {self.settings.max_hours:g} h "
                f"({self.dir / 'window.yaml'} max_hours)"
            )
        ids = tuple(dict.fromkeys(check_terminal_id(t) for t in terminals))
        if not ids:
            raise ConfigError("a grant needs at least one --terminal")
        for group in allow:
            if group not in GROUPS:
                raise ConfigError(f"unknown command group {group!r}; groups: {', '.join(GROUPS)}")
        name = engineer or engineer_key.get_comment()
        if not name:
            raise ConfigError(
                "the engineer's key has no comment; name the engineer with --engineer"
            )
        ca_key = _read_private_key(self.dir / "user_ca")
        valid_after = int(time.time() if now is None else now)  # whole seconds, rounded down
        valid_before = valid_after + max(1, round(hours * 3600))
        serial = self.next_serial()
        options: dict[str, object] = {ALLOW_EXTENSION: ",".join(allow)}
        if ticket:
            options[TICKET_EXTENSION] = ticket
        if class_id:
            options[CLASS_EXTENSION] = class_id
        algorithm = _cert_algorithm(engineer_key)
        cert = _WorkbenchCertV01.generate(
            ca_key,
            algorithm,
            engineer_key,
            serial,
            CERT_TYPE_USER,
            name,
            list(ids),
            valid_after,
            valid_before,
            options,
            ca_key.sig_algorithms[0],
            engineer_key.get_comment_bytes(),
        )
        grant = Grant(
            serial,
            ids,
            name,
            ticket,
            tuple(allow),
            valid_after,
            valid_before,
            cert.export_certificate(),
            class_id or None,
        )
        if store is not None:
            store.add_grant(
                GrantRecord(
                    serial,
                    tuple(ids),
                    name,
                    ticket,
                    tuple(allow),
                    valid_after,
                    valid_before,
                    time.time(),
                )
            )
        log.info(
            "grant %d: %s for %s, %s%s",
            serial,
            name,
            ",".join(ids),
            ",".join(allow),
            f", class {class_id}" if class_id else "",
        )
        return grant

    def host_certificate(self, terminal: str, host_key: SSHKey, *, days: float = 365.0) -> bytes:
        """Sign a terminal's host key; the principal is the terminal id (clients pin it)."""
        check_terminal_id(terminal)
        ca_key = _read_private_key(self.dir / "host_ca")
        now = int(time.time())
        cert = ca_key.generate_host_certificate(
            host_key,
            terminal,
            serial=self.next_serial(),
            # OpenSSH lower-cases the host name (and HostKeyAlias) before matching principals.
            principals=list(dict.fromkeys([terminal, terminal.lower()])),
            valid_after=now - 60,
            valid_before=now + int(days * 86400),
        )
        return bytes(cert.export_certificate())


def _cert_algorithm(key: SSHKey) -> bytes:
    """The v01 certificate algorithm for a key type (asyncssh keeps this map private)."""
    from remote.ssh_internals import certificate_algorithm

    algorithm = certificate_algorithm(key)
    if algorithm is None:
        raise ConfigError(
            f"cannot certify a {key.algorithm.decode()} key; use ed25519, ecdsa or rsa"
        )
    return algorithm


def engineer_key(path: str | Path, comment: str) -> SSHKey:
    """An engineer's ed25519 key at ``path`` (0600), made on first use and kept after.

    What ``ssh-keygen -t ed25519 -C COMMENT -f PATH`` does, for tools that have no shell."""
    p = Path(path)
    if not p.exists():
        key = asyncssh.generate_private_key("ssh-ed25519", comment=comment)
        _write_private(p, key.export_private_key("openssh"))
        p.with_name(p.name + ".pub").write_bytes(key.export_public_key("openssh"))
    return _read_private_key(p)


def issue_host_identity(
    ca_dir: str | Path, terminal: str, out_dir: str | Path
) -> tuple[Path, Path]:
    """Give a (simulated) terminal a host key and a host certificate in ``out_dir``.

    The key is created once (0600) and kept; the certificate is re-signed on every call.
    Returns ``(host_key_path, host_cert_path)``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    key_path = out / "ssh_host_ed25519_key"
    if not key_path.exists():
        key = asyncssh.generate_private_key("ssh-ed25519", comment=f"{terminal} host key")
        _write_private(key_path, key.export_private_key("openssh"))
        key_path.with_suffix(".pub").write_bytes(key.export_public_key("openssh"))
    try:
        host_key = asyncssh.read_private_key(str(key_path))
    except (OSError, asyncssh.KeyImportError) as exc:
        raise RemoteError(f"{key_path}: cannot read host key: {exc}") from None
    cert_path = out / "ssh_host_ed25519_key-cert.pub"
    tmp = cert_path.with_suffix(".tmp")
    tmp.write_bytes(CertificateAuthority(ca_dir).host_certificate(terminal, host_key))
    os.replace(tmp, cert_path)
    return key_path, cert_path


__all__ = [
    "ALLOW_EXTENSION",
    "GROUPS",
    "CertInfo",
    "CertificateAuthority",
    "Grant",
    "WindowSettings",
    "describe",
    "engineer_key",
    "fingerprint",
    "inspect_certificate",
    "issue_host_identity",
    "parse_allow",
    "read_certificate_info",
    "read_public_key",
]
