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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
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
    # v3: engineers' tool sessions and the reason (ticket) each was opened for.
    """
    CREATE TABLE work_sessions (
        id INTEGER PRIMARY KEY,
        engineer TEXT NOT NULL,
        reason TEXT NOT NULL,
        tool TEXT NOT NULL,
        started REAL NOT NULL,
        finished REAL
    );
    CREATE INDEX maintenance_runs_by_terminal ON maintenance_runs (terminal, id);
    CREATE INDEX diag_results_by_run ON diag_results (run_id);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True, slots=True)
class Finding:
    """One test of a maintenance run that did not pass."""

    test: str
    status: str
    suspect: str | None


@dataclass(frozen=True, slots=True)
class MaintenanceRun:
    """A stored suite run or remedy on one terminal, with the tests that did not pass."""

    id: int
    terminal: str
    suite: str
    engineer: str | None
    started: float
    finished: float | None
    outcome: str | None
    counts: Mapping[str, int] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()


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

    def add_maintenance_run(
        self,
        terminal: str,
        suite: str,
        engineer: str | None,
        started: float,
        finished: float,
        outcome: str,
        results: Iterable[Mapping[str, Any]],
        run_error: str | None = None,
    ) -> int:
        """Store a suite run (or a remedy and its re-test) with one row per test; returns its id.

        Each result is a diagnostic's JSON line: ``test``, ``status``, ``suspect`` and the rest
        (measurements, remedy hint...) kept as the detail."""
        with self.transaction() as db:
            run_id = db.execute(
                "INSERT INTO maintenance_runs (terminal, suite, engineer, started, finished, "
                "outcome) VALUES (?, ?, ?, ?, ?, ?)",
                (terminal, suite, engineer, started, finished, outcome),
            ).lastrowid
            for r in results:
                skip = ("event", "test", "status", "suspect")
                detail = {k: v for k, v in r.items() if k not in skip}
                if run_error:
                    detail.setdefault("run_error", run_error)
                db.execute(
                    "INSERT INTO diag_results (run_id, test, status, suspect, detail) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        run_id,
                        str(r.get("test")),
                        str(r.get("status")),
                        r.get("suspect"),
                        json.dumps(detail, default=str),
                    ),
                )
        return int(run_id or 0)

    def maintenance_runs(
        self, terminal: str | None = None, *, limit: int = 50
    ) -> list[MaintenanceRun]:
        """Maintenance records, newest first (one terminal's, or everyone's)."""
        where, params = ("WHERE terminal = ?", [terminal]) if terminal else ("", [])
        rows = self.query(
            "SELECT id, terminal, suite, engineer, started, finished, outcome FROM "
            f"maintenance_runs {where} ORDER BY id DESC LIMIT ?",
            [*params, limit],
        )
        return self._with_results(rows)

    def latest_runs(self) -> dict[str, MaintenanceRun]:
        """Each terminal's most recent maintenance record (what a fleet view shows)."""
        rows = self.query(
            "SELECT id, terminal, suite, engineer, started, finished, outcome FROM "
            "maintenance_runs WHERE id IN (SELECT max(id) FROM maintenance_runs GROUP BY terminal)"
        )
        return {run.terminal: run for run in self._with_results(rows)}

    def _with_results(self, rows: Sequence[sqlite3.Row]) -> list[MaintenanceRun]:
        ids = [int(r["id"]) for r in rows]
        counts: dict[int, dict[str, int]] = {i: {"pass": 0, "warn": 0, "fail": 0} for i in ids}
        findings: dict[int, list[Finding]] = {i: [] for i in ids}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            marks = ",".join("?" * len(part))
            for r in self.query(
                f"SELECT run_id, test, status, suspect FROM diag_results WHERE run_id IN ({marks}) "
                "ORDER BY id",
                part,
            ):
                run_counts = counts[r["run_id"]]
                run_counts[r["status"]] = run_counts.get(r["status"], 0) + 1
                if r["status"] != "pass":
                    findings[r["run_id"]].append(Finding(r["test"], r["status"], r["suspect"]))
        return [
            MaintenanceRun(
                int(r["id"]),
                r["terminal"],
                r["suite"],
                r["engineer"],
                r["started"],
                r["finished"],
                r["outcome"],
                counts[int(r["id"])],
                tuple(findings[int(r["id"])]),
            )
            for r in rows
        ]

    def known_terminals(self) -> dict[str, str]:
        """Every terminal the store has seen, with its profile."""
        return {r["id"]: r["profile"] for r in self.query("SELECT id, profile FROM terminals")}

    def active_grants(self, now: float | None = None) -> dict[str, int]:
        """Terminal -> the latest ``valid_before`` of a grant open now (a grant row may name
        several terminals, comma-separated)."""
        now = time.time() if now is None else now
        out: dict[str, int] = {}
        for r in self.query(
            "SELECT terminal, valid_before FROM grants WHERE valid_after <= ? AND valid_before > ?",
            [now, now],
        ):
            for tid in str(r["terminal"]).split(","):
                out[tid] = max(out.get(tid, 0), int(r["valid_before"]))
        return out

    def open_session(self, engineer: str, reason: str, tool: str) -> int:
        """Record that an engineer started a tool session for a reason (the ticket id)."""
        with self.transaction() as db:
            sid = db.execute(
                "INSERT INTO work_sessions (engineer, reason, tool, started) VALUES (?, ?, ?, ?)",
                (engineer, reason, tool, time.time()),
            ).lastrowid
        return int(sid or 0)

    def close_session(self, session_id: int) -> None:
        """Record the end of a tool session."""
        with self.transaction() as db:
            db.execute(
                "UPDATE work_sessions SET finished = ? WHERE id = ?", (time.time(), session_id)
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
