"""Every use of asyncssh's private API, in one module, each where asyncssh has no public hook:

- a session channel's exec request (``SSHServerChannel._process_exec_request``, found by name
  when the request arrives): asyncssh refuses a command that is not UTF-8 without calling any
  hook, and the audit log must still record it;
- the server's user-auth step (``SSHServerConnection._finish_userauth``, with the login name in
  ``_username``): asyncssh answers a password or keyboard-interactive request that is not
  supported without calling any ``SSHServer`` hook, and the audit log must name the attempt;
- an OpenSSH certificate's serial, key id, type and validity (``SSHOpenSSHCertificate`` keeps
  them in private attributes);
- the v01 certificate codec's extension tables (``_user_extension_encoders``/``_decoders``):
  asyncssh drops extensions it does not know, and the window's permissions travel in one;
- the key-type to certificate-algorithm map (``_certificate_version_map``), to sign a
  certificate that carries those extensions.

Everything else (key checks, ``begin_auth`` for the login name, ``auth_completed``) uses public
hooks. :func:`check` verifies the private parts against the installed asyncssh; the agent calls
it before it listens and ``tests/remote/test_ssh_internals.py`` calls it in the suite, so an
asyncssh upgrade that changes them fails with the name of what changed.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import asyncssh
from asyncssh import public_key
from asyncssh.channel import SSHServerChannel
from asyncssh.connection import SSHServerConnection
from asyncssh.packet import SSHPacket
from asyncssh.public_key import SSHKey, SSHOpenSSHCertificate, SSHOpenSSHCertificateV01

from workbench.errors import RemoteError

TESTED_WITH = "2.24"
"""The asyncssh release these were last checked against (``pyproject.toml`` pins ``<3``)."""

AuthListener = Callable[[str, bytes], Awaitable[None]]
"""Called with ``(login name, method)`` before asyncssh handles each user-auth request."""


def watch_userauth(conn: asyncssh.SSHServerConnection, listener: AuthListener) -> None:
    """Call ``listener`` for every user-auth request on ``conn``, refused methods included."""
    original = conn._finish_userauth

    async def finish_userauth(begin_auth: bool, method: bytes, packet: SSHPacket) -> None:
        await listener(str(getattr(conn, "_username", "?")), method)
        await original(begin_auth, method, packet)

    conn._finish_userauth = finish_userauth  # type: ignore[method-assign]


def watch_undecodable_exec(
    conn: asyncssh.SSHServerConnection, listener: Callable[[bytes], None]
) -> None:
    """Call ``listener`` with the raw command of every exec request on ``conn`` that is not
    UTF-8 (asyncssh then refuses it as before)."""
    original_channel = conn.create_server_channel

    def create_server_channel(*args: Any, **kwargs: Any) -> Any:
        channel = original_channel(*args, **kwargs)
        original_exec = channel._process_exec_request

        def exec_request(packet: SSHPacket) -> bool:
            payload = packet.get_remaining_payload()
            command = SSHPacket(payload).get_string()
            try:
                command.decode("utf-8")
            except UnicodeDecodeError:
                listener(command)
            return bool(original_exec(SSHPacket(payload)))

        channel._process_exec_request = exec_request  # type: ignore[method-assign]
        return channel

    conn.create_server_channel = create_server_channel  # type: ignore[method-assign]


@dataclass(frozen=True, slots=True)
class CertFields:
    """What asyncssh decodes from an OpenSSH certificate but keeps private."""

    cert_type: int
    key_id: str
    serial: int
    valid_after: int
    valid_before: int


def cert_fields(cert: SSHOpenSSHCertificate) -> CertFields:
    """The private fields of a decoded certificate."""
    return CertFields(
        cert._cert_type, cert._key_id, cert._serial, cert._valid_after, cert._valid_before
    )


Encoder = Callable[[object], bytes]
Decoder = Callable[[SSHPacket], Any]


def certificate_codec(
    name: str, extensions: Sequence[tuple[str, Encoder, Decoder]]
) -> type[SSHOpenSSHCertificateV01]:
    """asyncssh's v01 certificate codec plus user-certificate extensions it does not know.

    Encoders run in order and ours come last, which keeps extensions in lexical order as OpenSSH
    writes them (ours sort after asyncssh's)."""
    base = SSHOpenSSHCertificateV01
    attrs = {
        "_user_extension_encoders": (
            *base._user_extension_encoders,
            *((ext, enc) for ext, enc, _ in extensions),
        ),
        "_user_extension_decoders": {
            **base._user_extension_decoders,
            **{ext.encode(): dec for ext, _, dec in extensions},
        },
        "__doc__": f"asyncssh's v01 certificate codec plus {', '.join(e[0] for e in extensions)}.",
    }
    return type(name, (base,), attrs)


def certificate_algorithm(key: SSHKey) -> bytes | None:
    """The v01 certificate algorithm for a key type, or None when asyncssh cannot certify it."""
    entry = public_key._certificate_version_map.get((key.algorithm, 1))
    return bytes(entry[0]) if entry else None


@cache
def check() -> None:
    """Raise :class:`RemoteError` naming each private part the installed asyncssh changed."""
    problems = []
    finish = getattr(SSHServerConnection, "_finish_userauth", None)
    if finish is None or not inspect.iscoroutinefunction(finish):
        problems.append("SSHServerConnection._finish_userauth is gone or no longer a coroutine")
    elif list(inspect.signature(finish).parameters) != ["self", "begin_auth", "method", "packet"]:
        problems.append(
            f"SSHServerConnection._finish_userauth{inspect.signature(finish)} changed its arguments"
        )
    exec_request = getattr(SSHServerChannel, "_process_exec_request", None)
    if exec_request is None or list(inspect.signature(exec_request).parameters) != [
        "self",
        "packet",
    ]:
        problems.append("SSHServerChannel._process_exec_request is gone or changed its arguments")
    key = asyncssh.generate_private_key("ssh-ed25519")
    try:
        cert = key.generate_user_certificate(key, "probe", serial=7, valid_after=1, valid_before=2)
        if cert_fields(cert) != CertFields(1, "probe", 7, 1, 2):
            problems.append(f"certificate fields now decode as {cert_fields(cert)}")
    except (AttributeError, asyncssh.KeyGenerationError) as exc:
        problems.append(f"certificate fields: {type(exc).__name__}: {exc}")
    encoders = getattr(SSHOpenSSHCertificateV01, "_user_extension_encoders", None)
    decoders = getattr(SSHOpenSSHCertificateV01, "_user_extension_decoders", None)
    if not isinstance(encoders, tuple) or not isinstance(decoders, dict):
        problems.append("SSHOpenSSHCertificateV01 extension tables changed shape")
    if not isinstance(getattr(public_key, "_certificate_version_map", None), dict):
        problems.append("asyncssh.public_key._certificate_version_map is gone")
    elif certificate_algorithm(key) != b"ssh-ed25519-cert-v01@openssh.com":
        problems.append("_certificate_version_map no longer maps ssh-ed25519 to its certificate")
    if problems:
        raise RemoteError(
            f"asyncssh {asyncssh.__version__} (checked with {TESTED_WITH}) changed private API "
            f"the agent relies on: {'; '.join(problems)} (see remote/ssh_internals.py)"
        )
