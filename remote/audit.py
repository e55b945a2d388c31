"""The agent's append-only audit log: one JSON object per line, each carrying the SHA-256 of the
line before it, written and fsync'ed before the agent replies.

A line is ``{"seq": n, "time": t, "prev": <hash of line n-1>, "event": ..., ..., "hash": h}``
where ``h`` is the SHA-256 of the line's canonical JSON without ``hash``. Changing, removing or
reordering a line breaks the chain at that line; :func:`verify` names the first broken one.
A line torn by a crash (no newline at the end of the file) is cut off when the log is reopened
and recorded in an ``audit_recovered`` line, so the chain stays whole and the loss is visible.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import RemoteError

log = logging.getLogger(__name__)

GENESIS = "0" * 64


def _canonical(record: dict[str, Any]) -> str:
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def _digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(record).encode()).hexdigest()


class AuditLog:
    """An open audit log; :meth:`append` and :meth:`commit` return only once the line is on disk.

    :meth:`commit` is the asyncio form: lines are written in order at once, and concurrent
    callers share one ``fdatasync`` run in a worker thread (group commit), so 200 sessions do
    not queue 200 disk flushes behind each other on the event loop.
    """

    def __init__(self, path: str | Path, *, fsync: bool = True) -> None:
        self.path = Path(path)
        self._fsync = fsync
        self._lock = threading.Lock()
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        """Called with each record once it is on disk (the TUI and tests watch the log this way)."""
        self._written = 0
        self._synced = 0
        self._inflight: tuple[asyncio.Future[None], int] | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            raise RemoteError(f"{self.path}: cannot open audit log: {exc.strerror}") from None
        self._seq, self._prev, torn = self._resume()
        if torn:
            self.append(
                "audit_recovered",
                torn_bytes=len(torn),
                torn_sha256=hashlib.sha256(torn).hexdigest(),
            )

    def _resume(self) -> tuple[int, str, bytes]:
        """Find the last complete line; cut a torn tail (returned so it can be recorded)."""
        size = os.fstat(self._fd).st_size
        if size == 0:
            return 0, GENESIS, b""
        with open(self.path, "rb") as f:
            data = f.read()
        torn = b""
        if not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            torn = data[cut:]
            os.ftruncate(self._fd, cut)
            data = data[:cut]
            log.warning("%s: cut a torn last line of %d bytes", self.path, len(torn))
        lines = data.splitlines()
        if not lines:
            return 0, GENESIS, torn
        try:
            last = json.loads(lines[-1])
            return int(last["seq"]), str(last["hash"]), torn
        except (ValueError, KeyError, TypeError):
            raise RemoteError(
                f"{self.path}:{len(lines)}: last audit line is not valid; run audit verify"
            ) from None

    def _write(self, event: str, fields: dict[str, Any]) -> tuple[dict[str, Any], int]:
        with self._lock:
            record: dict[str, Any] = {
                "seq": self._seq + 1,
                "time": time.time(),
                "prev": self._prev,
                "event": event,
            }
            record.update(fields)
            record = json.loads(_canonical(record))  # exactly what verify will re-read
            record["hash"] = _digest(record)
            os.write(self._fd, (_canonical(record) + "\n").encode())
            self._seq += 1
            self._prev = record["hash"]
            self._written += 1
            return record, self._written

    def _notify(self, record: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(record)

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        """Append one event (hash-chained) and flush it to disk before returning (blocking)."""
        record, n = self._write(event, fields)
        if self._fsync:
            os.fdatasync(self._fd)
        self._synced = max(self._synced, n)
        self._notify(record)
        return record

    async def commit(self, event: str, **fields: Any) -> dict[str, Any]:
        """Append one event and wait until it is on disk, sharing flushes with concurrent callers."""
        record, n = self._write(event, fields)
        if self._fsync:
            loop = asyncio.get_running_loop()
            while self._synced < n:
                inflight = self._inflight
                if inflight is None or inflight[0].done():
                    inflight = self._inflight = (
                        loop.run_in_executor(None, os.fdatasync, self._fd),
                        self._written,
                    )
                await asyncio.shield(inflight[0])
                self._synced = max(self._synced, inflight[1])
        else:
            self._synced = n
        self._notify(record)
        return record

    async def drain(self) -> None:
        """Wait for a flush in flight (before closing)."""
        if self._inflight is not None and not self._inflight[0].done():
            await asyncio.shield(self._inflight[0])

    def close(self) -> None:
        """Close the file (every appended line is already on disk)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


@dataclass(frozen=True, slots=True)
class Verdict:
    """The result of checking a chain: ``ok`` or the first broken line and why."""

    ok: bool
    lines: int
    broken_line: int | None = None
    reason: str = ""
    torn_tail: bool = False


def verify(path: str | Path) -> Verdict:
    """Check every line's hash and link; report the first broken line (1-based)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise RemoteError(f"{p}: cannot read audit log: {exc.strerror}") from None
    torn = bool(data) and not data.endswith(b"\n")
    lines = data.splitlines()
    if torn:
        lines = lines[:-1]  # a crash mid-write; the next open of the log records the cut
    prev, seq = GENESIS, 0
    for n, raw in enumerate(lines, start=1):
        try:
            record = json.loads(raw)
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            return Verdict(False, n - 1, n, f"not a JSON object ({exc})", torn)
        claimed = record.pop("hash", None)
        if record.get("prev") != prev:
            return Verdict(
                False, n - 1, n, "does not link to the line before (prev hash differs)", torn
            )
        if record.get("seq") != seq + 1:
            return Verdict(
                False, n - 1, n, f"sequence {record.get('seq')} where {seq + 1} was due", torn
            )
        if claimed != _digest(record):
            return Verdict(False, n - 1, n, "content does not match its hash (line altered)", torn)
        prev, seq = str(claimed), seq + 1
    return Verdict(True, len(lines), None, "", torn)


def read(path: str | Path) -> list[dict[str, Any]]:
    """All complete records of a log, in order (for tests, the TUI and reports)."""
    out = []
    for raw in Path(path).read_bytes().splitlines(keepends=True):
        if raw.endswith(b"\n"):
            out.append(json.loads(raw))
    return out
