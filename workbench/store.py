"""The records store: one SQLite file in WAL mode holding terminals, device events, receipts,
grants, remote sessions and maintenance records.

This module alone owns the schema. Each entry of ``MIGRATIONS`` takes the schema one version
further; opening a store applies the missing ones in a transaction and refuses a file written
by a newer workbench rather than guess at it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from workbench.errors import StoreError

MIGRATIONS: Sequence[str] = (
    # v1: terminals and what their devices did.
    """
    CREATE TABLE terminals (
        id TEXT PRIMARY KEY,
        profile TEXT NOT NULL,
        endpoints TEXT,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL
    );
    CREATE TABLE device_events (
        id INTEGER PRIMARY KEY,
        terminal TEXT NOT NULL,
        device TEXT NOT NULL,
        sim_time REAL NOT NULL,
        wall_time REAL NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT
    );
    CREATE INDEX device_events_by_terminal ON device_events (terminal, id);
    CREATE TABLE receipts (
        id INTEGER PRIMARY KEY,
        terminal TEXT NOT NULL,
        sim_time REAL NOT NULL,
        wall_time REAL NOT NULL,
        text TEXT NOT NULL
    );
    """,
    # v2: the remote window: grants, sessions, maintenance runs and their results.
    """
    CREATE TABLE grants (
        serial INTEGER PRIMARY KEY,
        terminal TEXT NOT NULL,
        engineer TEXT NOT NULL,
        ticket TEXT,
        allow TEXT NOT NULL,
        valid_after REAL NOT NULL,
        valid_before REAL NOT NULL,
        issued REAL NOT NULL
    );
    CREATE TABLE maintenance_runs (
        id INTEGER PRIMARY KEY,
        terminal TEXT NOT NULL,
        suite TEXT NOT NULL,
        engineer TEXT,
        started REAL NOT NULL,
        finished REAL,
        outcome TEXT
    );
    CREATE TABLE diag_results (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES maintenance_runs (id),
        test TEXT NOT NULL,
        status TEXT NOT NULL,
        suspect TEXT,
        detail TEXT NOT NULL
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


class RecordStore:
    """A connection to the records store; use as a context manager or call :meth:`close`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open records store: {exc}") from None

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection; committed records stay on disk."""
        self._db.close()

    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def version(self) -> int:
        """The schema version of the open file."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        current = self.version
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: schema version {current} is newer than this workbench knows "
                f"({SCHEMA_VERSION}); upgrade the workbench"
            )
        for version in range(current, SCHEMA_VERSION):
            with self.transaction() as db:
                db.executescript_in_tx(MIGRATIONS[version])
                db.execute(f"PRAGMA user_version={version + 1}")

    @contextmanager
    def transaction(self) -> Iterator[_Tx]:
        """A write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield _Tx(self._db)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- queries -------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run a read query and return rows addressable by column name."""
        cur = self._db.execute(sql, params)
        cur.row_factory = sqlite3.Row
        return list(cur.fetchall())

    def upsert_terminal(
        self, terminal: str, profile: str, endpoints: dict[str, Any] | None
    ) -> None:
        """Record that a terminal exists (or is running again) with these endpoints."""
        now = time.time()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO terminals (id, profile, endpoints, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET profile=excluded.profile, "
                "endpoints=excluded.endpoints, last_seen=excluded.last_seen",
                (terminal, profile, json.dumps(endpoints) if endpoints else None, now, now),
            )

    def add_device_event(
        self,
        terminal: str,
        device: str,
        sim_time: float,
        kind: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append one device event (fault raised or cleared, note credited, paper refilled...)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO device_events (terminal, device, sim_time, wall_time, kind, detail) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    terminal,
                    device,
                    sim_time,
                    time.time(),
                    kind,
                    json.dumps(detail) if detail else None,
                ),
            )

    def add_receipt(self, terminal: str, sim_time: float, text: str) -> None:
        """Record a finished (cut) receipt as text with placeholders for graphics."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO receipts (terminal, sim_time, wall_time, text) VALUES (?, ?, ?, ?)",
                (terminal, sim_time, time.time(), text),
            )


class _Tx:
    """The handle given inside :meth:`RecordStore.transaction`."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, params)

    def executescript_in_tx(self, script: str) -> None:
        """Run several statements inside the open transaction (executescript would commit)."""
        for statement in script.split(";"):
            if statement.strip():
                self._db.execute(statement)
