"""Records store figures on both engines, each beside a baseline measured in the same run:

1. a 1,000-terminal fleet inspection's worth of maintenance runs (11 results each) written
   through the records API, one transaction a run as ``remote fleet`` writes them, beside a bare
   driver loop (sqlite3 or psycopg) inserting the same rows into the same tables, one
   transaction a run; then the same runs from 20 writers at once (20 engineers' fleet runs);
2. the quarterly service report of a quarter of a 1,000-terminal fleet (an inspection each,
   ~1.5 tickets a terminal with their SLA clocks), built and rendered to HTML and PDF, beside
   reading the quarter's records alone; and one terminal's inspection report.

PostgreSQL runs as a throwaway server (``initdb`` + ``pg_ctl`` on 127.0.0.1, as the tests start
it; as the ``postgres`` user when run as root) with its durability settings left at their
defaults (``fsync``, ``synchronous_commit`` on); SQLite is the store's WAL file with
``synchronous=NORMAL``.

    .venv/bin/python bench/records_bench.py [--terminals 1000] [--writers 20] [--engines sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from pg_server import PostgresServer, _bindir  # noqa: E402  (the tests' throwaway server)

from devices.catalog import default_catalog  # noqa: E402
from workbench import sla, tickets  # noqa: E402
from workbench.records import ClockRecord, DiagResult, MaintenanceRun, TicketRecord  # noqa: E402
from workbench.reports.inspection import build_inspection  # noqa: E402
from workbench.reports.quarterly import build_quarterly, quarter_bounds  # noqa: E402
from workbench.reports.render import (  # noqa: E402
    inspection_html,
    inspection_pdf,
    quarterly_html,
    quarterly_pdf,
)
from workbench.store import RecordStore  # noqa: E402

QUARTER = "2026Q3"
REGIONS = ("North", "South", "East", "West", "Centre", "Coast")
TESTS = [test for test, _ in sla.CHECKLIST]


def inspection_runs(terminals: int, start: float, seed: int = 1) -> list[MaintenanceRun]:
    """One inspection a terminal, shaped like the diagnostics' results (measurements, hints)."""
    rng = random.Random(seed)
    runs = []
    for i in range(terminals):
        began = start + rng.uniform(0, 80 * 86400)
        results = []
        for test in TESTS:
            status = rng.choices(("pass", "warn", "fail"), (0.93, 0.05, 0.02))[0]
            detail = {
                "measurements": {f"{test}_{k}": round(rng.uniform(0, 100), 2) for k in "abcd"},
                "duration": round(rng.uniform(0.05, 0.6), 3),
                "detail": "" if status == "pass" else f"{test} out of range",
            }
            suspect = None if status == "pass" else f"{test}.worn"
            results.append(DiagResult(test, status, suspect, detail))
        outcome = "fail" if any(r.status == "fail" for r in results) else "pass"
        runs.append(
            MaintenanceRun(
                f"KSK-{i:05d}", "inspection", "bench", began, began + 2.5, outcome, tuple(results)
            )
        )
    return runs


# -- 1. writing runs ---------------------------------------------------------------------
def write_with_store(where: str, runs: list[MaintenanceRun]) -> float:
    with RecordStore(where) as store:
        began = time.perf_counter()
        for run in runs:
            store.add_run(run)
        return time.perf_counter() - began


def _rows(run: MaintenanceRun) -> tuple[tuple[object, ...], list[tuple[str, str, object, str]]]:
    head = (run.terminal, run.suite, run.engineer, run.started, run.finished, run.outcome,
            run.ticket, len(run.results))  # fmt: skip
    return head, [(r.test, r.status, r.suspect, json.dumps(r.detail)) for r in run.results]


RUN_SQL = (
    "INSERT INTO maintenance_runs (terminal, suite, engineer, started, finished, outcome, "
    "ticket, n_results) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}) RETURNING id"
)
RESULT_SQL = (
    "INSERT INTO diag_results (run_id, test, status, suspect, detail) "
    "VALUES ({p}, {p}, {p}, {p}, {p})"
)


def write_bare_sqlite(path: str, runs: list[MaintenanceRun]) -> float:
    """sqlite3 with the store's pragmas: BEGIN IMMEDIATE, the run, its 11 results, COMMIT."""
    RecordStore(path).close()  # the same tables
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    run_sql, result_sql = RUN_SQL.format(p="?"), RESULT_SQL.format(p="?")
    began = time.perf_counter()
    for run in runs:
        head, results = _rows(run)
        db.execute("BEGIN IMMEDIATE")
        (run_id,) = db.execute(run_sql, head).fetchone()
        for r in results:
            db.execute(result_sql, (run_id, *r))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - began
    db.close()
    return elapsed


