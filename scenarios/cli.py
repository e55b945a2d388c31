"""``workbench scenario ...`` (list, validate, run, score, dispatch) and ``workbench class ...``:
the trainer's and the regression engineer's commands. Errors are raised as
:class:`workbench.errors.WorkbenchError` and turned into one line by the workbench CLI.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from workbench.errors import ConfigError, WorkbenchError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def default_state_dir() -> Path:
    """``WORKBENCH_STATE_DIR`` when set, else the platform's state directory."""
    env = os.environ.get("WORKBENCH_STATE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_state_dir("kiosk-workbench"))


state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the kiosks keep endpoints and records (env WORKBENCH_STATE_DIR).",
)


@click.group()
def scenario() -> None:
    """Fault scenarios: list, validate, run (virtual or live), dispatch, score."""


@scenario.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def scenario_list(as_json: bool) -> None:
    """The scenarios in the library."""
    from scenarios.library import available, load

    rows = []
    for name in available():
        s = load(name).scenario
        rows.append(
            {
                "name": s.name,
                "severity": str(s.severity),
                "profile": s.profile,
                "start": s.start,
                "title": s.title,
                "tags": s.tags,
            }
        )
    if as_json:
        out.print(json.dumps(rows), markup=False)
        return
    out.print(f"scenario library: {len(rows)} scenarios", markup=False)
    width = max(len(r["name"]) for r in rows) if rows else 4
    for r in rows:
        out.print(
            f"  {r['name']:{width}}  {r['severity']}  {r['profile']:12}  {r['start']:15}  {r['title']}",
            markup=False,
        )


@scenario.command("validate")
@click.argument("files", nargs=-1, required=True)
def scenario_validate(files: tuple[str, ...]) -> None:
    """Check scenario files (or library names); one line each, exit 2 when any is wrong."""
    from scenarios.library import load

    bad = 0
    for f in files:
        try:
            loaded = load(f)
        except WorkbenchError as exc:
            bad += 1
            err.print(f"workbench: error: {exc}", markup=False, emoji=False)
            continue
        s = loaded.scenario
        out.print(
            f"ok {loaded.source}: {s.name} ({s.severity}, {len(s.timeline)} steps, "
            f"{len(s.expect)} expectations)",
            markup=False,
        )
    if bad:
        sys.exit(2)


@scenario.command("show")
@click.argument("name")
@click.option("--answer", is_flag=True, help="Also the answer key (trainers only).")
def scenario_show(name: str, answer: bool) -> None:
    """What a trainee receives: when it happens and the ticket (the answer key with --answer)."""
    from scenarios.library import load

    s = load(name).scenario
    out.print(f"{s.title} ({s.severity}, {s.profile})", markup=False)
    out.print(f"simulated start: {s.started:%A %Y-%m-%d %H:%M}", markup=False)
    out.print(f"ticket from {s.ticket.reporter}:\n  {s.ticket.text.strip()}", markup=False)
    if answer:
        out.print(f"answer: faults {', '.join(s.answer.faults)}", markup=False)
        out.print(f"        actions {', '.join(s.answer.actions)}", markup=False)
        if s.answer.explanation:
            out.print(f"        {s.answer.explanation.strip()}", markup=False)


@scenario.command("run")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="The run as one JSON object.")
@click.option("--live", is_flag=True, help="Live time: a kiosk with an SSH agent for a trainee.")
@click.option("--speed", type=float, default=60.0, show_default=True, help="Live: time scale.")
@click.option(
    "--id", "terminal_id", default="KSK-0001", show_default=True, help="Live: terminal id."
)
@state_dir_option
@click.option(
    "--ca",
    type=click.Path(file_okay=False, path_type=Path),
    help="Live: support CA directory (default STATE/ca, made when missing).",
)
def scenario_run(
    name: str,
    as_json: bool,
    live: bool,
    speed: float,
    terminal_id: str,
    state_dir: Path | None,
    ca: Path | None,
) -> None:
    """Run a scenario in virtual time (checks its expectations; exit 1 on a failure), or --live."""
    from scenarios.library import load

    loaded = load(name)
    if live:
        from scenarios.live import run_live_cli

        run_live_cli(loaded, speed, terminal_id, state_dir or default_state_dir(), ca, out)
        return
    from scenarios.runner import run_virtual

    run = run_virtual(loaded)
    s = loaded.scenario
    if as_json:
        doc: dict[str, Any] = {
            "scenario": s.name,
            "ok": run.ok,
            "sim_seconds": run.sim_seconds,
            "wall_seconds": run.wall_seconds,
            "log": [{"sim_time": t, "clock": s.clock_text(t), "text": x} for t, x in run.log],
            "checks": [
                {
                    "expect": c.index,
                    "kind": c.kind,
                    "clock": s.clock_text(c.at),
                    "ok": c.ok,
                    "detail": c.detail,
                }
                for c in run.checks
            ],
            "active": run.active,
            "app": run.app,
            "errors": run.errors,
        }
        out.print(json.dumps(doc), markup=False)
    else:
        out.print(f"{s.name}: {s.title} ({s.severity}, profile {s.profile})", markup=False)
        for t, text in run.log:
            out.print(f"  {s.clock_text(t)}  {text}", markup=False)
        for c in run.checks:
            mark = "ok  " if c.ok else "FAIL"
            out.print(f"  {mark} {s.clock_text(c.at)}  {c.kind}: {c.detail}", markup=False)
        for e in run.errors:
            out.print(f"  FAIL step: {e}", markup=False)
        verdict = "passed" if run.ok else "FAILED"
        out.print(
            f"{verdict}: {sum(c.ok for c in run.checks)}/{len(run.checks)} expectations, "
            f"{run.sim_seconds / 3600:g} h simulated in {run.wall_seconds:.2f} s",
            markup=False,
        )
    if not run.ok:
        sys.exit(1)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)
