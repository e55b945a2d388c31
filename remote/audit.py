"""The agent's append-only audit log: one JSON object per line, each carrying the SHA-256 of the
line before it and a seal (a signature of its own hash by the terminal's host key), written and
fsync'ed before the agent replies.

A line is ``{"seq": n, "time": t, "prev": <hash of line n-1>, "event": ..., ..., "hash": h,
"seal": s}``: ``h`` is the SHA-256 of the line's canonical JSON without ``hash`` and ``seal``, and
``s`` the host key's signature of ``h`` (base64). Whoever can write the file but does not hold the
host key can neither alter a line and re-hash the rest (the seals stop verifying) nor make up new
lines. The first line an agent writes names the sealing key (``sealer``); :func:`verify` checks
against a key given by the caller when there is one (the host key an engineer's client saw,
kept in its records store), else against the one the log names, and says which.

Only the canonical form verifies: keys sorted, each once, no spaces, exactly what the agent
wrote, so that ``grep`` and the parser can never read two different values from one line.
Truncation (the last lines cut, or the file emptied) leaves a valid shorter chain, so the agent
hands each engineer's client the seal of the ``result`` line that closes its command
(:class:`Seal`); given that, :func:`verify` refuses a log that no longer reaches it.

A line torn by a crash, or garbage at the end, is kept (the log is append-only) and marked when
the log is reopened: an ``audit_recovered`` line names the first torn line, how many there are
and their SHA-256, and links to the last good line, so the agent starts and the loss is visible.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncssh
from asyncssh.public_key import SSHKey

from workbench.errors import RemoteError

log = logging.getLogger(__name__)

GENESIS = "0" * 64
_UNHASHED = ("hash", "seal")


def _canonical(record: dict[str, Any]) -> str:
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def _digest(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k not in _UNHASHED}
    return hashlib.sha256(_canonical(body).encode()).hexdigest()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"key {twice!r} appears twice")
    return out


def parse_line(raw: bytes) -> dict[str, Any]:
    """One line (without its newline) as the agent wrote it, or ValueError saying why not."""
    try:
        record = json.loads(raw, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    if _canonical(record).encode() != raw:
        raise ValueError("not in canonical form (sorted keys, no spaces, as the agent wrote it)")
    return record


def sign(key: SSHKey, digest: str) -> str:
    """The seal of a line: the host key's signature of its hash, base64."""
    return base64.b64encode(key.sign(digest.encode(), key.sig_algorithms[0])).decode()


def seal_ok(key: SSHKey, digest: str, seal: object) -> bool:
    """Whether ``seal`` is ``key``'s signature of ``digest``."""
    if not isinstance(seal, str):
        return False
    try:
        return bool(key.verify(digest.encode(), base64.b64decode(seal, validate=True)))
    except (ValueError, asyncssh.Error):
        return False


@dataclass(frozen=True, slots=True)
class Seal:
    """The seal of one line, as an agent hands it to the engineer's client after a command."""

    seq: int
    hash: str
    seal: str

    def as_line(self) -> dict[str, Any]:
        """The JSON line the agent sends (``event: seal``)."""
        return {"event": "seal", "seq": self.seq, "hash": self.hash, "seal": self.seal}


