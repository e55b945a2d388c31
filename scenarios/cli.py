"""``workbench scenario ...`` (list, validate, show, run, dispatch, score, replay): the trainer's
and the regression engineer's commands (``start|status|stop`` on a running kiosk are in
:mod:`scenarios.play_cli`, ``workbench class ...`` in :mod:`scenarios.class_cli`). Errors are raised as
:class:`workbench.errors.WorkbenchError` and turned into one line by the workbench CLI.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from scenarios import play_cli
from scenarios.cli_common import default_state_dir, err, out, serve, state_dir_option
from workbench.errors import ConfigError


@click.group()
def scenario() -> None:
    """Fault scenarios: list, validate, run (virtual or live), start on a running kiosk, dispatch,
    score."""


for _command in play_cli.COMMANDS:
    scenario.add_command(_command)


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
    """Check scenario files (or library names) against the schema and the profile each names;
    every problem of a file is one line (FILE:LINE: where: what), then how many; exit 2 when
    any file has one."""
    from scenarios.library import check

    bad = 0
    for f in files:
        loaded, problems = check(f)
        if problems:
            bad += 1
            for problem in problems:
                err.print(problem, markup=False, emoji=False)
            n = len(problems)
            err.print(
                f"workbench: error: {f}: {n} problem{'s' if n > 1 else ''}",
                markup=False,
                emoji=False,
            )
            continue
        assert loaded is not None
        s = loaded.scenario
        out.print(
            f"ok {loaded.source}: {s.name} ({s.severity}, {_count(len(s.timeline), 'step')}, "
            f"{_count(len(s.expect), 'expectation')})",
            markup=False,
        )
    if bad:
        sys.exit(2)


def _count(n: int, thing: str) -> str:
    """``1 step``, ``4 steps``."""
    return f"{n} {thing}{'s' * (n != 1)}"


@scenario.command("show")
@click.argument("name")
@click.option("--answer", is_flag=True, help="Also the answer key (trainers only).")
def scenario_show(name: str, answer: bool) -> None:
    """What a trainee receives: when it happens and the ticket, with when it arrives (the answer
    key with --answer)."""
    from scenarios.library import load

    s = load(name).scenario
    out.print(f"{s.title} ({s.severity}, {s.profile})", markup=False)
    out.print(f"simulated start: {s.started:%A %Y-%m-%d %H:%M}", markup=False)
    arrives = s.clock_text(s.start_offset + s.ticket.at)
    out.print(
        f"ticket at {arrives} ({play_cli.at_text(s.ticket.at)}) from {s.ticket.reporter}:\n"
        f"  {s.ticket.text.strip()}",
        markup=False,
    )
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
    help="Live: support CA directory (default STATE/ca, made when missing; one named here "
    "must exist: workbench remote ca init).",
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

    _refuse_options_of_the_other_mode(live)
    loaded = load(name)
    if live:
        _run_live(loaded, speed, terminal_id, state_dir or default_state_dir(), ca)
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


def _refuse_options_of_the_other_mode(live: bool) -> None:
    """A live-only option given to a virtual run (or --json to a live one) is a usage error:
    'scenario run NAME --speed 5' ran in virtual time as if the speed had been heard."""
    ctx = click.get_current_context()
    flags = {"speed": "--speed", "terminal_id": "--id", "ca": "--ca", "state_dir": "--state-dir"}
    typed = {
        flag
        for name, flag in (flags.items() if not live else [("as_json", "--json")])
        if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
    }
    if typed:
        given = ", ".join(sorted(typed))
        if live:
            raise click.UsageError(f"{given} is for a virtual run; a live run prints its story")
        raise click.UsageError(
            f"{given}: only for a live run (add --live); a virtual run plays in simulated time "
            "as fast as it can, on a kiosk of its own"
        )


def _run_live(
    loaded: Any, speed: float, terminal_id: str, state_dir: Path, ca: Path | None
) -> None:
    import asyncio

    from scenarios.live import LiveScenario
    from workbench.ids import check_terminal_id

    check_terminal_id(terminal_id)
    s = loaded.scenario

    async def main(stop: asyncio.Event) -> None:
        async with LiveScenario(loaded, state_dir, [terminal_id], speed=speed, ca_dir=ca) as live:
            assert live.kiosks is not None
            manifest = live.kiosks.endpoints[terminal_id]
            out.print(
                f"scenario {s.name}: {s.title} ({s.severity}) live at {speed:g}x", markup=False
            )
            out.print(
                f"  terminal {terminal_id}: agent {manifest['agent']}, endpoints {live.kiosks.manifest_path(terminal_id)}",
                markup=False,
            )
            out.print(
                f"  simulated start {s.started:%A %H:%M}; ticket at {s.clock_text(s.start_offset + s.ticket.at)}",
                markup=False,
            )
            out.print(
                f"  grant a trainee: workbench remote grant --ca {live.ca_dir} --terminal {terminal_id} --key KEY.pub",
                markup=False,
            )
            out.print(
                f"  score: workbench scenario score --id {terminal_id} --state-dir {live.state_dir}",
                markup=False,
            )
            out.print("ready; Ctrl-C to stop", markup=False)
            shown = 0
            timeline = live.timelines[terminal_id]
            while not stop.is_set():
                for t, text in timeline.log[shown:]:
                    out.print(f"  {s.clock_text(t)}  {text}", markup=False)
                shown = len(timeline.log)
                try:
                    await asyncio.wait_for(stop.wait(), 0.5)
                except TimeoutError:
                    pass
        out.print("stopped cleanly", markup=False)

    serve(main)


def _only_terminal(state_dir: Path, terminal_id: str | None) -> str:
    """The terminal named, or the only one under ``state_dir`` that ran a scenario."""
    if terminal_id:
        from workbench.ids import check_terminal_id

        return check_terminal_id(terminal_id)
    found = sorted(p.parent.name for p in state_dir.glob("*/scenario.json"))
    if len(found) == 1:
        return found[0]
    if not found:
        raise ConfigError(f"{state_dir}: no scenario has run here; name the terminal with --id")
    raise ConfigError(f"{state_dir}: scenarios ran on {', '.join(found)}; name one with --id")


@scenario.command("dispatch")
@click.argument("fault_id")
@click.option("--id", "terminal_id", help="Terminal (default: the only one with a scenario).")
@state_dir_option
@click.option("--note", help="What the engineer should know.")
def scenario_dispatch(
    fault_id: str, terminal_id: str | None, state_dir: Path | None, note: str | None
) -> None:
    """Send an engineer on site for FAULT_ID (a live scenario run plays the visit)."""
    from devices.catalog import default_catalog
    from scenarios.library import load
    from scenarios.live import read_run
    from workbench.store import RecordStore

    state = state_dir or default_state_dir()
    tid = _only_terminal(state, terminal_id)
    mode = default_catalog()[fault_id]
    run = read_run(state, tid)
    travel = load(run["source"]).scenario.site_visit.travel
    with RecordStore(state / "records.sqlite") as store:
        n = store.add_dispatch(tid, fault_id, requested_by=os.environ.get("USER"), note=note)
    out.print(
        f"dispatch {n}: an engineer goes to {tid} for {fault_id} ({mode.title}); "
        f"travel {travel / 60:g} min, repair about {mode.repair_minutes:g} min (simulated)",
        markup=False,
    )


@scenario.command("score")
@click.option("--id", "terminal_id", help="Terminal (default: the only one with a scenario).")
@state_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the scorecard as JSON.")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write it here (JSON).",
)
def scenario_score(
    terminal_id: str | None, state_dir: Path | None, as_json: bool, out_path: Path | None
) -> None:
    """Score what the trainee did on a terminal's scenario run; keep it in the records store."""
    from scenarios.scoring import score_terminal, store_scorecard

    state = state_dir or default_state_dir()
    if out_path is not None and not out_path.absolute().parent.is_dir():
        # said before the card is stored: it was stored, then the write failed, and the line
        # said nothing of the stored card
        raise ConfigError(f"--out {out_path}: no directory {out_path.absolute().parent}")
    card = score_terminal(state, _only_terminal(state, terminal_id))
    card_id = store_scorecard(state, card)
    doc = card.as_dict()
    if out_path is not None:
        try:
            out_path.write_text(json.dumps(doc, indent=2) + "\n")
        except OSError as exc:
            raise ConfigError(f"{out_path}: cannot write: {exc.strerror}") from None
    if as_json:
        out.print(json.dumps(doc), markup=False)
        return
    who = card.trainee or "nobody connected"
    out.print(
        f"{card.scenario} on {card.terminal} ({who}): {card.points}/{card.max_points}", markup=False
    )
    for item in card.items:
        shown = f"{item.points:+d}" if item.max_points == 0 else f"{item.points}/{item.max_points}"
        out.print(f"  {item.name:18} {shown:>6}  {item.detail}", markup=False)
    out.print("what was done:", markup=False)
    for a in card.actions:
        extra = (
            f" -> {a['outcome']}"
            if a.get("outcome")
            else (f" (exit {a['exit_status']})" if a.get("exit_status") is not None else "")
        )
        out.print(f"  {a['clock']}  {a['action']}{extra}", markup=False)
    out.print(f"scorecard {card_id} stored", markup=False)


@scenario.command("replay")
@click.argument("golden", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("actual", type=click.Path(dir_okay=False, path_type=Path))
def scenario_replay(golden: Path, actual: Path) -> None:
    """Check a run's wire transcript against a golden one; the first divergence, exit 1."""
    from scenarios.transcript import first_divergence, messages, read

    want, got = read(golden)[1], read(actual)[1]
    divergence = first_divergence(want, got)
    if divergence is None:
        sent = messages(got)
        total = sum(len(m) for m in sent.values())
        out.print(
            f"{actual} matches {golden}: {total} messages from the host to "
            f"{len(sent)} devices ({', '.join(sorted(sent))})",
            markup=False,
        )
        return
    out.print(divergence.describe(), markup=False)
    sys.exit(1)
