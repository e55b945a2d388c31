"""The records store: the one place that reads and writes the service organisation's records.

Terminals, device events, receipts, grants, maintenance runs and their results, remedies,
tickets with SLA clocks, archived reports and scorecards, as typed records
(:mod:`workbench.records`). One person's machine keeps them in an SQLite file (WAL mode); a
support organisation shares one PostgreSQL database (``--records postgresql://...`` or
``WORKBENCH_RECORDS``). Both run the same schema (:mod:`workbench.store_schema`), migrated on
open; a store written by a newer workbench is refused rather than guessed at. Every write
is one transaction, so a reader never sees half of a maintenance run.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench.errors import StoreError
from workbench.records import (
    DeviceEvent,
    DiagResult,
    GrantRecord,
    MaintenanceRun,
    Receipt,
    RemedyRecord,
    TerminalRecord,
)
from workbench.store_engines import Engine, Row, open_engine
from workbench.store_schema import MIGRATIONS, SCHEMA_VERSION, statements
from workbench.store_service import ServiceRecords, _json, _load

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "RecordStore", "records_location"]

ENV = "WORKBENCH_RECORDS"


def records_location(given: str | Path | None, default: Path) -> str | Path:
    """Where records go: the option given, else ``$WORKBENCH_RECORDS``, else ``default``."""
    return given or os.environ.get(ENV) or default


_KEEP_KNOWN = (
    "region=COALESCE(excluded.region, terminals.region), "
    "site=COALESCE(excluded.site, terminals.site), "
    "accepted=COALESCE(excluded.accepted, terminals.accepted)"
)
"""A terminal upsert keeps where it stands and when it was accepted unless told anew."""


class RecordStore(ServiceRecords):
    """A connection to the records store; use as a context manager or call :meth:`close`.

    ``where`` is a file path (SQLite) or a ``postgresql://`` URL.
    """

    def __init__(self, where: str | Path) -> None:
        self.engine: Engine = open_engine(where)
        self.path = Path(where) if self.engine.name == "sqlite" else None
        try:
            self._migrate()
        except StoreError:
            self.engine.close()
            raise
        except Exception as exc:  # a database error from either driver
            self.engine.close()
            raise StoreError(f"{self.engine.where}: cannot open records store: {exc}") from None

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection; committed records stay."""
        self.engine.close()

    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def version(self) -> int:
        """The schema version of the open store."""
        return self.engine.schema_version()

    def _migrate(self) -> None:
        if self.version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.engine.where}: schema version {self.version} is newer than this "
                f"workbench knows ({SCHEMA_VERSION}); upgrade the workbench"
            )
        while (current := self.version) < SCHEMA_VERSION:
            with self.engine.transaction() as tx:
                self.engine.lock_schema(tx)
                if self.engine.schema_version() != current:
                    continue  # another process migrated meanwhile
                for statement in statements(MIGRATIONS[current], self.engine.types):
                    tx.execute(statement)
                self.engine.set_schema_version(tx, current + 1)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """A raw read, for looking at a table by hand; application code uses typed methods."""
        return self.engine.query(sql, params)

    # -- terminals and what their devices did -------------------------------------------
    def upsert_terminal(
        self,
        terminal: str,
        profile: str,
        endpoints: dict[str, Any] | None,
        *,
        region: str | None = None,
        site: str | None = None,
        accepted: str | None = None,
    ) -> None:
        """Record that a terminal exists (or runs again); ``None`` keeps what was known."""
        now = time.time()
        with self._write() as tx:
            tx.execute(
                "INSERT INTO terminals (id, profile, endpoints, first_seen, last_seen, region, "
                "site, accepted) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "profile=excluded.profile, endpoints=excluded.endpoints, "
                "last_seen=excluded.last_seen, " + _KEEP_KNOWN,
                (terminal, profile, _json(endpoints), now, now, region, site, accepted),
            )

    def describe_terminal(
        self,
        terminal: str,
        *,
        region: str | None = None,
        site: str | None = None,
        accepted: str | None = None,
    ) -> None:
        """Say where a terminal stands and when it was accepted, keeping what else is known."""
        now = time.time()
        with self._write() as tx:
            tx.execute(
                "INSERT INTO terminals (id, profile, first_seen, last_seen, region, site, accepted) "
                "VALUES (?, '', ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET " + _KEEP_KNOWN,
                (terminal, now, now, region, site, accepted),
            )

    def terminals(self) -> list[TerminalRecord]:
        """Every terminal the store has seen, by id."""
        rows = self.engine.query("SELECT * FROM terminals ORDER BY id")
        return [
            TerminalRecord(
                r["id"],
                r["profile"],
                _load(r["endpoints"]),
                r["first_seen"],
                r["last_seen"],
                r["region"],
                r["site"],
                r["accepted"],
            )
            for r in rows
        ]

    def known_terminals(self) -> dict[str, str]:
        """Every terminal the store has seen, with its profile."""
        return {t.id: t.profile for t in self.terminals()}

    def terminal(self, terminal: str) -> TerminalRecord | None:
        """One terminal's record, or None."""
        return next((t for t in self.terminals() if t.id == terminal), None)

    def add_device_event(
        self,
        terminal: str,
        device: str,
        sim_time: float,
        kind: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append one device event (fault raised or cleared, note credited, paper refilled...)."""
        with self._write() as tx:
            tx.execute(
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

    def device_events(self, terminal: str | None = None) -> list[DeviceEvent]:
        """Device events in the order they were recorded (one terminal's, or all)."""
        rows = self._select("device_events", terminal=terminal)
        return [
            DeviceEvent(
                r["id"],
                r["terminal"],
                r["device"],
                r["sim_time"],
                r["wall_time"],
                r["kind"],
                _load(r["detail"]),
            )
            for r in rows
        ]

    def add_receipt(self, terminal: str, sim_time: float, text: str) -> None:
        """Record a finished (cut) receipt as text with placeholders for graphics."""
        with self._write() as tx:
            tx.execute(
                "INSERT INTO receipts (terminal, sim_time, wall_time, text) VALUES (?, ?, ?, ?)",
                (terminal, sim_time, time.time(), text),
            )

    def receipts(self, terminal: str | None = None) -> list[Receipt]:
        """Receipts in the order they were cut (one terminal's, or all)."""
        rows = self._select("receipts", terminal=terminal)
        return [
            Receipt(r["id"], r["terminal"], r["sim_time"], r["wall_time"], r["text"]) for r in rows
        ]

    # -- remote windows and maintenance ------------------------------------------------
    def add_grant(self, grant: GrantRecord) -> None:
        """Record a remote window granted."""
        with self._write() as tx:
            tx.execute(
                "INSERT INTO grants (serial, terminal, engineer, ticket, allow, valid_after, "
                "valid_before, issued) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    grant.serial,
                    ",".join(grant.terminals),
                    grant.engineer,
                    grant.ticket,
                    ",".join(grant.allow),
                    grant.valid_after,
                    grant.valid_before,
                    grant.issued,
                ),
            )

    def grants(self, terminal: str | None = None) -> list[GrantRecord]:
        """Grants by serial; with ``terminal``, those that name it (or every terminal, ``*``)."""
        rows = self.engine.query("SELECT * FROM grants ORDER BY serial")
        found = [
            GrantRecord(
                r["serial"],
                tuple(r["terminal"].split(",")),
                r["engineer"],
                r["ticket"],
                tuple(r["allow"].split(",")),
                r["valid_after"],
                r["valid_before"],
                r["issued"],
            )
            for r in rows
        ]
        if terminal is None:
            return found
        return [g for g in found if terminal in g.terminals or "*" in g.terminals]

    def add_run(self, run: MaintenanceRun) -> int:
        """Store a maintenance run with all its results in one transaction; returns its id."""
        with self._write() as tx:
            (row,) = tx.execute(
                "INSERT INTO maintenance_runs (terminal, suite, engineer, started, finished, "
                "outcome, ticket, n_results) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    run.terminal,
                    run.suite,
                    run.engineer,
                    run.started,
                    run.finished,
                    run.outcome,
                    run.ticket,
                    len(run.results),
                ),
            )
            tx.executemany(
                "INSERT INTO diag_results (run_id, test, status, suspect, detail) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (row["id"], r.test, r.status, r.suspect, json.dumps(r.detail, default=str))
                    for r in run.results
                ],
            )
        return int(row["id"])

    def runs(
        self, terminal: str | None = None, *, suite: str | None = None, since: float = 0.0
    ) -> list[MaintenanceRun]:
        """Maintenance runs, oldest first, each with its results."""
        rows = self._select("maintenance_runs", ("started", since), terminal=terminal, suite=suite)
        return list(self._with_results(rows))

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
        ticket: int | None = None,
    ) -> int:
        """Store a suite run (or a remedy and its re-test) from the diagnostics' JSON lines.

        Each result is a line with ``test``, ``status``, ``suspect`` and the rest (measurements,
        remedy hint...), kept as the detail; ``run_error`` is kept with each if the run broke.
        """
        skip = ("event", "test", "status", "suspect")
        rows = []
        for r in results:
            detail = {k: v for k, v in r.items() if k not in skip}
            if run_error:
                detail.setdefault("run_error", run_error)
            rows.append(
                DiagResult(str(r.get("test")), str(r.get("status")), r.get("suspect"), detail)
            )
        run = MaintenanceRun(
            terminal, suite, engineer, started, finished, outcome, tuple(rows), ticket
        )
        return self.add_run(run)

    def maintenance_runs(
        self, terminal: str | None = None, *, limit: int = 50
    ) -> list[MaintenanceRun]:
        """Maintenance records, newest first (one terminal's, or everyone's)."""
        where, params = ("WHERE terminal = ?", [terminal]) if terminal else ("", [])
        rows = self.engine.query(
            f"SELECT * FROM maintenance_runs {where} ORDER BY id DESC LIMIT ?", [*params, limit]
        )
        return list(self._with_results(rows))

    def latest_runs(self) -> dict[str, MaintenanceRun]:
        """Each terminal's most recent maintenance record (what a fleet view shows)."""
        rows = self.engine.query(
            "SELECT * FROM maintenance_runs WHERE id IN "
            "(SELECT max(id) FROM maintenance_runs GROUP BY terminal)"
        )
        return {run.terminal: run for run in self._with_results(rows)}

    def run(self, run_id: int) -> MaintenanceRun | None:
        """One maintenance run by id, or None."""
        rows = self.engine.query("SELECT * FROM maintenance_runs WHERE id = ?", (run_id,))
        return next(self._with_results(rows), None)

    def _with_results(self, runs: list[Row]) -> Iterator[MaintenanceRun]:
        if not runs:
            return
        ids = [r["id"] for r in runs]
        results: dict[int, list[DiagResult]] = {i: [] for i in ids}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            marks = ",".join("?" * len(part))
            for r in self.engine.query(
                f"SELECT * FROM diag_results WHERE run_id IN ({marks}) ORDER BY id", part
            ):
                results[r["run_id"]].append(
                    DiagResult(r["test"], r["status"], r["suspect"], json.loads(r["detail"]))
                )
        for r in runs:
            yield MaintenanceRun(
                r["terminal"],
                r["suite"],
                r["engineer"],
                r["started"],
                r["finished"],
                r["outcome"],
                tuple(results[r["id"]]),
                r["ticket"],
                r["id"],
            )

    def active_grants(self, now: float | None = None) -> dict[str, int]:
        """Terminal -> the latest ``valid_before`` of a grant open now."""
        now = time.time() if now is None else now
        found: dict[str, int] = {}
        for g in self.grants():
            if g.valid_after <= now < g.valid_before:
                for terminal in g.terminals:
                    found[terminal] = max(found.get(terminal, 0), int(g.valid_before))
        return found

    def open_session(self, engineer: str, reason: str, tool: str) -> int:
        """Record that an engineer started a tool session for a reason (the ticket id)."""
        with self._write() as tx:
            (row,) = tx.execute(
                "INSERT INTO work_sessions (engineer, reason, tool, started) VALUES (?, ?, ?, ?) "
                "RETURNING id",
                (engineer, reason, tool, time.time()),
            )
        return int(row["id"])

    def close_session(self, session_id: int) -> None:
        """Record the end of a tool session."""
        with self._write() as tx:
            tx.execute(
                "UPDATE work_sessions SET finished = ? WHERE id = ?", (time.time(), session_id)
            )

    def sessions(self) -> list[dict[str, Any]]:
        """Engineers' tool sessions, oldest first: who, why (the ticket), which tool, when."""
        return self.engine.query("SELECT * FROM work_sessions ORDER BY id")

    def keep_audit_seal(
        self, terminal: str, seq: int, digest: str, seal: str, host_key: str
    ) -> None:
        """Keep the newest audit seal seen from a terminal (a later one, or one from a new host
        key, replaces it)."""
        with self._write() as tx:
            tx.execute(
                "INSERT INTO audit_seals (terminal, seq, hash, seal, host_key, seen) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (terminal) DO UPDATE SET seq=excluded.seq, "
                "hash=excluded.hash, seal=excluded.seal, host_key=excluded.host_key, "
                "seen=excluded.seen WHERE excluded.seq >= audit_seals.seq "
                "OR excluded.host_key != audit_seals.host_key",
                (terminal, seq, digest, seal, host_key, time.time()),
            )

    def audit_seal(self, terminal: str) -> dict[str, Any] | None:
        """The newest audit seal seen from ``terminal``: seq, hash, seal, host_key, seen."""
        rows = self.engine.query("SELECT * FROM audit_seals WHERE terminal = ?", (terminal,))
        return dict(rows[0]) if rows else None

    def audit_seal_terminals(self) -> list[str]:
        """Terminals this store holds an audit seal of."""
        rows = self.engine.query("SELECT terminal FROM audit_seals ORDER BY terminal")
        return [str(r["terminal"]) for r in rows]

    def add_remedy(self, remedy: RemedyRecord) -> int:
        """Record a remedy applied (and its re-test); returns its id."""
        with self._write() as tx:
            (row,) = tx.execute(
                "INSERT INTO remedies (terminal, action, engineer, ticket, applied, cleared, "
                "retest, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    remedy.terminal,
                    remedy.action,
                    remedy.engineer,
                    remedy.ticket,
                    remedy.applied,
                    int(remedy.cleared),
                    remedy.retest,
                    json.dumps(remedy.detail, default=str),
                ),
            )
        return int(row["id"])

    def remedies(self, terminal: str | None = None, *, since: float = 0.0) -> list[RemedyRecord]:
        """Remedies applied, oldest first."""
        return [
            RemedyRecord(
                r["terminal"],
                r["action"],
                r["engineer"],
                r["applied"],
                bool(r["cleared"]),
                r["retest"],
                json.loads(r["detail"]),
                r["ticket"],
                r["id"],
            )
            for r in self._select("remedies", ("applied", since), terminal=terminal)
        ]