class AuditLog:
    """An open audit log; :meth:`append` and :meth:`commit` return only once the line is on disk.

    :meth:`commit` is the asyncio form: lines are written in order at once, and concurrent
    callers share one ``fdatasync`` run in a worker thread (group commit), so 200 sessions do
    not queue 200 disk flushes behind each other on the event loop.
    """

    def __init__(self, path: str | Path, sealer: SSHKey, *, fsync: bool = True) -> None:
        self.path = Path(path)
        self.sealer = sealer
        self._public = sealer.convert_to_public()
        self._fsync = fsync
        self._lock = threading.Lock()
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        """Called with each record once it is on disk (the TUI and tests watch the log this way)."""
        self._written = 0
        self._synced = 0
        self._inflight: tuple[asyncio.Future[None], int] | None = None
        self._named = False
        self.last: Seal | None = None
        """The seal of the newest line."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            raise RemoteError(f"{self.path}: cannot open audit log: {exc.strerror}") from None
        self._seq, self._prev, torn_from, torn = self._resume()
        if torn:
            self.append(
                "audit_recovered",
                torn_from=torn_from,
                torn_lines=torn.count(b"\n"),
                torn_bytes=len(torn),
                torn_sha256=hashlib.sha256(torn).hexdigest(),
            )

    @property
    def sealer_line(self) -> str:
        """The sealing public key in OpenSSH one-line form (what ``sealer`` fields carry)."""
        return bytes(self._public.export_public_key()).decode().strip()

    def _resume(self) -> tuple[int, str, int, bytes]:
        """The last line sealed by this key, and the bytes after it (a torn or garbage tail)."""
        with open(self.path, "rb") as f:
            data = f.read()
        if data and not data.endswith(b"\n"):
            os.write(self._fd, b"\n")  # end the torn line: it is kept, and marked below
            data += b"\n"
        lines = data.splitlines(keepends=True)
        for i in range(len(lines) - 1, -1, -1):
            try:
                record = parse_line(lines[i][:-1])
                digest = str(record["hash"])
                if digest == _digest(record) and seal_ok(self._public, digest, record.get("seal")):
                    tail = b"".join(lines[i + 1 :])
                    if tail:
                        log.warning("%s: %d torn bytes after line %d", self.path, len(tail), i + 1)
                    return int(record["seq"]), digest, i + 2, tail
            except (ValueError, KeyError, TypeError):
                continue
        if data:
            log.warning("%s: no line sealed by this host key; all of it is marked torn", self.path)
        return 0, GENESIS, 1, data

    def _write(self, event: str, fields: dict[str, Any]) -> tuple[dict[str, Any], int]:
        with self._lock:
            record: dict[str, Any] = {
                "seq": self._seq + 1,
                "time": time.time(),
                "prev": self._prev,
                "event": event,
            }
            record.update(fields)
            if not self._named:  # the first line of each opening names the sealing key
                record["sealer"] = self.sealer_line
                self._named = True
            record = json.loads(_canonical(record))  # exactly what verify will re-read
            record["hash"] = _digest(record)
            record["seal"] = sign(self.sealer, record["hash"])
            os.write(self._fd, (_canonical(record) + "\n").encode())
            self._seq += 1
            self._prev = record["hash"]
            self.last = Seal(record["seq"], record["hash"], record["seal"])
            self._written += 1
            return record, self._written

    def _notify(self, record: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(record)

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        """Append one event (chained, sealed) and flush it to disk before returning (blocking)."""
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
    """The result of checking a log: ``ok`` or the first broken line and why."""

    ok: bool
    lines: int
    """Lines that verified."""
    broken_line: int | None = None
    reason: str = ""
    torn_tail: bool = False
    """Unmarked torn or garbage lines at the end (the next opening marks them)."""
    torn_lines: int = 0
    """Torn lines marked by an ``audit_recovered`` line."""
    sealer: str = ""
    """Fingerprint of the key the seals were checked against."""
    trusted: bool = False
    """True when that key came from the caller, not from the log itself."""
    terminal: str | None = None


def verify(
    path: str | Path, *, key: SSHKey | str | None = None, seal: Seal | None = None
) -> Verdict:
    """Check every line's form, hash, link and seal; report the first broken line (1-based).

    ``key`` is the host key to trust (an SSHKey or its OpenSSH one-line form; else the one the
    log names); ``seal`` one a client was handed, which the log must still reach unchanged.
    """
    if isinstance(key, str):
        try:
            key = asyncssh.import_public_key(key)
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise RemoteError(f"not a host public key: {exc}") from None
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise RemoteError(f"{p}: cannot read audit log: {exc.strerror}") from None
    lines = data.splitlines()
    parsed: list[dict[str, Any] | str] = []
    for raw in lines:
        try:
            parsed.append(parse_line(raw))
        except ValueError as exc:
            parsed.append(str(exc))
    records = [r for r in parsed if isinstance(r, dict)]
    terminal = next((str(r["terminal"]) for r in records if "terminal" in r), None)
    trusted = key is not None
    if key is None:
        named = next((r["sealer"] for r in records if isinstance(r.get("sealer"), str)), None)
        try:
            key = asyncssh.import_public_key(named) if named else None
        except (asyncssh.KeyImportError, ValueError):
            key = None
        if key is None and lines:
            return Verdict(False, 0, 1, "no line names a valid sealing key", terminal=terminal)
    fp = str(key.get_fingerprint("sha256")) if key is not None else ""

    def verdict(
        ok: bool, good: int, broken: int | None = None, reason: str = "", **kw: Any
    ) -> Verdict:
        return Verdict(
            ok, good, broken, reason, sealer=fp, trusted=trusted, terminal=terminal, **kw
        )

    def fault(record: dict[str, Any] | str, prev: str, seq: int) -> str | None:
        if isinstance(record, str):
            return record
        if record.get("prev") != prev:
            return "does not link to the line before (prev hash differs)"
        if record.get("seq") != seq + 1:
            return f"sequence {record.get('seq')} where {seq + 1} was due"
        if record.get("hash") != _digest(record):
            return "content does not match its hash (line altered)"
        assert key is not None
        if not seal_ok(key, str(record["hash"]), record.get("seal")):
            return "seal does not verify (rewritten without the host key, or another key)"
        if (
            isinstance(record.get("sealer"), str)
            and record["sealer"].split()[:2]
            != (bytes(key.export_public_key()).decode().split()[:2])
        ):
            return "names another sealing key"
        return None

    def marked_run(n: int, prev: str, seq: int) -> int | None:
        """Where the ``audit_recovered`` line that marks lines n.. as torn sits, if one does."""
        for m in range(n + 1, len(parsed)):
            mark = parsed[m]
            if isinstance(mark, dict) and mark.get("event") == "audit_recovered":
                torn = b"".join(raw + b"\n" for raw in lines[n:m])
                fits = (
                    mark.get("torn_from") == n + 1
                    and mark.get("torn_lines") == m - n
                    and mark.get("torn_sha256") == hashlib.sha256(torn).hexdigest()
                )
                return m if fits and fault(mark, prev, seq) is None else None
        return None

    prev, seq, good, marked, n = GENESIS, 0, 0, 0, 0
    hashes: dict[int, str] = {}
    while n < len(parsed):
        record = parsed[n]
        why = fault(record, prev, seq)
        if why is None:
            assert isinstance(record, dict)
            prev, seq, good, n = str(record["hash"]), seq + 1, good + 1, n + 1
            hashes[seq] = prev
        elif (m := marked_run(n, prev, seq)) is not None:
            marked, n = marked + m - n, m
        elif all(isinstance(r, str) for r in parsed[n:]):  # garbage at the end, not yet marked
            return _against(verdict(True, good, torn_tail=True, torn_lines=marked), seal, hashes)
        else:
            return verdict(False, good, n + 1, why, torn_lines=marked)
    return _against(verdict(True, good, torn_lines=marked), seal, hashes)


def _against(v: Verdict, seal: Seal | None, hashes: dict[int, str]) -> Verdict:
    """Refuse a log that no longer holds the line a client saw sealed."""
    if seal is None:
        return v
    last = max(hashes, default=0)
    if seal.seq > last:
        reason = f"truncated: the store saw line {seal.seq} sealed; the chain ends at line {last}"
        return replace(v, ok=False, broken_line=last + 1, reason=reason)
    if hashes[seal.seq] != seal.hash:
        reason = f"line {seal.seq} is not the line the store saw sealed (hash differs)"
        return replace(v, ok=False, broken_line=seal.seq, reason=reason)
    return v


def read(path: str | Path) -> list[dict[str, Any]]:
    """All readable records of a log, in order (for tests, the TUI and reports)."""
    out = []
    for raw in Path(path).read_bytes().splitlines(keepends=True):
        if raw.endswith(b"\n"):
            try:
                record = json.loads(raw)
            except (ValueError, RecursionError):
                continue
            if isinstance(record, dict):
                out.append(record)
    return out
