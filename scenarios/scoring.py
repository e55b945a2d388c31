"""A trainee's scorecard for a live scenario run, from what actually happened: the agent's audit
log (every command, its exit status, at wall time), the site visits in the records store, and
the device events there (faults raised and cleared, at simulated time), put on the scenario's
simulated clock with the run record that ``scenario.json`` keeps.

Items (points from the scenario's ``scoring.points``): a first diagnostic within
``diagnose_within`` of the ticket; the right faults named (in a remedy or a site-visit request);
the right resolution (the answer's remedies applied, its visits requested); service restored
within the severity's SLA; minus an unnecessary visit, a harmful action or a wrong remedy.
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from devices.catalog import default_catalog
from scenarios.schema import Scenario
from workbench import sla
from workbench.clock import HOUR
from workbench.records import DeviceEvent
from workbench.store import RecordStore

DIAG_COMMANDS = ("status", "diag")


@dataclass(slots=True)
class Item:
    """One line of the scorecard."""

    name: str
    points: int
    max_points: int
    detail: str


@dataclass(slots=True)
class Scorecard:
    """The whole scorecard (JSON-able with :meth:`as_dict`)."""

    scenario: str
    terminal: str
    trainee: str | None
    points: int
    max_points: int
    items: list[Item] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    """What the trainee did, on the simulated clock: ``{"clock", "sim_time", "action", ...}``."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def restore_hours(scenario: Scenario) -> float:
    """The simulated time from the ticket within which service must be restored."""
    if scenario.scoring.restore_within is not None:
        return scenario.scoring.restore_within / HOUR
    terms = sla.TERMS[scenario.severity]
    if terms.onsite_hours is not None and terms.restore_hours_after_arrival is not None:
        return terms.onsite_hours + terms.restore_hours_after_arrival
    return (terms.fix_working_days or 2.0) * 24.0


def _audit_actions(audit: list[dict[str, Any]], to_sim: Any) -> list[dict[str, Any]]:
    """The trainee's commands with their exit status, on the simulated clock."""
    commands: dict[str, dict[str, Any]] = {}
    for rec in audit:
        if rec.get("event") == "command":
            commands[str(rec.get("session"))] = {
                "sim_time": to_sim(float(rec["time"])),
                "command": str(rec.get("command") or ""),
                "engineer": rec.get("engineer"),
                "exit_status": None,
            }
        elif rec.get("event") == "result" and str(rec.get("session")) in commands:
            commands[str(rec.get("session"))]["exit_status"] = rec.get("exit_status")
    return sorted(commands.values(), key=lambda c: c["sim_time"])