def write_bare_postgres(url: str, runs: list[MaintenanceRun]) -> float:
    """psycopg, autocommit off per run: the run, its 11 results, COMMIT."""
    import psycopg

    RecordStore(url).close()
    run_sql, result_sql = RUN_SQL.format(p="%s"), RESULT_SQL.format(p="%s")
    with psycopg.connect(url, autocommit=True) as conn:
        began = time.perf_counter()
        for run in runs:
            head, results = _rows(run)
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(run_sql, head)
                row = cur.fetchone()
                assert row is not None
                for r in results:
                    cur.execute(result_sql, (row[0], *r))
        return time.perf_counter() - began


def write_concurrently(where: str, runs: list[MaintenanceRun], writers: int) -> float:
    """``writers`` threads, each with its own connection, writing their share of the runs."""
    RecordStore(where).close()
    shares = [runs[i::writers] for i in range(writers)]
    errors: list[BaseException] = []
    ready = threading.Barrier(writers + 1)
    done = threading.Barrier(writers + 1)

    def work(share: list[MaintenanceRun]) -> None:
        with RecordStore(where) as store:  # a connection of its own, like an engineer's
            ready.wait()
            try:
                for run in share:
                    store.add_run(run)
            except BaseException as exc:  # reported below, never silently lost
                errors.append(exc)
            done.wait()

    threads = [threading.Thread(target=work, args=(share,)) for share in shares]
    for t in threads:
        t.start()
    ready.wait()
    began = time.perf_counter()
    done.wait()
    elapsed = time.perf_counter() - began
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"a writer failed: {errors[0]}")
    with RecordStore(where) as store:
        stored = store.runs()
    if len(stored) != len(runs) or any(len(r.results) != len(TESTS) for r in stored):
        raise SystemExit(f"{where}: {len(stored)} runs stored of {len(runs)}, or some not whole")
    return elapsed


# -- 2. reports ---------------------------------------------------------------------------
def quarter_tickets(terminals: int, start: float, seed: int = 2) -> list[TicketRecord]:
    """About 1.5 tickets a terminal, faults drawn by catalog rate, clocks met, all closed."""
    rng = random.Random(seed)
    modes = [m for m in default_catalog().values() if m.mtbf_hours]
    weights = [1 / (m.mtbf_hours or 1) for m in modes]
    found = []
    for _ in range(int(terminals * 1.5)):
        mode = rng.choices(modes, weights)[0]
        reported = start + rng.uniform(0, 88 * 86400)
        fresh = tickets.new_ticket(
            f"KSK-{rng.randrange(terminals):05d}", str(mode.severity), mode.title, reported,
            source="branch", fault=mode.id,
        )  # fmt: skip
        on_site = not mode.remote_fixable
        arrived = reported + rng.uniform(0.3, 2.5) * 3600
        closed = arrived + mode.repair_minutes * 60 if on_site else reported + 1800
        clocks = []
        for c in fresh.clocks:
            if c.clock == "on_site" and not on_site:
                clocks.append(c)
            elif c.clock == "on_site":
                clocks.append(ClockRecord(c.clock, c.deadline, arrived))
            elif c.clock == "service_restored" and c.deadline is None:
                deadline = tickets.restore_deadline(fresh.severity, arrived)
                clocks.append(ClockRecord(c.clock, deadline, closed))
            else:
                met = min(
                    closed,
                    reported + rng.uniform(0.01, 1.2) * ((c.deadline or reported) - reported),
                )
                clocks.append(ClockRecord(c.clock, c.deadline, max(reported, met)))
        found.append(
            TicketRecord(
                fresh.terminal,
                fresh.severity,
                fresh.summary,
                fresh.source,
                reported,
                "closed",
                fresh.fault,
                closed,
                "repaired",
                {"free": True},
                tuple(clocks),
            )
        )
    return found


def fill_quarter(where: str, terminals: int) -> None:
    start_day, _ = quarter_bounds(QUARTER)
    start = dt.datetime.combine(start_day, dt.time()).astimezone().timestamp()
    with RecordStore(where) as store:
        for i in range(terminals):
            store.describe_terminal(
                f"KSK-{i:05d}", region=REGIONS[i % len(REGIONS)], accepted="2026-01-15"
            )
        for run in inspection_runs(terminals, start, seed=3):
            store.add_run(run)
        for ticket in quarter_tickets(terminals, start):
            store.add_ticket(ticket)


