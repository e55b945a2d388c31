"""The records store's schema, as a list of migrations both engines apply in order.

Each entry takes the schema one version further and is never edited once shipped: a store
opened by a newer workbench gets the missing entries, in one transaction each. The SQL is
the common subset of SQLite and PostgreSQL, with type tokens each engine spells its own way:
``{pk}`` an auto-numbered primary key, ``{real}`` a double, ``{bigint}`` a 64-bit integer,
``{blob}`` bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

MIGRATIONS: Sequence[str] = (
    # v1: terminals and what their devices did.
    """
    CREATE TABLE terminals (
        id TEXT PRIMARY KEY,
        profile TEXT NOT NULL,
        endpoints TEXT,
        first_seen {real} NOT NULL,
        last_seen {real} NOT NULL
    );
    CREATE TABLE device_events (
        id {pk},
        terminal TEXT NOT NULL,
        device TEXT NOT NULL,
        sim_time {real} NOT NULL,
        wall_time {real} NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT
    );
    CREATE INDEX device_events_by_terminal ON device_events (terminal, id);
    CREATE TABLE receipts (
        id {pk},
        terminal TEXT NOT NULL,
        sim_time {real} NOT NULL,
        wall_time {real} NOT NULL,
        text TEXT NOT NULL
    );
    """,
    # v2: the remote window: grants, sessions, maintenance runs and their results.
    """
    CREATE TABLE grants (
        serial {bigint} PRIMARY KEY,
        terminal TEXT NOT NULL,
        engineer TEXT NOT NULL,
        ticket TEXT,
        allow TEXT NOT NULL,
        valid_after {real} NOT NULL,
        valid_before {real} NOT NULL,
        issued {real} NOT NULL
    );
    CREATE TABLE maintenance_runs (
        id {pk},
        terminal TEXT NOT NULL,
        suite TEXT NOT NULL,
        engineer TEXT,
        started {real} NOT NULL,
        finished {real},
        outcome TEXT
    );
    CREATE TABLE diag_results (
        id {pk},
        run_id {bigint} NOT NULL REFERENCES maintenance_runs (id),
        test TEXT NOT NULL,
        status TEXT NOT NULL,
        suspect TEXT,
        detail TEXT NOT NULL
    );
    """,
    # v3: engineers' tool sessions and the reason (ticket) each was opened for.
    """
    CREATE TABLE work_sessions (
        id {pk},
        engineer TEXT NOT NULL,
        reason TEXT NOT NULL,
        tool TEXT NOT NULL,
        started {real} NOT NULL,
        finished {real}
    );
    CREATE INDEX maintenance_runs_by_terminal ON maintenance_runs (terminal, id);
    CREATE INDEX diag_results_by_run ON diag_results (run_id);
    """,
    # v4: the service organisation's paperwork: where terminals stand and since when
    # (warranty), tickets with their SLA clocks, remedies, archived reports, scorecards.
    """
    ALTER TABLE terminals ADD COLUMN region TEXT;
    ALTER TABLE terminals ADD COLUMN site TEXT;
    ALTER TABLE terminals ADD COLUMN accepted TEXT;
    ALTER TABLE maintenance_runs ADD COLUMN ticket {bigint};
    ALTER TABLE maintenance_runs ADD COLUMN n_results INTEGER;
    CREATE TABLE remedies (
        id {pk},
        terminal TEXT NOT NULL,
        action TEXT NOT NULL,
        engineer TEXT,
        ticket {bigint},
        applied {real} NOT NULL,
        cleared INTEGER NOT NULL,
        retest TEXT,
        detail TEXT NOT NULL
    );
    CREATE INDEX remedies_by_terminal ON remedies (terminal, id);
    CREATE TABLE tickets (
        id {pk},
        terminal TEXT NOT NULL,
        severity TEXT NOT NULL,
        summary TEXT NOT NULL,
        fault TEXT,
        source TEXT NOT NULL,
        reported {real} NOT NULL,
        status TEXT NOT NULL,
        closed {real},
        resolution TEXT,
        billing TEXT
    );
    CREATE INDEX tickets_by_terminal ON tickets (terminal, id);
    CREATE TABLE ticket_clocks (
        ticket {bigint} NOT NULL REFERENCES tickets (id),
        clock TEXT NOT NULL,
        deadline {real},
        met {real},
        PRIMARY KEY (ticket, clock)
    );
    CREATE TABLE reports (
        id {pk},
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        created {real} NOT NULL,
        format TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        content {blob} NOT NULL
    );
    CREATE TABLE scorecards (
        id {pk},
        scenario TEXT NOT NULL,
        trainee TEXT NOT NULL,
        terminal TEXT,
        created {real} NOT NULL,
        score {real} NOT NULL,
        max_score {real} NOT NULL,
        detail TEXT NOT NULL
    );
    """,
    # v5: training: the site visits trainees dispatched in live scenario runs.
    """
    CREATE TABLE dispatches (
        id {pk},
        terminal TEXT NOT NULL,
        fault TEXT NOT NULL,
        requested {real} NOT NULL,
        requested_by TEXT,
        note TEXT,
        sim_requested {real},
        sim_arrived {real},
        sim_done {real},
        outcome TEXT
    );
    """,
    # v6: the last audit-log seal an engineer's client saw from each terminal, and the host
    # key that sealed it (the one the client's SSH session verified with the host CA).
    """
    CREATE TABLE audit_seals (
        terminal TEXT PRIMARY KEY,
        seq {bigint} NOT NULL,
        hash TEXT NOT NULL,
        seal TEXT NOT NULL,
        host_key TEXT NOT NULL,
        seen {real} NOT NULL
    );
    """,
    # v7: why a maintenance run broke (refused, unreachable, window closed mid-run), kept with
    # the run: a run that broke before any test ran has no result to keep it in.
    """
    ALTER TABLE maintenance_runs ADD COLUMN error TEXT;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def statements(migration: str, types: dict[str, str]) -> list[str]:
    """One migration's statements, in an engine's spelling of the type tokens."""
    text = migration.format(**types)
    return [s.strip() for s in text.split(";") if s.strip()]