def score(
    scenario: Scenario,
    run: dict[str, Any],
    audit: list[dict[str, Any]],
    store: RecordStore,
    *,
    now_sim: float | None = None,
) -> Scorecard:
    """Score one terminal's run; ``now_sim`` is the simulated time to score at (default: the
    latest thing that happened)."""
    catalog = default_catalog()
    points = scenario.scoring.points
    tid = str(run["terminal"])
    speed, wall0, sim0 = float(run["speed"]), float(run["started_wall"]), float(run["started_sim"])
    ticket = float(run["ticket_sim"])

    def to_sim(wall: float) -> float:
        return sim0 + (wall - wall0) * speed

    origin = float(run.get("sim_origin", scenario.start_offset))

    def clock(sim_time: float) -> str:  # a kiosk that was running before: its start is origin
        return scenario.clock_text(sim_time - origin + scenario.start_offset)

    commands = [c for c in _audit_actions(audit, to_sim) if c["sim_time"] >= sim0]
    trainee = next((str(c["engineer"]) for c in commands if c.get("engineer")), None)
    # the records store keeps every run's: a class run again on the same terminal ids
    dispatches = [d for d in store.dispatches(tid) if float(d["requested"]) >= wall0]
    events = [e for e in store.device_events(tid) if e.wall_time >= wall0]
    for d in dispatches:
        if d["sim_requested"] is None:
            d["sim_requested"] = to_sim(float(d["requested"]))
    actions: list[dict[str, Any]] = [
        {
            "sim_time": c["sim_time"],
            "clock": clock(c["sim_time"]),
            "action": c["command"],
            "exit_status": c["exit_status"],
        }
        for c in commands
    ] + [
        {
            "sim_time": d["sim_requested"],
            "clock": clock(d["sim_requested"]),
            "action": f"visit {d['fault']}",
            "outcome": d["outcome"],
        }
        for d in dispatches
    ]
    actions.sort(key=lambda a: a["sim_time"])
    actions = _fold_reads(actions, clock)
    items: list[Item] = []

    # 1. time to first diagnostic
    diags = [c for c in commands if shlex.split(c["command"] or "x")[0] in DIAG_COMMANDS]
    first = diags[0]["sim_time"] if diags else None  # a handout may bring the ticket early
    within = scenario.scoring.diagnose_within
    if first is None:
        items.append(Item("diagnosed", 0, points.diagnosed, "no diagnostic run"))
    else:
        late = first - ticket
        got = points.diagnosed if late <= within else 0
        # before the ticket's time (a class's handout gives it at once): said so, not "0.0 min
        # after the ticket"
        when = f"{abs(late) / 60:.1f} min {'after' if late >= 0 else 'before'} the ticket"
        items.append(
            Item(
                "diagnosed",
                got,
                points.diagnosed,
                f"first diagnostic {when} (within {within / 60:g} min)",
            )
        )

    # 2. the right faults named
    def remedy_of(command: str) -> str:
        """The remedy ``remedy ARG`` applies: ARG, or the remedy of the remote-fixable fault id
        ARG names, as the agent takes it (``remedy system_software.service_crashed`` restarts
        the service)."""
        arg = shlex.split(command)[1]
        mode = catalog.get(arg)
        return mode.remedy if mode and mode.remote_fixable and mode.remedy else arg

    tried = [  # (the remedy, when)
        (remedy_of(c["command"]), float(c["sim_time"]))
        for c in commands
        if c["command"].startswith("remedy ") and len(shlex.split(c["command"])) == 2
    ]
    remedies = [name for name, _ in tried]
    applied_ok = [
        remedy_of(c["command"])
        for c in commands
        if c["command"].startswith("remedy ")
        and len(shlex.split(c["command"])) == 2
        and c["exit_status"] == 0
    ]
    visited = [str(d["fault"]) for d in dispatches]
    answer = scenario.answer

    def names(fault_id: str) -> bool:
        mode = catalog[fault_id]
        return (
            fault_id in visited
            or fault_id in remedies
            or (mode.remedy is not None and mode.remedy in remedies)
        )

    named = [f for f in answer.faults if names(f)]
    items.append(
        Item(
            "identified",
            round(points.identified * len(named) / len(answer.faults)),
            points.identified,
            f"named {len(named)} of {len(answer.faults)}: {', '.join(named) or 'none'}",
        )
    )

    # 3. the right resolution
    done = []
    for action in answer.actions:
        verb, _, arg = action.partition(" ")
        if (verb == "remedy" and arg in applied_ok) or (verb == "visit" and arg in visited):
            done.append(action)
    items.append(
        Item(
            "resolved",
            round(points.resolved * len(done) / len(answer.actions)),
            points.resolved,
            f"{len(done)} of {len(answer.actions)} answer actions: {', '.join(done) or 'none'}",
        )
    )

    # 4. service restored within the SLA (simulated time)
    limit = ticket + restore_hours(scenario) * HOUR
    clears = _clears(events, answer.faults)
    active_now = _active_now(events)
    restored = [
        f for f in answer.faults if f in clears and f not in active_now and clears[f] <= limit
    ]
    if len(restored) == len(answer.faults):
        last = max(clears[f] for f in answer.faults)
        items.append(
            Item(
                "restored",
                points.restored,
                points.restored,
                f"restored at {clock(last)} (limit {clock(limit)})",
            )
        )
    else:
        missing = [f for f in answer.faults if f not in restored]
        items.append(
            Item(
                "restored",
                0,
                points.restored,
                f"not restored by {clock(limit)}: {', '.join(missing)}",
            )
        )

    # 5. penalties
    needed_visits = {a.partition(" ")[2] for a in answer.actions if a.startswith("visit ")}
    for d in dispatches:
        fault_id = str(d["fault"])
        if fault_id in needed_visits:
            continue
        why = _unneeded(fault_id, _active_now(events, float(d["sim_requested"])))
        if why:
            items.append(
                Item("unnecessary_visit", -points.unnecessary_visit, 0, f"visit {fault_id}: {why}")
            )
    for name, tried_at in tried:
        action = f"remedy {name}"
        # the faults it could be for: the answer's, and any active then (one the trainer
        # injected by hand mid-scenario)
        meant = {*answer.faults, *_active_now(events, tried_at)}
        if action in answer.harmful:
            items.append(Item("harmful", -points.harmful, 0, f"{action}: {answer.harmful[action]}"))
        elif action not in answer.actions and not any(
            f == name or getattr(catalog.get(f), "remedy", None) == name for f in meant
        ):
            items.append(
                Item(
                    "wrong_remedy",
                    -points.wrong_remedy,
                    0,
                    f"{action} does not address {', '.join(answer.faults)}",
                )
            )

    max_points = sum(i.max_points for i in items)
    total = max(0, sum(i.points for i in items))
    return Scorecard(scenario.name, tid, trainee, total, max_points, items, actions)


