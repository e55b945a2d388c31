"""The service organisation's paperwork in the records store: tickets and their SLA clocks,
archived reports, trainees' scorecards and the site visits they dispatched.

A part of :class:`workbench.store.RecordStore` (it inherits these methods), kept apart so that
each module stays one concept: the store module owns the connection, the schema and the
terminals' own records, :mod:`workbench.store_remote` the remote windows and maintenance; this
one the records people file about them.
"""

from __future__ import annotations

import json
import time
from typing import Any

from workbench.errors import StoreError
from workbench.records import ClockRecord, ReportRecord, Scorecard, TicketRecord
from workbench.store_tables import Tables, dump_json, load_json


class ServiceRecords(Tables):
    """Tickets, reports, scorecards and dispatches, over the store's engine."""

    # -- tickets -------------------------------------------------------------------------
    def add_ticket(self, ticket: TicketRecord) -> int:
        """Open a ticket with its clocks; returns its number."""
        with self._write() as tx:
            (row,) = tx.execute(
                "INSERT INTO tickets (terminal, severity, summary, fault, source, reported, "
                "status, closed, resolution, billing) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING id",
                (
                    ticket.terminal,
                    ticket.severity,
                    ticket.summary,
                    ticket.fault,
                    ticket.source,
                    ticket.reported,
                    ticket.status,
                    ticket.closed,
                    ticket.resolution,
                    dump_json(ticket.billing),
                ),
            )
            for clock in ticket.clocks:
                tx.execute(
                    "INSERT INTO ticket_clocks (ticket, clock, deadline, met) VALUES (?, ?, ?, ?)",
                    (row["id"], clock.clock, clock.deadline, clock.met),
                )
        return int(row["id"])

    def meet_clock(self, ticket: int, clock: str, when: float) -> bool:
        """Mark a ticket's clock met at ``when`` unless it already was; True if it changed."""
        with self._write() as tx:
            rows = tx.execute(
                "UPDATE ticket_clocks SET met = ? WHERE ticket = ? AND clock = ? AND met IS NULL "
                "RETURNING clock",
                (when, ticket, clock),
            )
        return bool(rows)

    def set_deadline(self, ticket: int, clock: str, deadline: float) -> None:
        """Set a clock's deadline (one counted from an event, such as the engineer's arrival)."""
        with self._write() as tx:
            tx.execute(
                "UPDATE ticket_clocks SET deadline = ? WHERE ticket = ? AND clock = ?",
                (deadline, ticket, clock),
            )

    def close_ticket(
        self, ticket: int, when: float, resolution: str, billing: dict[str, Any] | None
    ) -> None:
        """Close a ticket with its resolution and billing decision."""
        with self._write() as tx:
            rows = tx.execute(
                "UPDATE tickets SET status = 'closed', closed = ?, resolution = ?, billing = ? "
                "WHERE id = ? RETURNING id",
                (when, resolution, dump_json(billing), ticket),
            )
        if not rows:
            raise StoreError(f"no ticket #{ticket} in {self.engine.where}")

    def tickets(
        self, terminal: str | None = None, *, status: str | None = None, since: float = 0.0
    ) -> list[TicketRecord]:
        """Tickets reported since ``since``, oldest first, each with its clocks."""
        rows = self._select("tickets", ("reported", since), terminal=terminal, status=status)
        clocks: dict[int, list[ClockRecord]] = {r["id"]: [] for r in rows}
        if rows:
            marks = ",".join("?" * len(rows))
            for c in self.engine.query(
                f"SELECT * FROM ticket_clocks WHERE ticket IN ({marks})", [r["id"] for r in rows]
            ):
                clocks[c["ticket"]].append(ClockRecord(c["clock"], c["deadline"], c["met"]))
        return [
            TicketRecord(
                r["terminal"],
                r["severity"],
                r["summary"],
                r["source"],
                r["reported"],
                r["status"],
                r["fault"],
                r["closed"],
                r["resolution"],
                load_json(r["billing"]),
                tuple(
                    sorted(
                        clocks[r["id"]],
                        key=lambda c: (c.deadline is None, c.deadline or 0.0, c.clock),
                    )
                ),
                r["id"],
            )
            for r in rows
        ]

    def ticket(self, ticket: int) -> TicketRecord:
        """One ticket by number."""
        rows = self.engine.query("SELECT reported, terminal FROM tickets WHERE id = ?", (ticket,))
        if not rows:
            raise StoreError(f"no ticket #{ticket} in {self.engine.where}")
        found = self.tickets(rows[0]["terminal"], since=rows[0]["reported"])
        return next(t for t in found if t.id == ticket)

    # -- reports and scorecards -----------------------------------------------------------
    def add_report(self, report: ReportRecord) -> int:
        """Archive a report's bytes with their content hash; returns its id."""
        with self._write() as tx:
            (row,) = tx.execute(
                "INSERT INTO reports (kind, subject, created, format, sha256, content) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    report.kind,
                    report.subject,
                    report.created,
                    report.format,
                    report.sha256,
                    report.content,
                ),
            )
        return int(row["id"])

    def reports(self, kind: str | None = None, subject: str | None = None) -> list[ReportRecord]:
        """Archived reports, oldest first."""
        return [
            ReportRecord(
                r["kind"],
                r["subject"],
                r["created"],
                r["format"],
                r["sha256"],
                bytes(r["content"]),
                r["id"],
            )
            for r in self._select("reports", kind=kind, subject=subject)
        ]

    def add_scorecard(self, card: Scorecard) -> int:
        """Store a trainee's scorecard; returns its id."""
        with self._write() as tx:
            (row,) = tx.execute(
                "INSERT INTO scorecards (scenario, trainee, terminal, created, score, max_score, "
                "detail) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    card.scenario,
                    card.trainee,
                    card.terminal,
                    card.created,
                    card.score,
                    card.max_score,
                    json.dumps(card.detail, default=str),
                ),
            )
        return int(row["id"])

    # -- site visits trainees dispatch (live scenario runs) ---------------------------------
    def add_dispatch(
        self, terminal: str, fault: str, *, requested_by: str | None = None, note: str | None = None
    ) -> int:
        """Record a request to send an engineer on site for ``fault``; returns its id."""
        with self._write() as tx:
            (row,) = tx.execute(
                "INSERT INTO dispatches (terminal, fault, requested, requested_by, note) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (terminal, fault, time.time(), requested_by, note),
            )
        return int(row["id"])

    def dispatches(self, terminal: str) -> list[dict[str, Any]]:
        """A terminal's site-visit requests, oldest first."""
        rows = self.engine.query(
            "SELECT * FROM dispatches WHERE terminal = ? ORDER BY id", (terminal,)
        )
        return [dict(r) for r in rows]

    def update_dispatch(self, dispatch_id: int, **fields: Any) -> None:
        """Set a dispatch's simulated times and outcome (``sim_requested``, ``sim_arrived``,
        ``sim_done``, ``outcome``) as the visit happens."""
        allowed = {"sim_requested", "sim_arrived", "sim_done", "outcome"}
        if not fields or not set(fields) <= allowed:
            raise StoreError(f"dispatch fields must be among {', '.join(sorted(allowed))}")
        assignments = ", ".join(f"{k} = ?" for k in fields)
        with self._write() as tx:
            tx.execute(
                f"UPDATE dispatches SET {assignments} WHERE id = ?", (*fields.values(), dispatch_id)
            )

    def scorecards(self, scenario: str | None = None) -> list[Scorecard]:
        """Scorecards, oldest first (one scenario's, or all)."""
        return [
            Scorecard(
                r["scenario"],
                r["trainee"],
                r["terminal"],
                r["created"],
                r["score"],
                r["max_score"],
                json.loads(r["detail"]),
                r["id"],
            )
            for r in self._select("scorecards", scenario=scenario)
        ]
