"""The exec requests one agent connection runs: each command's transcript
(``sessions/ID.jsonl``), its audit lines (the command, its result, and the seal handed back to
the engineer's client), the window's permission check, and the dispatch into the command
language (:mod:`remote.commands`); every running command is cut off when the window closes.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import IO, Any

import asyncssh

from remote import commands
from remote.audit import AuditLog, Seal
from remote.backend import Backend
from remote.certs import CertInfo


class Session:
    """One exec request: its transcript and its handler task (cancelled when the window closes)."""

    def __init__(
        self, sid: str, process: asyncssh.SSHServerProcess[str], transcript: IO[str]
    ) -> None:
        self.id = sid
        self.process = process
        self.transcript = transcript
        self.task = asyncio.current_task()

    async def emit(self, obj: dict[str, Any]) -> None:
        """One JSON line to the client and to the transcript."""
        line = json.dumps(obj, default=str)
        self.transcript.write(line + "\n")
        self.process.stdout.write(line + "\n")
        await self.process.stdout.drain()


class Sessions:
    """The commands running on one authenticated connection (``conn`` in the audit log)."""

    def __init__(
        self, conn: str, terminal: str, backend: Backend, audit: AuditLog, sessions_dir: Path
    ) -> None:
        self.conn = conn
        self.terminal = terminal
        self.backend = backend
        self.audit = audit
        self.sessions_dir = sessions_dir
        self.running: dict[str, Session] = {}
        self.count = 0

    async def run(self, process: asyncssh.SSHServerProcess[str], info: CertInfo) -> None:
        """Run one exec request for the engineer ``info`` names: audit it, stream its lines,
        audit the result, hand its seal over and exit with its status."""
        self.count += 1
        sid = f"{self.conn}-{self.count}"
        text = process.command
        await self.audit.commit(
            "command", conn=self.conn, session=sid, engineer=info.key_id, command=text
        )
        with open(self.sessions_dir / f"{sid}.jsonl", "w", encoding="utf-8") as transcript:
            transcript.write(
                json.dumps(
                    {
                        "session": sid,
                        "engineer": info.key_id,
                        "command": text,
                        "started": time.time(),
                    }
                )
                + "\n"
            )
            session = Session(sid, process, transcript)
            self.running[sid] = session
            outcome = commands.Outcome()
            try:
                outcome = await self._execute(session, text, info)
            except asyncio.CancelledError:
                outcome.exit_status, outcome.error = -1, "cut off: window closed"
                raise
            except (BrokenPipeError, ConnectionError, asyncssh.Error) as exc:
                outcome.exit_status, outcome.error = -1, f"client went away: {exc}"
            finally:
                del self.running[sid]
                result = await self.audit.commit(
                    "result",
                    conn=self.conn,
                    session=sid,
                    engineer=info.key_id,
                    command=text,
                    exit_status=outcome.exit_status,
                    counts=outcome.counts,
                    results=outcome.results,
                    error=outcome.error,
                )
        if outcome.exit_status >= 0:
            # the seal of the result line: the engineer's client keeps it, so a log cut short
            # of it later no longer verifies against the client's records store
            seal = Seal(result["seq"], result["hash"], result["seal"])
            process.stdout.write(json.dumps(seal.as_line()) + "\n")
            process.exit(outcome.exit_status)

    async def _execute(
        self, session: Session, text: str | None, info: CertInfo
    ) -> commands.Outcome:
        if text is None or session.process.subsystem:
            return await _fail(
                session, commands.EXIT_USAGE, "usage", "no shell or subsystem: send a command"
            )
        try:
            cmd = commands.parse(text)
        except commands.UsageError as exc:
            return await _fail(session, commands.EXIT_USAGE, "usage", str(exc))
        if cmd.group is not None and cmd.group not in info.allow:
            return await _fail(
                session,
                commands.EXIT_REFUSED,
                "refused",
                f"{cmd.name!r} needs the {cmd.group!r} permission; this window allows "
                f"{', '.join(info.allow) or 'nothing'}",
            )
        window = {
            "terminal": self.terminal,
            "engineer": info.key_id,
            "allow": list(info.allow),
            "ticket": info.ticket,
            "valid_before": info.valid_before,
            "seconds_left": info.valid_before - time.time(),
        }
        return await commands.execute(cmd, self.backend, session.emit, window)

    def cut_off(self, line: dict[str, Any]) -> list[str]:
        """The window closed: tell every running command (``line``) and cancel it; returns the
        ids of the sessions cut."""
        for session in list(self.running.values()):
            session.process.stdout.write(json.dumps(line) + "\n")
            session.transcript.write(json.dumps(line) + "\n")
            if session.task is not None:
                session.task.cancel()
        return sorted(self.running)


async def _fail(session: Session, status: int, code: str, message: str) -> commands.Outcome:
    await session.emit({"event": "error", "code": code, "error": message})
    return commands.Outcome(exit_status=status, error=message)
