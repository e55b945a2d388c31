"""OpenSSH certificates as the remote window sees them: our extensions (which asyncssh
would drop), decoding an offered certificate blob, and the rules a user certificate must meet to
log in to a terminal.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import asyncssh
from asyncssh.packet import SSHPacket, String
from asyncssh.public_key import (
    CERT_TYPE_USER,
    SSHKey,
    SSHOpenSSHCertificate,
    decode_ssh_certificate,
    decode_ssh_public_key,
)

from remote.ssh_internals import cert_fields, certificate_codec
from workbench.errors import AuthError, ConfigError

ALLOW_EXTENSION = "workbench-allow@kiosk-workbench"
"""Certificate extension naming the command groups a grant allows, e.g. ``diag,remedy``."""
TICKET_EXTENSION = "workbench-ticket@kiosk-workbench"
"""Certificate extension carrying the ticket reference the window was opened for."""
CLASS_EXTENSION = "workbench-class@kiosk-workbench"
"""Certificate extension naming the class a trainee's window was signed for: a class's agents
admit only certificates naming their class, and no other agent admits one that names a class
(kiosk ids and trainee keys repeat from class to class; the class id does not)."""
CLASS_ID = re.compile(r"\d{8}-\d{4}-[0-9a-f]{8}")
"""A class id as ``class up`` makes it: UTC minute and 32 random bits, ``20261202-1712-9f3c2a1b``."""


def check_class_id(text: str) -> str:
    """A class id, or a one-line :class:`ConfigError` naming what was given."""
    if not CLASS_ID.fullmatch(text):
        raise ConfigError(
            f"--class(={text!r}): not a class id (like 20261202-1712-9f3c2a1b, the class_id in "
            "STATE/class.json) nor a class's state directory"
        )
    return text


def _encode_string(value: object) -> bytes:
    return String(str(value))


def _decode_string(packet: SSHPacket) -> str:
    return packet.get_string().decode("utf-8", errors="replace")


_WorkbenchCertV01 = certificate_codec(
    "_WorkbenchCertV01",
    [
        (ALLOW_EXTENSION, _encode_string, _decode_string),
        (CLASS_EXTENSION, _encode_string, _decode_string),
        (TICKET_EXTENSION, _encode_string, _decode_string),
    ],
)
"""asyncssh's v01 certificate codec plus our extensions (asyncssh drops unknown ones)."""


@dataclass(frozen=True, slots=True)
class CertInfo:
    """What a certificate says, decoded and signature-checked (validity is not judged here)."""

    kind: str  # "user" or "host"
    key_id: str
    serial: int
    principals: tuple[str, ...]
    valid_after: int
    valid_before: int
    allow: tuple[str, ...]
    ticket: str | None
    extensions: tuple[str, ...]
    critical_options: tuple[str, ...]
    signing_key: SSHKey
    key: SSHKey
    class_id: str | None = None
    """The class a trainee's certificate was signed for (``workbench-class@kiosk-workbench``)."""
    principal_set: frozenset[str] = field(init=False, repr=False, compare=False)
    """The principals as a set: a fleet grant names thousands, checked once per terminal."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "principal_set", frozenset(self.principals))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able view for audit lines and ``remote inspect``."""
        return {
            "kind": self.kind,
            "key_id": self.key_id,
            "serial": self.serial,
            "principals": list(self.principals),
            "valid_after": self.valid_after,
            "valid_before": self.valid_before,
            "allow": list(self.allow),
            "ticket": self.ticket,
            "class": self.class_id,
            "extensions": list(self.extensions),
            "critical_options": list(self.critical_options),
            "ca": fingerprint(self.signing_key),
        }


def fingerprint(key: SSHKey) -> str:
    """The SHA256 fingerprint OpenSSH prints for a key."""
    return str(key.get_fingerprint("sha256"))


@lru_cache(maxsize=1024)
def inspect_certificate(blob: bytes) -> CertInfo:
    """Decode an OpenSSH certificate's wire blob (as offered in SSH auth) and check its signature.

    Raises :class:`AuthError` when the blob is not a valid, correctly signed OpenSSH certificate.
    Cached by the exact bytes: a client offers the same certificate twice per login (a query,
    then signed) and an engineer reuses it for every session of the window; what depends on the
    clock (validity) is judged afresh each time by :func:`judge`.
    """
    try:
        plain = decode_ssh_certificate(blob)
        if not isinstance(plain, SSHOpenSSHCertificate):
            raise AuthError("X.509 certificates are not accepted")
        packet = SSHPacket(blob)
        alg = packet.get_string()
        cert = _WorkbenchCertV01.construct(packet, alg, type(plain.key), None)
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise AuthError(f"not a valid OpenSSH certificate: {exc}") from None
    fields = cert_fields(cert)
    options = dict(cert.options)
    allow = str(options.get(ALLOW_EXTENSION, ""))
    ticket = options.get(TICKET_EXTENSION)
    class_id = options.get(CLASS_EXTENSION)
    critical = ("force-command", "source-address")
    return CertInfo(
        kind="user" if fields.cert_type == CERT_TYPE_USER else "host",
        key_id=fields.key_id,
        serial=fields.serial,
        principals=tuple(cert.principals),
        valid_after=fields.valid_after,
        valid_before=fields.valid_before,
        allow=tuple(g for g in allow.split(",") if g),
        ticket=str(ticket) if ticket is not None else None,
        extensions=tuple(sorted(k for k in options if k not in critical)),
        critical_options=tuple(sorted(k for k in options if k in critical)),
        signing_key=cert.signing_key,
        key=cert.key,
        class_id=str(class_id) if class_id is not None else None,
    )


