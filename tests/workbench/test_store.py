"""The records store on both engines: versioned schema, typed records that survive reopening,
whole maintenance runs under concurrent writers, and clear errors for a store it cannot use."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from workbench.errors import StoreError
from workbench.records import (
    ClockRecord,
    DiagResult,
    GrantRecord,
    MaintenanceRun,
    RemedyRecord,
    ReportRecord,
    Scorecard,
    TicketRecord,
)
from workbench.store import MIGRATIONS, SCHEMA_VERSION, RecordStore


def _run(terminal: str, n: int, started: float = 100.0) -> MaintenanceRun:
    results = tuple(
        DiagResult(
            f"test{i}", "pass" if i else "fail", None if i else "printer.paper_out", {"i": i}
        )
        for i in range(n)
    )
    return MaintenanceRun(terminal, "inspection", "eng", started, started + 2, "fail", results)


def test_records_survive_reopening(records_url: str) -> None:
    with RecordStore(records_url) as store:
        assert store.version == SCHEMA_VERSION
        store.upsert_terminal("KSK-1", "bill_payment", {"devices": {}}, region="East")
        store.upsert_terminal("KSK-1", "bill_payment", {"devices": {"x": 1}}, accepted="2026-01-05")
        store.add_device_event("KSK-1", "printer", 12.5, "fault", {"id": "printer.cover_open"})
        store.add_receipt("KSK-1", 13.0, "THANK YOU")
        store.add_grant(GrantRecord(7, ("KSK-1",), "eng", "T-1", ("diag",), 1.0, 3601.0, 1.0))
        run_id = store.add_run(_run("KSK-1", 11))
        store.add_remedy(RemedyRecord("KSK-1", "display.set_brightness", "eng", 5.0, True, "pass"))
    with RecordStore(records_url) as store:
        (terminal,) = store.terminals()
        assert (terminal.region, terminal.accepted, terminal.endpoints) == (
            "East",
            "2026-01-05",
            {"devices": {"x": 1}},
        )
        (event,) = store.device_events("KSK-1")
        assert (event.device, event.sim_time, event.kind, event.detail) == (
            "printer",
            12.5,
            "fault",
            {"id": "printer.cover_open"},
        )
        assert [r.text for r in store.receipts("KSK-1")] == ["THANK YOU"]
        assert store.grants("KSK-1")[0].allow == ("diag",)
        assert store.grants("KSK-2") == []
        run = store.run(run_id)
        assert run is not None and len(run.results) == 11
        assert run.results[0] == DiagResult("test0", "fail", "printer.paper_out", {"i": 0})
        assert [r.id for r in store.runs("KSK-1")] == [run_id]
        assert store.remedies("KSK-1")[0].cleared is True


def test_tickets_clocks_reports_scorecards(records_url: str) -> None:
    with RecordStore(records_url) as store:
        number = store.add_ticket(
            TicketRecord(
                "KSK-1",
                "P2",
                "validator jams",
                "branch",
                1000.0,
                fault="bill_validator.unsafe_jam",
                clocks=(ClockRecord("contact", 1300.0), ClockRecord("on_site", 8200.0)),
            )
        )
        assert store.meet_clock(number, "contact", 1100.0) is True
        assert store.meet_clock(number, "contact", 1200.0) is False  # met once, kept
        store.close_ticket(number, 9000.0, "validator cleaned", {"free": True})
        ticket = store.ticket(number)
        assert ticket.status == "closed" and ticket.billing == {"free": True}
        assert [(c.clock, c.met) for c in ticket.clocks] == [("contact", 1100.0), ("on_site", None)]
        with pytest.raises(StoreError, match="no ticket #999"):
            store.close_ticket(999, 1.0, "x", None)
        rid = store.add_report(ReportRecord("inspection", "KSK-1", 5.0, "html", "ab", b"<p>\x00"))
        assert store.reports("inspection", "KSK-1")[0].content == b"<p>\x00"
        assert store.reports()[0].id == rid
        store.add_scorecard(Scorecard("paper_out", "trainee1", "KSK-1", 1.0, 8.0, 10.0, {"a": 1}))
        assert store.scorecards("paper_out")[0].detail == {"a": 1}


def _writer(url: str, engineer: int, runs: int) -> None:
    with RecordStore(url) as store:
        for i in range(runs):
            store.add_run(_run(f"KSK-{engineer:02d}", 11, started=float(i)))


def test_twenty_engineers_write_at_once_and_no_one_sees_half_a_run(records_url: str) -> None:
    # Each engineer has a connection of its own, as separate processes would.
    failures: list[BaseException] = []

    def write(engineer: int) -> None:
        try:
            _writer(records_url, engineer, 5)
        except BaseException as exc:  # reported below
            failures.append(exc)

    writers = [threading.Thread(target=write, args=(e,)) for e in range(20)]
    for w in writers:
        w.start()
    partial = 0
    with RecordStore(records_url) as reader:
        for w in writers:
            while w.is_alive():  # read while the writers write
                partial += sum(len(r.results) != 11 for r in reader.runs())
                w.join(timeout=0.05)
        runs = reader.runs()
    assert failures == []
    assert partial == 0
    assert len(runs) == 100
    assert {r.terminal for r in runs} == {f"KSK-{e:02d}" for e in range(20)}
    assert all(len(r.results) == 11 for r in runs)


def test_a_new_sqlite_store_opened_by_several_at_once_opens_for_all(tmp_path: Path) -> None:
    """The TUI's start-up opens the store from two threads, and the first time the file is
    new: every opener gets the store (SQLite does not wait on its own for the WAL switch)."""
    failures: list[BaseException] = []
    for attempt in range(40):
        path = tmp_path / f"r{attempt}.sqlite"
        start = threading.Barrier(4)

        def open_store(path: Path = path, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                with RecordStore(path) as store:
                    store.grants()
            except BaseException as exc:  # reported below
                failures.append(exc)

        openers = [threading.Thread(target=open_store) for _ in range(4)]
        for o in openers:
            o.start()
        for o in openers:
            o.join()
    assert failures == []


def test_old_sqlite_store_is_migrated_without_losing_records(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    db = sqlite3.connect(path)
    v1 = MIGRATIONS[0].format(pk="INTEGER PRIMARY KEY", real="REAL", bigint="INTEGER", blob="BLOB")
    db.executescript(v1)
    db.execute(
        "INSERT INTO receipts (terminal, sim_time, wall_time, text) VALUES ('K', 1, 1, 'kept')"
    )
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    with RecordStore(path) as store:
        assert store.version == SCHEMA_VERSION
        assert [r.text for r in store.receipts("K")] == ["kept"]
        assert store.grants() == []
        assert store.query("PRAGMA journal_mode")[0]["journal_mode"] == "wal"


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


def test_unreachable_postgres_is_one_line_without_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        RecordStore("postgresql://eng:s3cret@127.0.0.1:1/records")
    message = str(caught.value)
    assert "cannot open records store" in message and "\n" not in message
    assert "s3cret" not in message and "eng:***@127.0.0.1:1" in message


def test_unknown_url_scheme_is_refused() -> None:
    with pytest.raises(StoreError, match="unknown records store"):
        RecordStore("mysql://x/y")


def test_maintenance_history_latest_runs_grants_and_sessions(records_url: str) -> None:
    with RecordStore(records_url) as store:
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
        store.add_grant(GrantRecord(1, ("K1", "K2"), "al", "T-1", ("diag",), 0, 100, 0))
        store.add_grant(GrantRecord(2, ("K3",), "al", None, ("diag",), 0, 50, 0))
        assert store.active_grants(now=60) == {"K1": 100, "K2": 100}
        sid = store.open_session("al", "INC-7", "tui")
        store.close_session(sid)
        (session,) = store.sessions()
        assert (session["reason"], session["finished"] is not None) == ("INC-7", True)


def test_why_an_error_run_could_not_run_is_kept(records_url: str) -> None:
    """A run that broke before any test (refused, unreachable) keeps its reason with the run; a
    test that could not be carried out keeps its own; both read back after reopening."""
    why = "K1 at 127.0.0.1:2222: the agent refused this certificate (expired: closed at 14:32)"
    untested = {
        "test": "ups_battery",
        "status": "error",
        "suspect": None,
        "detail": "not tested: [Errno 111] Connection refused",
    }
    failing = {"test": "print_head", "status": "fail", "suspect": "printer.head_dirty"}
    with RecordStore(records_url) as store:
        refused = store.add_maintenance_run("K1", "inspection", "al", 1.0, 1.5, "error", [], why)
        partial = store.add_maintenance_run(
            "K1", "inspection", "al", 2.0, 3.0, "fail", [failing, untested]
        )
        clean = store.add_maintenance_run("K1", "quick", "al", 4.0, 5.0, "pass", [])
    with RecordStore(records_url) as store:
        runs = {r.id: r for r in store.maintenance_runs("K1")}
    assert (runs[refused].error, runs[refused].what_went_wrong()) == (why, why)
    assert runs[partial].error is None
    assert runs[partial].what_went_wrong() == (
        "print_head fail: printer.head_dirty; "
        "ups_battery error (not tested: [Errno 111] Connection refused)"
    )
    assert runs[clean].what_went_wrong() == ""


def test_runs_recorded_before_the_error_column_read_back_without_one(records_url: str) -> None:
    """A store at schema 6 (no ``maintenance_runs.error``) is migrated on open, on either engine;
    its runs keep their results and read as having no run error."""
    from workbench.store_engines import open_engine
    from workbench.store_schema import statements

    engine = open_engine(records_url)
    try:
        for version, migration in enumerate(MIGRATIONS[:6]):
            with engine.transaction() as tx:
                for statement in statements(migration, engine.types):
                    tx.execute(statement)
                engine.set_schema_version(tx, version + 1)
        with engine.transaction() as tx:
            tx.execute(
                "INSERT INTO maintenance_runs (terminal, suite, engineer, started, finished, "
                "outcome, n_results) VALUES ('K1', 'quick', 'al', 1, 2, 'pass', 0)"
            )
    finally:
        engine.close()
    with RecordStore(records_url) as store:
        assert store.version == SCHEMA_VERSION
        (old,) = store.maintenance_runs("K1")
        assert (old.suite, old.outcome, old.error) == ("quick", "pass", None)
        new = store.add_maintenance_run("K1", "quick", "al", 3, 4, "error", [], "unreachable")
        reread = store.run(new)
        assert reread is not None and reread.error == "unreachable"
