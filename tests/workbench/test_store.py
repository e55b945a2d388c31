"""The records store: WAL mode, versioned schema, records survive reopening."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from workbench.errors import StoreError
from workbench.store import SCHEMA_VERSION, RecordStore


def test_fresh_store_is_wal_and_current(tmp_path: Path) -> None:
    with RecordStore(tmp_path / "r.sqlite") as store:
        assert store.version == SCHEMA_VERSION
        assert store.query("PRAGMA journal_mode")[0][0] == "wal"
        store.upsert_terminal("KSK-1", "bill_payment", {"devices": {}})
        store.add_device_event("KSK-1", "printer", 12.5, "fault", {"id": "printer.cover_open"})
        store.add_receipt("KSK-1", 13.0, "THANK YOU")
    with RecordStore(tmp_path / "r.sqlite") as store:
        events = store.query("SELECT device, sim_time, kind, detail FROM device_events")
        assert [tuple(e) for e in events] == [
            ("printer", 12.5, "fault", '{"id": "printer.cover_open"}')
        ]
        assert store.query("SELECT text FROM receipts")[0]["text"] == "THANK YOU"


def test_old_store_is_migrated_without_losing_records(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    db = sqlite3.connect(path)
    from workbench.store import MIGRATIONS

    db.executescript(MIGRATIONS[0])
    db.execute(
        "INSERT INTO receipts (terminal, sim_time, wall_time, text) VALUES ('K', 1, 1, 'kept')"
    )
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    with RecordStore(path) as store:
        assert store.version == SCHEMA_VERSION
        assert store.query("SELECT text FROM receipts")[0]["text"] == "kept"
        assert store.query("SELECT count(*) FROM grants")[0][0] == 0


def test_newer_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer than this workbench knows"):
        RecordStore(path)


def test_garbage_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open records store"):
        RecordStore(path)


def test_maintenance_history_latest_runs_grants_and_sessions(tmp_path: Path) -> None:
    with RecordStore(tmp_path / "r.sqlite") as store:
        ok = {"test": "print_head", "status": "pass", "suspect": None}
        bad = {"test": "display", "status": "warn", "suspect": "display.brightness_low"}
        first = store.add_maintenance_run("K1", "inspection", "al", 1.0, 2.0, "warn", [ok, bad])
        second = store.add_maintenance_run("K1", "quick", "al", 3.0, 4.0, "pass", [ok])
        store.add_maintenance_run("K2", "quick", "bo", 5.0, 6.0, "pass", [ok])
        runs = store.maintenance_runs("K1")
        assert [r.id for r in runs] == [second, first]
        assert runs[1].counts == {"pass": 1, "warn": 1, "fail": 0}
        assert [(f.test, f.status, f.suspect) for f in runs[1].findings] == [
            ("display", "warn", "display.brightness_low")
        ]
        assert {t: r.suite for t, r in store.latest_runs().items()} == {
            "K1": "quick",
            "K2": "quick",
        }
        with store.transaction() as db:
            db.execute(
                "INSERT INTO grants VALUES (1, 'K1,K2', 'al', 'T-1', 'diag', 0, 100, 0), "
                "(2, 'K3', 'al', NULL, 'diag', 0, 50, 0)"
            )
        assert store.active_grants(now=60) == {"K1": 100, "K2": 100}
        sid = store.open_session("al", "INC-7", "tui")
        store.close_session(sid)
        row = store.query("SELECT reason, finished IS NOT NULL AS done FROM work_sessions")[0]
        assert (row["reason"], row["done"]) == ("INC-7", 1)
