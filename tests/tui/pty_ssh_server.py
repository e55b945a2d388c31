"""A loopback SSH server for tests that runs each requested command in a real pseudo-terminal, as
sshd does for ``ssh -t``: key authentication only, the client's terminal type as ``TERM`` (and no
``COLORTERM``, which OpenSSH does not forward by default), its window size on the pty and every
window-change applied to it, so the program gets ``SIGWINCH``; the command's exit status is the
session's.

    async with PtySSHServer(tmp) as server:
        ssh -tt -F /dev/null -i {server.client_key} -p {server.port}
            -o UserKnownHostsFile={server.known_hosts} support@127.0.0.1 COMMAND
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import struct
import termios
from pathlib import Path
from typing import Any

import asyncssh

PASSED_ENV = ("PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ")
"""What the command inherits from the server's environment (as sshd passes a login's basics)."""


def _set_size(fd: int, columns: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def _take_controlling_tty() -> None:
    """In the child, after ``setsid``: its stdin (the pty's slave) becomes its controlling tty,
    so the kernel sends it ``SIGWINCH`` when the window size changes."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class _PtySession(asyncssh.SSHServerSession[bytes]):
    """One ``exec`` request: the command on a pty, bytes pumped both ways."""

    def __init__(self) -> None:
        self._chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.term_type: str | None = None
        self._size = (80, 24)
        self._command = ""
        self._master = -1
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._output_done = asyncio.Event()
        self.resizes: list[tuple[int, int]] = []

    def connection_made(self, chan: Any) -> None:
        self._chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], _: Any) -> bool:
        self.term_type = term_type
        self._size = (term_size[0] or 80, term_size[1] or 24)
        return True

    def shell_requested(self) -> bool:
        return False  # a command only

    def exec_requested(self, command: str) -> bool:
        self._command = command
        return True

    def session_started(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        assert self._chan is not None
        master, slave = os.openpty()
        self._master = master
        _set_size(master, *self._size)
        env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        if self.term_type:
            env["TERM"] = self.term_type
        try:
            self._proc = await asyncio.create_subprocess_exec(
                "/bin/sh",
                "-c",
                self._command,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                start_new_session=True,
                preexec_fn=_take_controlling_tty,
            )
        finally:
            os.close(slave)
        loop = asyncio.get_running_loop()
        loop.add_reader(master, self._pump)
        status = await self._proc.wait()
        await self._output_done.wait()  # the pty's last bytes reach the client before the status
        os.close(master)
        self._master = -1
        self._chan.exit(status)

    def _pump(self) -> None:
        assert self._chan is not None
        try:
            data = os.read(self._master, 65536)
        except OSError:  # EIO: every slave descriptor is closed, the command is gone
            data = b""
        if data:
            self._chan.write(data)
        else:
            asyncio.get_running_loop().remove_reader(self._master)
            self._output_done.set()

    def data_received(self, data: bytes, datatype: Any) -> None:
        if self._master >= 0:
            os.write(self._master, data)

    def terminal_size_changed(self, width: int, height: int, pw: int, ph: int) -> None:
        self._size = (width, height)
        self.resizes.append(self._size)
        if self._master >= 0:
            _set_size(self._master, width, height)  # the kernel signals SIGWINCH to the command

    def connection_lost(self, exc: Exception | None) -> None:
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGHUP)


class _Server(asyncssh.SSHServer):
    """Key authentication only (the ``authorized_client_keys`` given to ``listen``)."""

    def __init__(self, sessions: list[_PtySession]) -> None:
        self._sessions = sessions

    def password_auth_supported(self) -> bool:
        return False

    def session_requested(self) -> _PtySession:
        session = _PtySession()
        self._sessions.append(session)
        return session


class PtySSHServer:
    """An asyncssh server on 127.0.0.1 (port 0) admitting one client key; each session runs its
    command in a pty. Keys and the client's ``known_hosts`` line are written under ``base``."""

    def __init__(self, base: Path) -> None:
        self.base = Path(base)
        self.client_key = self.base / "client_key"
        self.known_hosts = self.base / "known_hosts"
        self.sessions: list[_PtySession] = []
        self.port = 0
        self._server: asyncssh.SSHAcceptor | None = None

    async def __aenter__(self) -> PtySSHServer:
        self.base.mkdir(parents=True, exist_ok=True)
        host_key = asyncssh.generate_private_key("ssh-ed25519")
        client_key = asyncssh.generate_private_key("ssh-ed25519")
        client_key.write_private_key(self.client_key)
        self.client_key.chmod(0o600)
        authorized = asyncssh.import_authorized_keys(
            client_key.export_public_key("openssh").decode()
        )
        self._server = await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[host_key],
            authorized_client_keys=authorized,
            server_factory=lambda: _Server(self.sessions),
            encoding=None,
            line_editor=False,
            allow_scp=False,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        public = host_key.export_public_key("openssh").decode().strip()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {public}\n")
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def ssh_command(self, command: str, user: str = "support") -> list[str]:
        """Plain OpenSSH with a forced pty (``-tt``), this server's key and host key only."""
        return [
            "ssh",
            "-tt",
            "-F",
            "/dev/null",
            "-i",
            str(self.client_key),
            "-p",
            str(self.port),
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            f"{user}@127.0.0.1",
            command,
        ]