def read_certificate_info(path: str | Path) -> CertInfo:
    """Read an OpenSSH certificate file (``...-cert.pub``) and decode it with our extensions."""
    p = Path(path)
    try:
        cert = asyncssh.read_certificate(str(p))
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file") from None
    except (OSError, asyncssh.KeyImportError, ValueError) as exc:
        raise ConfigError(f"{p}: not an OpenSSH certificate: {exc}") from None
    return inspect_certificate(cert.public_data)


def read_public_key(path: str | Path) -> SSHKey:
    """Read an OpenSSH public key file, naming the file in the error. A private key file is
    refused (asyncssh would derive its public key, and its file name would become the comment
    and so a grant's key id): only its first line is read, to see that it is one."""
    p = Path(path)
    try:
        if _is_private_key(p):
            raise ConfigError(
                f"{p} is a private key (it stays with its owner); give its public key, {p}.pub"
            )
        return asyncssh.read_public_key(str(p))
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file") from None
    except (OSError, asyncssh.KeyImportError, ValueError) as exc:
        raise ConfigError(f"{p}: not an OpenSSH public key: {exc}") from None


def _is_private_key(path: Path) -> bool:
    """Whether the file's first line opens a private key (OpenSSH, PEM or PuTTY); nothing past
    that line is read."""
    with path.open("rb") as f:
        first = f.readline(80)
    return (first.startswith(b"-----BEGIN ") and b"PRIVATE KEY" in first) or first.startswith(
        b"PuTTY-User-Key-File-"
    )


@dataclass(frozen=True, slots=True)
class Judgement:
    """Whether an offered key may log in, and why not."""

    ok: bool
    reason: str
    info: CertInfo | None = None
    key: SSHKey | None = None


def judge(
    username: str,
    key_blob: bytes,
    terminal: str,
    user_ca: SSHKey,
    now: float,
    max_window_s: float,
    class_id: str | None = None,
) -> Judgement:
    """Apply the window's rules to one offered public key or certificate (no signature yet).

    ``class_id``: the class this terminal serves (``None``: none). A certificate is admitted only
    where its class, or its having none, is the terminal's."""
    try:
        info = inspect_certificate(key_blob)
    except AuthError:
        try:
            key = decode_ssh_public_key(key_blob)
        except asyncssh.KeyImportError:
            return Judgement(False, "malformed key or certificate")
        return Judgement(False, "no certificate: a plain public key was offered", key=key)
    if info.kind != "user":
        return Judgement(False, "a host certificate was offered as a user certificate", info)
    if info.signing_key != user_ca:
        return Judgement(
            False, f"certificate from an unknown CA ({fingerprint(info.signing_key)})", info
        )
    if not info.principals:
        return Judgement(False, "certificate names no principals", info)
    if terminal not in info.principals:
        return Judgement(
            False, f"wrong principal: certificate is for {', '.join(info.principals)}", info
        )
    if username != terminal:
        return Judgement(False, f"wrong login name {username!r}: log in as {terminal}", info)
    if info.class_id != class_id:
        return Judgement(False, _class_mismatch(info.class_id, class_id), info)
    if now < info.valid_after:
        return Judgement(
            False, f"not yet valid: window opens at {utc_text(info.valid_after)}", info
        )
    if now >= info.valid_before:
        return Judgement(False, f"expired: window closed at {utc_text(info.valid_before)}", info)
    if info.valid_before - info.valid_after > max_window_s:
        return Judgement(
            False, f"window longer than this terminal allows ({max_window_s / 3600:g} h)", info
        )
    return Judgement(True, "accepted", info)


def _class_mismatch(cert_class: str | None, serving: str | None) -> str:
    issued = f"issued for class {cert_class}" if cert_class else "not issued for a class"
    serves = f"serves class {serving}" if serving else "serves no class"
    return f"{issued}; this terminal {serves}"


def describe(info: CertInfo, now: float | None = None) -> list[tuple[str, str]]:
    """Rows for a human view of a certificate (like ``ssh-keygen -L``, plus our extensions)."""
    now = time.time() if now is None else now
    left = info.valid_before - now
    state = (
        "not yet valid"
        if now < info.valid_after
        else ("expired" if left <= 0 else f"{left / 60:.0f} min left")
    )
    return [
        ("type", f"{info.kind} certificate"),
        ("key id", info.key_id),
        ("serial", str(info.serial)),
        ("principals", ", ".join(info.principals) or "(none)"),
        ("valid", f"{_iso(info.valid_after)} to {_iso(info.valid_before)} ({state})"),
        ("allow", ", ".join(info.allow) or "(nothing)"),
        ("ticket", info.ticket or "-"),
        *((("class", info.class_id),) if info.class_id else ()),
        ("extensions", ", ".join(info.extensions) or "(none)"),
        ("critical options", ", ".join(info.critical_options) or "(none)"),
        ("signed by", fingerprint(info.signing_key)),
    ]


def _iso(t: int) -> str:
    if t >= 2**63:
        return "forever"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def utc_text(t: int) -> str:
    """A certificate time for people: ``2026-12-02 03:31:37 UTC`` (or ``forever``)."""
    if t >= 2**63:
        return "forever"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))
