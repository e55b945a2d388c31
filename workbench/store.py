"""The records store: the one place that reads and writes the service organisation's records.

Terminals, device events, receipts, grants, maintenance runs and their results, remedies,
tickets with SLA clocks, archived reports and scorecards, as typed records
(:mod:`workbench.records`). One person's machine keeps them in an SQLite file (WAL mode); a
support organisation shares one PostgreSQL database (``--records postgresql://...`` or
``WORKBENCH_RECORDS``). Both run the same schema (:mod:`workbench.store_schema`), migrated on
open; a store written by a newer workbench is refused rather than guessed at. Every write
is one transaction, so a reader never sees half of a maintenance run.

This module owns the connection, the schema's versions and the terminals' own records (what
they are, what their devices did, the receipts they printed); the remote windows and
maintenance are :mod:`workbench.store_remote`, the service paperwork
:mod:`workbench.store_service`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.errors import StoreError
from workbench.records import DeviceEvent, Receipt, TerminalRecord
from workbench.store_engines import Engine, Row, open_engine
from workbench.store_remote import RemoteRecords
from workbench.store_schema import MIGRATIONS, SCHEMA_VERSION, statements
from workbench.store_service import ServiceRecords
from workbench.store_tables import dump_json, load_json

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


class RecordStore(RemoteRecords, ServiceRecords):
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
                (terminal, profile, dump_json(endpoints), now, now, region, site, accepted),
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
                load_json(r["endpoints"]),
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
                load_json(r["detail"]),
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
