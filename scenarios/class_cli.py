"""``workbench class ...``: a class of trainees, one kiosk each on one scenario (``up``), their
progress (``status``), and stopping a running class from any shell (``stop``)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from scenarios.cli_common import (
    default_state_dir,
    out,
    serve,
    state_dir_hint,
    state_dir_option,
)
from workbench.process_stop import GRACE_S


@click.group("class")
def class_() -> None:
    """A class: one kiosk per trainee on one scenario, grants and handouts, progress, stop."""


@class_.command("up")
@click.option("--scenario", "name", required=True, help="Library scenario name or file.")
@click.option("--trainees", type=click.IntRange(1, 500), required=True, help="How many trainees.")
@click.option("--speed", type=float, default=60.0, show_default=True, help="Time scale.")
@click.option("--hours", type=float, default=1.0, show_default=True, help="Each trainee's window.")
@state_dir_option
def class_up(name: str, trainees: int, speed: float, hours: float, state_dir: Path | None) -> None:
    """Start one kiosk per trainee playing the scenario; write each trainee's grant and handout."""
    import asyncio
    import time

    from scenarios.classroom import Classroom
    from scenarios.library import load

    loaded = load(name)
    state = state_dir or default_state_dir()
    started = time.perf_counter()
    here = state_dir_hint(state)

    async def main(stop: asyncio.Event) -> None:
        async with Classroom(loaded, state, trainees, speed=speed, hours=hours) as room:
            up = time.perf_counter() - started
            s = loaded.scenario
            out.print(
                f"class on {s.name}: {s.title} ({s.severity}), {trainees} trainee(s) at {speed:g}x",
                markup=False,
            )
            for t in room.trainees:
                out.print(f"  {t.name}  {t.terminal}  handout {t.handout}", markup=False)
            out.print(
                f"up in {up:.1f} s; state {room.state_dir}; 'workbench class status{here}' shows "
                f"progress; 'workbench class stop{here}' or Ctrl-C stops it",
                markup=False,
            )
            await stop.wait()
        out.print(f"class stopped; scores: workbench class status{here}", markup=False)

    serve(main)


@class_.command("status")
@state_dir_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def class_status(state_dir: Path | None, as_json: bool) -> None:
    """Each trainee's progress: commands run, faults named, resolution, score so far."""
    from scenarios.classroom import class_pid, read_class
    from scenarios.scoring import score_terminal

    state = state_dir or default_state_dir()
    record = read_class(state)
    pid = class_pid(record, state)
    rows = []
    for t in record["trainees"]:
        card = score_terminal(state, t["terminal"])
        items = {i.name: i for i in card.items}
        rows.append(
            {
                "trainee": t["name"],
                "terminal": t["terminal"],
                "actions": len(card.actions),
                "diagnosed": items["diagnosed"].detail,
                "identified": items["identified"].detail,
                "resolved": items["resolved"].detail,
                "points": card.points,
                "max_points": card.max_points,
            }
        )
    if as_json:
        doc = {"scenario": record["scenario"], "running": pid is not None, "pid": pid}
        out.print(json.dumps(doc | {"trainees": rows}), markup=False)
        return
    running = f"running (process {pid})" if pid is not None else "not running"
    out.print(f"class on {record['scenario']}: {len(rows)} trainee(s), {running}", markup=False)
    for r in rows:
        out.print(
            f"  {r['trainee']}  {r['terminal']}  {r['points']:>3}/{r['max_points']}  "
            f"{r['actions']} actions; {r['diagnosed']}; {r['identified']}; {r['resolved']}",
            markup=False,
        )


@class_.command("stop")
@state_dir_option
@click.option(
    "--grace",
    "grace_s",
    type=click.FloatRange(min=0),
    default=GRACE_S,
    show_default=True,
    help="Seconds to await the class's exit after SIGTERM before killing it.",
)
def class_stop(state_dir: Path | None, grace_s: float) -> None:
    """Stop the class running under the state dir, whichever shell or TUI started it: SIGTERM,
    then SIGKILL if it has not exited after the grace period (what it left is cleaned up)."""
    from scenarios.classroom import stop_class

    state = state_dir or default_state_dir()
    done = stop_class(state, grace_s)
    out.print(
        f"{done.summary()}; scores: workbench class status{state_dir_hint(state)}", markup=False
    )
