"""The terminal's SSH agent: an asyncssh server that admits only user certificates from the
support CA for this terminal, inside their validity, runs exec requests as JSON-line commands
(:mod:`remote.agent_session`), audits everything, and ends each connection at its
certificate's ``valid_before``.

    async with Agent(config, backend) as agent:
        manifest["agent"] = agent.address

Deny by default: no passwords, no keyboard-interactive, no plain keys, no shell, pty,
forwarding or subsystems. asyncssh refuses expired and not-yet-valid certificates before any
``SSHServer`` hook sees them, so the agent judges every offered key itself first (the same
rules, plus login name == principal and a non-empty principal list) to audit the exact reason.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncssh
from asyncssh.public_key import SSHKey
from pydantic import Field, field_validator

from remote import ssh_internals
from remote.agent_session import Sessions
from remote.audit import AuditLog
from remote.backend import Backend
from remote.certs import CertInfo, Judgement, fingerprint, judge, read_public_key
from remote.unauthenticated import REFUSED_METHODS, early_close
from workbench import sla
from workbench.config import Strict
from workbench.errors import ConfigError, RemoteError, TransportError
from workbench.ids import check_terminal_id

log = logging.getLogger(__name__)


class AgentConfig(Strict):
    """``workbench agent --config FILE``: who this terminal is and whom it trusts."""

    terminal: str
    user_ca: Path
    """The support user CA's public key (``CA/user_ca.pub``)."""
    host_key: Path
    host_cert: Path | None = None
    state_dir: Path
    """Audit log (``audit.jsonl``) and session transcripts (``sessions/``) live here."""
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)
    max_window_hours: float = Field(default=sla.REMOTE_WINDOW_HOURS, gt=0, allow_inf_nan=False)
    """Certificates spanning longer than this are refused even if the CA signed them: the
    service plan's 1-hour window unless the terminal's owner sets another here."""
    class_id: str | None = None
    """The class this terminal serves (``workbench class up``): only certificates naming it are
    admitted; without one, no certificate naming a class is."""
    login_timeout: float = Field(default=30.0, gt=0, allow_inf_nan=False)
    fsync: bool = True
    devices: dict[str, dict[str, str]] | None = None
    """A real terminal's devices and their ports, as in an endpoints manifest (``printer:
    {serial: /dev/ttyUSB0}``, ``host_pc: {http: psutil}``...): the agent serves them with the
    built-in backend (:mod:`remote.real_terminal`), no user code."""
    backend: str | None = None
    """Or ``module:callable`` returning the Backend (for ``workbench agent``); called with the
    config."""

    @field_validator("terminal")
    @classmethod
    def _terminal_id(cls, value: str) -> str:
        try:
            return check_terminal_id(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None


class _Connection(asyncssh.SSHServer):
    """Per-connection hooks; everything security-relevant is decided in :func:`judge`."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.conn: asyncssh.SSHServerConnection | None = None
        self.id = secrets.token_hex(4)
        self.peer = "?"
        self.info: CertInfo | None = None
        self.attempts = 0
        self.sessions = Sessions(
            self.id, agent.config.terminal, agent.backend, agent.audit, agent.sessions_dir
        )
        self.timer: asyncio.TimerHandle | None = None
        self.closed_window = False
        self.username: str | None = None
        """The login name of the latest auth request (asyncssh's ``begin_auth``)."""
        self.told = False
        """Whether this connection's client was told why its certificate is refused."""

    # -- auth ----------------------------------------------------------------------------
    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.agent._connections.add(self)
        # asyncssh gives hooks the CA key, not the certificate: wrap the connection's own key
        # check (a public method) to judge the whole offered blob, and watch its userauth step
        # to see refused methods (asyncssh answers those without calling any hook).
        original_validate = conn.validate_public_key

        async def validate_public_key(
            username: str, key_data: bytes, msg: bytes, signature: bytes
        ) -> bool:
            return await self._validate(original_validate, username, key_data, msg, signature)

        conn.validate_public_key = validate_public_key  # type: ignore[method-assign]
        ssh_internals.watch_userauth(conn, self._on_userauth)
        ssh_internals.watch_undecodable_exec(conn, self._undecodable)

    async def _on_userauth(self, username: str, method: bytes) -> None:
        if method in REFUSED_METHODS:
            await self._refuse(username, REFUSED_METHODS[method], method=method.decode())

    def _undecodable(self, command: bytes) -> None:
        """Audit an exec request asyncssh refuses because it is not UTF-8."""
        engineer = self.info.key_id if self.info is not None else None
        self.agent.audit.append(
            "command_refused",
            conn=self.id,
            engineer=engineer,
            command=command.decode("utf-8", errors="backslashreplace"),
            reason="command is not UTF-8",
        )

    def begin_auth(self, username: str) -> bool:
        assert self.conn is not None
        self.username = username
        self.conn.set_authorized_keys(
            self.agent._authorized if username == self.agent.config.terminal else None
        )
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    async def _validate(
        self,
        original: Callable[..., Awaitable[bool]],
        username: str,
        key_data: bytes,
        msg: bytes,
        sig: bytes,
    ) -> bool:
        cfg = self.agent.config
        j = judge(
            username,
            key_data,
            cfg.terminal,
            self.agent.user_ca,
            time.time(),
            cfg.max_window_hours * 3600,
            cfg.class_id,
        )
        if not j.ok:
            await self._refuse(username, j.reason, info=j.info, key=j.key)
            self._tell(j)
            return False
        ok = await original(username, key_data, msg, sig)
        if not ok:
            await self._refuse(
                username,
                "certificate refused by the SSH layer (signature or key check)",
                info=j.info,
            )
        elif msg and j.info is not None:
            await self._accept(j.info)
        return ok

    def _tell(self, j: Judgement) -> None:
        """Say why a certificate our user CA signed is refused, in an SSH auth banner (OpenSSH
        prints it before "Permission denied"): its holder learns only what it says itself.
        Anything else (a plain key, another CA's certificate) is told nothing."""
        info = j.info
        if self.told or self.conn is None or info is None or info.signing_key != self.agent.user_ca:
            return
        self.told = True
        self.conn.send_auth_banner(
            f"{self.agent.config.terminal}: certificate {info.key_id!r} (serial {info.serial}) "
            f"refused: {j.reason}\n"
        )

    async def _refuse(
        self,
        username: str,
        reason: str,
        *,
        info: CertInfo | None = None,
        key: SSHKey | None = None,
        method: str = "publickey",
    ) -> None:
        self.attempts += 1
        fields: dict[str, Any] = {
            "conn": self.id,
            "peer": self.peer,
            "user": username,
            "method": method,
        }
        if info is not None:
            fields.update(key_id=info.key_id, serial=info.serial, principals=list(info.principals))
        if key is not None:
            fields["key"] = fingerprint(key)
        await self.agent.audit.commit("auth_refused", reason=reason, **fields)
        log.info(
            "%s: refused %s from %s: %s", self.agent.config.terminal, username, self.peer, reason
        )

    async def _accept(self, info: CertInfo) -> None:
        """Audit the login before asyncssh sends USERAUTH_SUCCESS (the signature is checked)."""
        self.info = info
        await self.agent.audit.commit(
            "auth_accepted",
            conn=self.id,
            peer=self.peer,
            user=self.agent.config.terminal,
            engineer=info.key_id,
            serial=info.serial,
            allow=list(info.allow),
            ticket=info.ticket,
            valid_before=info.valid_before,
        )

    def auth_completed(self) -> None:
        assert self.info is not None
        info = self.info
        delay = max(0.0, info.valid_before - time.time())
        self.timer = asyncio.get_running_loop().call_later(delay, self.close_window)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.agent._connections.discard(self)
        if self.info is not None:
            self.agent.audit.append(
                "disconnect",
                conn=self.id,
                engineer=self.info.key_id,
                reason="window closed" if self.closed_window else str(exc or "client closed"),
            )
        elif self.attempts == 0 and self.username:
            self.agent.audit.append(
                "auth_refused",
                conn=self.id,
                peer=self.peer,
                method="none",
                user=self.username,
                reason="no certificate offered",
            )
        elif self.attempts == 0:  # a port check, a bad handshake, a client that gave up early
            assert self.conn is not None
            client = self.conn.get_extra_info("client_version")
            event, reason = early_close(client, exc)
            fields = {"client": client} if client else {}
            self.agent.audit.append(event, conn=self.id, peer=self.peer, reason=reason, **fields)

    # -- window --------------------------------------------------------------------------
    def close_window(self) -> None:
        """``valid_before`` reached: tell every running session, audit, then drop the connection."""
        assert self.conn is not None and self.info is not None
        self.closed_window = True
        line = {
            "event": "window_closed",
            "terminal": self.agent.config.terminal,
            "valid_before": self.info.valid_before,
            "message": "the remote window has closed",
        }
        cut = self.sessions.cut_off(line)
        self.agent.audit.append(
            "window_closed",
            conn=self.id,
            engineer=self.info.key_id,
            valid_before=self.info.valid_before,
            sessions=cut,
        )
        self.conn.close()

    # -- sessions ------------------------------------------------------------------------
    async def run(self, process: asyncssh.SSHServerProcess[str]) -> None:
        """An exec request on this authenticated connection (:mod:`remote.agent_session`)."""
        assert self.info is not None
        await self.sessions.run(process, self.info)


class Agent:
    """The SSH agent of one terminal; an async context manager (``start`` / ``close``)."""

    def __init__(self, config: AgentConfig, backend: Backend) -> None:
        self.config = config
        self.backend = backend
        self.user_ca = read_public_key(config.user_ca)
        self._authorized = asyncssh.import_authorized_keys(
            f'cert-authority,principals="{config.terminal}" {self.user_ca.export_public_key().decode().strip()}\n'
        )
        self.sessions_dir = Path(config.state_dir) / "sessions"
        self.audit: AuditLog
        self._server: asyncssh.SSHAcceptor | None = None
        self._connections: set[_Connection] = set()

    @property
    def port(self) -> int:
        """The TCP port the agent listens on (useful with ``port: 0``)."""
        if self._server is None:
            raise RemoteError("agent not started")
        return int(self._server.get_port())

    @property
    def address(self) -> str:
        """``host:port`` as written to ``endpoints.json``."""
        return f"{self.config.host}:{self.port}"

    async def start(self) -> None:
        """Load the host identity, open the audit log and listen."""
        cfg = self.config
        ssh_internals.check()  # an asyncssh upgrade that moved its internals fails here, by name
        self.sessions_dir.mkdir(parents=True, exist_ok=True)
        try:
            host_key = asyncssh.read_private_key(str(cfg.host_key))
            host_certs = [asyncssh.read_certificate(str(cfg.host_cert))] if cfg.host_cert else []
        except (OSError, asyncssh.KeyImportError) as exc:
            raise RemoteError(f"{cfg.host_key}: cannot load host identity: {exc}") from None
        self.audit = AuditLog(Path(cfg.state_dir) / "audit.jsonl", host_key, fsync=cfg.fsync)

        async def process_factory(process: asyncssh.SSHServerProcess[str]) -> None:
            owner = process.channel.get_connection().get_owner()
            assert isinstance(owner, _Connection)
            await owner.run(process)

        try:
            self._server = await asyncssh.create_server(
                lambda: _Connection(self),
                cfg.host,
                cfg.port,
                server_host_keys=[host_key],
                server_host_certs=host_certs,
                process_factory=process_factory,
                encoding="utf-8",
                password_auth=False,
                kbdint_auth=False,
                public_key_auth=True,
                gss_host=None,
                allow_pty=False,
                agent_forwarding=False,
                x11_forwarding=False,
                allow_scp=False,
                sftp_factory=None,
                login_timeout=cfg.login_timeout,
                keepalive_interval=30,
            )
        except OSError as exc:
            self.audit.close()
            raise TransportError(
                f"{cfg.host}:{cfg.port}: agent cannot listen: {exc.strerror}"
            ) from None
        self.audit.append(
            "agent_started",
            terminal=cfg.terminal,
            address=self.address,
            user_ca=fingerprint(self.user_ca),
        )
        log.info("agent for %s listening on %s", cfg.terminal, self.address)

    async def close(self) -> None:
        """Stop listening, close every connection, close the audit log."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            for conn in list(self._connections):
                if conn.conn is not None:
                    conn.conn.close()
                    await conn.conn.wait_closed()
            await self.audit.drain()
            self.audit.append("agent_stopped", terminal=self.config.terminal)
            self.audit.close()
            self._server = None

    async def __aenter__(self) -> Agent:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
