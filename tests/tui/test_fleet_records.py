"""A terminal's open faults as its records say (where its status is not read): each test's newest
result, so a remedy's record (its one re-test) does not hide what the run it followed up found,
nor a run that broke before any result what the run before it found."""

from __future__ import annotations

from pathlib import Path

from tui.live import LiveBackend
from workbench.store import RecordStore

T0 = 1_796_000_000.0


def _inspection(store: RecordStore, terminal: str, at: float, **failing: str) -> None:
    results = [
        {"test": t, "status": "fail" if t in failing else "pass", "suspect": failing.get(t)}
        for t in ("display", "print_head", "power")
    ]
    store.add_maintenance_run(terminal, "inspection", "alice@support", at, at + 5, "fail", results)


def _remedy(store: RecordStore, terminal: str, at: float, action: str, test: str, ok: bool) -> None:
    suspect = None if ok else "display.panel_off"
    retest = [{"test": test, "status": "pass" if ok else "fail", "suspect": suspect}]
    outcome = "cleared" if ok else "not cleared"
    store.add_maintenance_run(
        terminal, f"remedy {action}", "alice@support", at, at + 1, outcome, retest
    )


def test_a_remedy_record_keeps_what_the_inspection_before_it_found(tmp_path: Path) -> None:
    with RecordStore(tmp_path / "records.sqlite") as store:
        # KSK-0001: two faults found, one remedied: the other is still open on record
        _inspection(
            store, "KSK-0001", T0, display="display.panel_off", print_head="printer.offline"
        )
        _remedy(store, "KSK-0001", T0 + 60, "display.power_on", "display", ok=True)
        # KSK-0002: the remedy did not clear it: both still open
        _inspection(
            store, "KSK-0002", T0, display="display.panel_off", print_head="printer.offline"
        )
        _remedy(store, "KSK-0002", T0 + 60, "display.power_on", "display", ok=False)
        # KSK-0003: an older fault, then a clean inspection: nothing open, the old record unread
        _inspection(store, "KSK-0003", T0 - 600, print_head="printer.paper_out")
        _inspection(store, "KSK-0003", T0)
        # KSK-0004: the next inspection broke before any result: it says nothing of the fault
        _inspection(store, "KSK-0004", T0 - 600, print_head="printer.paper_out")
        store.add_maintenance_run(
            "KSK-0004", "inspection", "alice@support", T0, T0 + 10, "error", [], "no answer"
        )
    rows = {r.terminal: r for r in LiveBackend(tmp_path).terminals()}
    assert rows["KSK-0001"].faults == ("printer.offline",)
    assert (rows["KSK-0001"].last_outcome, rows["KSK-0001"].last_run) == ("cleared", T0 + 60)
    assert rows["KSK-0002"].faults == ("display.panel_off", "printer.offline")
    assert rows["KSK-0003"].faults == ()
    assert rows["KSK-0004"].faults == ("printer.paper_out",)
    assert rows["KSK-0004"].last_outcome == "error"