READS = ("status", "logs", "diag list", "window", "help")
"""Commands that only read (a TUI's terminal screen sends status and logs every few seconds)."""


def is_read(command: str) -> str | None:
    """Which of :data:`READS` ``command`` is (None: it is not one)."""
    return next((r for r in READS if command == r or command.startswith(r + " ")), None)


def _is_read(action: dict[str, Any]) -> bool:
    return action.get("exit_status") == 0 and is_read(str(action["action"])) is not None


def _fold_reads(actions: list[dict[str, Any]], clock: Any) -> list[dict[str, Any]]:
    """What was done, with each run of two reads or more between other actions as one entry
    (``status x2, logs x2 (reads, to Tue 09:10:00)``, ``reads`` its count)."""
    out: list[dict[str, Any]] = []
    run: list[dict[str, Any]] = []

    def flush() -> None:
        if len(run) == 1:
            out.append(run[0])
        elif run:
            counts: dict[str, int] = {}
            for a in run:
                name = str(is_read(a["action"]))
                counts[name] = counts.get(name, 0) + 1
            said = ", ".join(name + (f" x{n}" if n > 1 else "") for name, n in counts.items())
            out.append(
                {
                    "sim_time": run[0]["sim_time"],
                    "clock": run[0]["clock"],
                    "action": f"{said} (reads, to {clock(run[-1]['sim_time'])})",
                    "reads": len(run),
                }
            )
        run.clear()

    for a in actions:
        if _is_read(a):
            run.append(a)
            continue
        flush()
        out.append(a)
    flush()
    return out


def _clears(events: list[DeviceEvent], faults: list[str]) -> dict[str, float]:
    """The simulated time each fault was last cleared."""
    out: dict[str, float] = {}
    for e in events:
        fault = (e.detail or {}).get("id")
        if e.kind == "clear" and fault in faults:
            out[fault] = float(e.sim_time)
    return out


def _unneeded(fault_id: str, active: set[str]) -> str | None:
    """Why a site visit the answer does not call for was not needed (None: it was, as for a
    fault the trainer injected by hand that only hands on site repair)."""
    mode = default_catalog().get(fault_id)
    if fault_id not in active or mode is None:
        return "it was not there when the engineer was sent"
    if mode.remote_fixable:
        return f"remote-fixable (remedy {mode.remedy})" if mode.remedy else "remote-fixable"
    return None


def _active_now(events: list[DeviceEvent], until: float | None = None) -> set[str]:
    """Faults raised and not cleared since, by the device events (those up to the simulated
    time ``until``, when given)."""
    active: set[str] = set()
    for e in events:
        if until is not None and e.sim_time > until:
            continue
        fault = str((e.detail or {}).get("id"))
        if e.kind == "fault":
            active.add(fault)
        elif e.kind == "clear":
            active.discard(fault)
    return active


def score_terminal(state_dir: Path, terminal_id: str) -> Scorecard:
    """Score the scenario that runs (or ran) on ``terminal_id`` under ``state_dir``."""
    from remote.audit import read
    from scenarios.library import load
    from scenarios.live import read_run

    run = read_run(state_dir, terminal_id)
    scenario = load(run["source"]).scenario
    audit_path = state_dir / terminal_id / "agent" / "audit.jsonl"
    audit = read(audit_path) if audit_path.exists() else []
    with RecordStore(state_dir / "records.sqlite") as store:
        return score(scenario, run, audit, store)


def store_scorecard(state_dir: Path, card: Scorecard) -> int:
    """Keep a scorecard in the records store; returns its id."""
    import time

    from workbench.records import Scorecard as ScorecardRecord

    record = ScorecardRecord(
        card.scenario,
        card.trainee or "",
        card.terminal,
        time.time(),
        card.points,
        card.max_points,
        card.as_dict(),
    )
    with RecordStore(state_dir / "records.sqlite") as store:
        return store.add_scorecard(record)