@contextmanager
def timed(into: dict[str, float], name: str) -> Iterator[None]:
    began = time.perf_counter()
    yield
    into[name] = time.perf_counter() - began


def report_times(where: str) -> dict[str, float]:
    times: dict[str, float] = {}
    start_day, _ = quarter_bounds(QUARTER)
    since = dt.datetime.combine(start_day, dt.time()).astimezone().timestamp()
    with RecordStore(where) as store:
        with timed(times, "read"):
            store.tickets(since=since)
            store.runs(since=since)
            store.terminals()
        with timed(times, "build"):
            built = build_quarterly(store, QUARTER)
        with timed(times, "html"):
            quarterly_html(built)
        with timed(times, "pdf"):
            quarterly_pdf(built)
        with timed(times, "inspection"):
            one = build_inspection(store, "KSK-00042")
            inspection_html(one)
            inspection_pdf(one)
    times["tickets"] = float(sum(built.tickets_by_severity.values()))
    times["terminals"] = float(len(built.availability))
    return times


# -- main -------------------------------------------------------------------------------
def engines(names: list[str], tmp: Path) -> Iterator[tuple[str, Callable[[str], str], str]]:
    """(engine, a fresh store location for a name, the bare baseline's location)."""
    if "sqlite" in names:
        yield "sqlite", lambda name: str(tmp / f"{name}.sqlite"), str(tmp / "bare.sqlite")
    if "postgresql" in names:
        bindir = _bindir()
        if bindir is None:
            print("postgresql: skipped (initdb and pg_ctl are not installed)")
            return
        server = DurablePostgres(bindir)
        server.start()
        try:
            yield "postgresql", lambda _name: server.database(), server.database()
        finally:
            server.stop()


class DurablePostgres(PostgresServer):
    """The tests' throwaway server with PostgreSQL's own durability defaults (fsync on)."""

    durable = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=1000)
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    start_day, _ = quarter_bounds(QUARTER)
    start = dt.datetime.combine(start_day, dt.time()).astimezone().timestamp()
    runs = inspection_runs(args.terminals, start)
    rows = len(runs) * (1 + len(TESTS))
    print(f"{len(runs)} inspection runs of {len(TESTS)} results ({rows:,} rows) on each engine")
    with tempfile.TemporaryDirectory(prefix="wb-records-bench-") as d:
        began = time.perf_counter()
        with RecordStore(Path(d) / "empty.sqlite") as empty:  # imports, fonts, first chart
            first = build_quarterly(empty, QUARTER)
            quarterly_html(first)
            quarterly_pdf(first)
        print(
            f"first report in a process (matplotlib, jinja2, fpdf2 loaded; empty quarter): "
            f"{time.perf_counter() - began:.2f} s; the figures below are after it"
        )
        for engine, fresh, bare in engines(args.engines.split(","), Path(d)):
            baseline = (write_bare_sqlite if engine == "sqlite" else write_bare_postgres)(
                bare, runs
            )
            api = write_with_store(fresh("api"), runs)
            many = write_concurrently(fresh("many"), runs, args.writers)
            print(
                f"{engine}: records API {len(runs) / api:,.0f} runs/s ({rows / api:,.0f} rows/s, "
                f"{api:.2f} s); bare driver loop {len(runs) / baseline:,.0f} runs/s "
                f"({baseline:.2f} s): API at {baseline / api:.0%} of bare"
            )
            print(
                f"{engine}: {args.writers} writers at once {len(runs) / many:,.0f} runs/s "
                f"({many:.2f} s), every run whole"
            )
            where = fresh("quarter")
            fill_quarter(where, args.terminals)
            t = report_times(where)
            total = t["build"] + t["html"] + t["pdf"]
            print(
                f"{engine}: quarterly report {QUARTER}, {t['terminals']:.0f} terminals, "
                f"{t['tickets']:.0f} tickets: {total:.2f} s (build {t['build']:.2f}, HTML "
                f"{t['html']:.2f}, PDF {t['pdf']:.2f}); reading the quarter's records alone "
                f"{t['read']:.2f} s; one inspection report (HTML + PDF) {t['inspection']:.2f} s"
            )


if __name__ == "__main__":
    main()
