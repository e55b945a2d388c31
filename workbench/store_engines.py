"""The two database engines under the records store: SQLite in WAL mode for one person's machine,
PostgreSQL (through psycopg 3) for a support organisation sharing one store.

An engine runs the store's SQL, written once with ``?`` placeholders and the type tokens of
:mod:`workbench.store_schema`; it knows its own dialect, where it keeps the schema version, and
how to hold one write transaction. Nothing above this module sees a driver.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from workbench.errors import StoreError

Row = dict[str, Any]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class Tx(Protocol):
    """The handle inside a write transaction."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one statement; return its rows (``RETURNING`` included) as dicts."""
        ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row of parameters (a run's results), returning nothing."""
        ...


class Engine(Protocol):
    """What the records store needs of a database."""

    name: str
    where: str
    """Where the records are, for messages: a file path, or a URL without its password."""

    types: dict[str, str]
    """The dialect's spelling of the schema's type tokens (``{pk}``, ``{real}``...)."""

    def transaction(self) -> AbstractContextManager[Tx]:
        """A write transaction, committed on exit and rolled back on an exception."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """A read outside any write transaction."""
        ...

    def schema_version(self) -> int: ...

    def set_schema_version(self, tx: Tx, version: int) -> None: ...

    def lock_schema(self, tx: Tx) -> None:
        """Serialise migrations between processes that open the store at once."""
        ...

    def close(self) -> None: ...


class _SqliteTx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cur = self._db.execute(sql, params)
        if cur.description is None:
            return []
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)


BUSY_TIMEOUT_S = 30.0


def _wal(db: sqlite3.Connection, timeout: float = BUSY_TIMEOUT_S) -> None:
    """Put the file in WAL mode, waiting out another connection that holds it.

    SQLite does not call the busy handler for this pragma: two processes (or the TUI's two
    threads) opening a new store at once had one of them fail at once with "database is
    locked", whatever the connection's timeout. So the wait is here, with backoff.
    """
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


class SqliteEngine:
    """One SQLite file in WAL mode; a write transaction is ``BEGIN IMMEDIATE``."""

    name = "sqlite"
    types = {"pk": "INTEGER PRIMARY KEY", "real": "REAL", "blob": "BLOB", "bigint": "INTEGER"}

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            _wal(self._db)
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StoreError(f"{path}: cannot open records store: {exc}") from None
        self._tx = _SqliteTx(self._db)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._tx
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._tx.execute(sql, params)

    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def set_schema_version(self, tx: Tx, version: int) -> None:
        tx.execute(f"PRAGMA user_version={int(version)}")

    def lock_schema(self, tx: Tx) -> None:
        """``BEGIN IMMEDIATE`` already holds the file's write lock."""

    def close(self) -> None:
        self._db.close()


class _PostgresTx:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._conn.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), tuple(params))
            if cur.description is None:
                return []
            names = [d.name for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One round trip for all the rows (psycopg pipelines them)."""
        with self._conn.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), [tuple(r) for r in rows])


class PostgresEngine:
    """A PostgreSQL database reached by URL; the schema version lives in ``workbench_schema``."""

    name = "postgresql"
    types = {
        "pk": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        "real": "DOUBLE PRECISION",
        "blob": "BYTEA",
        "bigint": "BIGINT",
    }

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:  # pragma: no cover - psycopg is a dependency
            raise StoreError(
                "a PostgreSQL records store needs psycopg (pip install psycopg)"
            ) from None
        self.where = _redact(url)
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"{self.where}: cannot open records store: {reason}") from None
        self._tx = _PostgresTx(self._conn)
        with self.transaction() as tx:  # two processes opening a new database at once
            self.lock_schema(tx)
            tx.execute("CREATE TABLE IF NOT EXISTS workbench_schema (version INTEGER NOT NULL)")

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._conn.transaction():
            yield self._tx

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._tx.execute(sql, params)

    def schema_version(self) -> int:
        rows = self._tx.execute("SELECT max(version) AS v FROM workbench_schema")
        return int(rows[0]["v"] or 0)

    def set_schema_version(self, tx: Tx, version: int) -> None:
        tx.execute("DELETE FROM workbench_schema")
        tx.execute("INSERT INTO workbench_schema (version) VALUES (?)", (version,))

    def lock_schema(self, tx: Tx) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(7305417)")

    def close(self) -> None:
        self._conn.close()


def _redact(url: str) -> str:
    """The URL as it can be shown: any password replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if at and ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}{sep}{creds}{at}{host}"


def open_engine(where: str | Path) -> Engine:
    """The engine for a records location: a PostgreSQL URL, or else an SQLite file path."""
    text = str(where)
    if text.startswith(POSTGRES_SCHEMES):
        return PostgresEngine(text)
    if "://" in text:
        raise StoreError(f"{text}: unknown records store (give a file path or a postgresql:// URL)")
    return SqliteEngine(Path(where))
