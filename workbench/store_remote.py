"""The remote windows and the maintenance they carry in the records store: grants, engineers'
tool sessions, maintenance runs with their diagnostic results, remedies, and the audit seals
the engineers' clients kept.

A part of :class:`workbench.store.RecordStore` (it inherits these methods), kept apart so that
each module stays one concept: the store module owns the connection, the schema and the
terminals' own records; this one what engineers did to them from afar.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from workbench.records import DiagResult, GrantRecord, MaintenanceRun, RemedyRecord
from workbench.store_engines import Row
from workbench.store_tables import Tables


class RemoteRecords(Tables):
    """Grants, tool sessions, maintenance runs, remedies and audit seals, over the store's
    engine."""

    # -- remote windows -----------------------------------------------------------------
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

    def active_grants(self, now: float | None = None) -> dict[str, int]:
        """Terminal -> the latest ``valid_before`` of a grant open now."""
        now = time.time() if now is None else now
        found: dict[str, int] = {}
        for g in self.grants():
            if g.valid_after <= now < g.valid_before:
                for terminal in g.terminals:
                    found[terminal] = max(found.get(terminal, 0), int(g.valid_before))
        return found

    # -- maintenance runs and their results ---------------------------------------------
    def add_run(self, run: MaintenanceRun) -> int:
        """Store a maintenance run with all its results in one transaction; returns its id."""
        with self._write() as tx:
            (row,) = tx.execute(
                "INSERT INTO maintenance_runs (terminal, suite, engineer, started, finished, "
                "outcome, ticket, n_results, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    run.terminal,
                    run.suite,
                    run.engineer,
                    run.started,
                    run.finished,
                    run.outcome,
                    run.ticket,
                    len(run.results),
                    run.error,
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
        remedy hint...), kept as the detail; ``run_error`` (why the run broke) is kept with the
        run and with each result.
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
            terminal,
            suite,
            engineer,
            started,
            finished,
            outcome,
            tuple(rows),
            ticket,
            error=run_error,
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
                r["error"],
            )

    # -- engineers' tool sessions, audit seals, remedies ---------------------------------
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
