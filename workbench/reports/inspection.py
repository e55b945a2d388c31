"""The inspection report: what an engineer hands a site after the quarterly inspection of one
terminal, built from the stored records of that inspection run.

Each of the 11 checklist items carries its result and measurements as the diagnostic returned
them; remedies applied after the run (and their re-tests) are listed; items that still fail or
warn after any remedy become the parts to replace or the on-site work; a signature block
closes it. Nothing here is re-measured: the report is the record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from workbench import sla
from workbench.errors import StoreError
from workbench.records import MaintenanceRun, TerminalRecord
from workbench.store import RecordStore

REMEDY_WINDOW_S = 4 * 3600.0
"""Remedies applied within this long after the inspection started belong to its report."""


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One item of the checklist as inspected."""

    number: int
    test: str
    what: str
    status: str
    measurements: dict[str, Any]
    suspect: str | None
    finding: str
    remedy_hint: str | None


@dataclass(frozen=True, slots=True)
class RemedyLine:
    """A remedy applied after the inspection, and what its re-test said."""

    action: str
    engineer: str | None
    when: float
    outcome: str | None


@dataclass(frozen=True, slots=True)
class InspectionReport:
    """Everything one terminal's inspection report shows."""

    terminal: TerminalRecord | None
    terminal_id: str
    run: MaintenanceRun
    items: tuple[ChecklistItem, ...]
    remedies: tuple[RemedyLine, ...]
    to_replace: tuple[ChecklistItem, ...]
    generated: float
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """``pass`` when every item passes after remedies, else what is left."""
        if not self.to_replace:
            return "pass"
        worst = "fail" if any(i.status == "fail" for i in self.to_replace) else "warn"
        return worst

    @property
    def when(self) -> str:
        return dt.datetime.fromtimestamp(self.run.started).strftime("%Y-%m-%d %H:%M")


def _pick_run(store: RecordStore, terminal: str, run_id: int | None) -> MaintenanceRun:
    if run_id is not None:
        run = store.run(run_id)
        if run is None or run.terminal != terminal:
            raise StoreError(f"no maintenance run #{run_id} of {terminal} in {store.engine.where}")
        return run
    runs = [r for r in store.runs(terminal) if r.suite == "inspection"]
    if not runs:
        raise StoreError(
            f"{terminal} has no inspection on record in {store.engine.where} "
            "(run one: workbench remote run ... inspection)"
        )
    return runs[-1]


def build_inspection(
    store: RecordStore, terminal: str, run_id: int | None = None, *, now: float | None = None
) -> InspectionReport:
    """The report of a terminal's inspection run (its latest, unless ``run_id`` is given)."""
    run = _pick_run(store, terminal, run_id)
    by_test = {r.test: r for r in run.results}
    items = []
    for number, (test, what) in enumerate(sla.CHECKLIST, 1):
        result = by_test.get(test)
        if result is None:
            items.append(ChecklistItem(number, test, what, "not run", {}, None, "", None))
            continue
        items.append(
            ChecklistItem(
                number,
                test,
                what,
                result.status,
                dict(result.detail.get("measurements") or {}),
                result.suspect,
                str(result.detail.get("detail") or ""),
                result.detail.get("remedy"),
            )
        )
    later = [
        r
        for r in store.runs(terminal, since=run.started)
        if r.suite.startswith("remedy ") and r.started <= run.started + REMEDY_WINDOW_S
    ]
    remedies = tuple(
        RemedyLine(r.suite.removeprefix("remedy "), r.engineer, r.started, r.outcome) for r in later
    )
    # A later quick check or re-test that passes a test clears that item's finding.
    retested = {
        res.test: res.status
        for r in store.runs(terminal, since=run.started)
        if r.id != run.id and r.started <= run.started + REMEDY_WINDOW_S
        for res in r.results
    }
    to_replace = tuple(
        i for i in items if i.status in ("fail", "warn") and retested.get(i.test) != "pass"
    )
    notes = [] if len(by_test) >= len(sla.CHECKLIST) else ["some checklist items were not run"]
    return InspectionReport(
        store.terminal(terminal),
        terminal,
        run,
        tuple(items),
        remedies,
        to_replace,
        dt.datetime.now().timestamp() if now is None else now,
        notes,
    )
