"""``workbench scenario start|status|stop``: play a scenario on a kiosk that ``workbench kiosk up``
(or a live scenario run) already runs, through the kiosk's control socket
(``scenario.start|status|stop``, :mod:`scenarios.stage`), and show the trainer what it shows in
the TUI: the state, simulated and wall time since the start, the scenario's clock, each step done
or to come (not run, once the trainer stopped it), what happened, the active faults.

The kiosk is ``--id`` under ``--state-dir`` (default: the only kiosk running there), as for
``workbench kiosk status``. Errors are one line: no kiosk running, an unknown scenario, one
already running, a scenario for another profile.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from scenarios.cli_common import default_state_dir, out, state_dir_hint, state_dir_option
from workbench.errors import ConfigError, DeviceError, TransportError

LISTED = 5
"""How many running kiosks an error names before "and N more"."""


def running_kiosk(state_dir: Path, terminal_id: str | None) -> tuple[str, Path]:
    """The kiosk named (or the only one running under ``state_dir``) and its control socket; a
    one-line error when it is not running, or when several run and none is named."""
    from devices.transports.control_client import answers
    from workbench.ids import check_terminal_id

    if terminal_id:
        tid = check_terminal_id(terminal_id)
        path = state_dir / tid / "control.sock"
        if not answers(path):
            raise TransportError(
                f"no kiosk {tid} is running under {state_dir} "
                f"(start it with 'workbench kiosk up --id {tid}')"
            )
        return tid, path
    running = sorted(p.parent.name for p in state_dir.glob("*/control.sock") if answers(p))
    if not running:
        raise TransportError(
            f"no kiosk is running under {state_dir} (start one with 'workbench kiosk up')"
        )
    if len(running) > 1:
        more = f" and {len(running) - LISTED} more" if len(running) > LISTED else ""
        raise ConfigError(
            f"kiosks {', '.join(running[:LISTED])}{more} run under {state_dir}; name one with --id"
        )
    return running[0], state_dir / running[0] / "control.sock"


def _request(tid: str, path: Path, op: str, **fields: Any) -> dict[str, Any]:
    from devices.transports.control_client import request

    try:
        doc: dict[str, Any] = request(path, op, **fields)
    except DeviceError as exc:
        if "unknown op" in str(exc):
            raise DeviceError(
                f"{tid} plays no scenarios: start it with 'workbench kiosk up' "
                "(or 'workbench scenario run --live')"
            ) from None
        raise
    return doc


def at_text(seconds: float) -> str:
    """Simulated seconds from a scenario's start: ``+30:00``, ``+1:05:00``."""
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"+{h}:{m:02d}:{s:02d}" if h else f"+{m}:{s:02d}"


def duration(seconds: float) -> str:
    """``1h05m``, ``12m30s``, ``40s``."""
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def status_lines(doc: dict[str, Any], state_dir: Path | None = None) -> list[str]:
    """A ``scenario.status`` reply as the trainer reads it: a headline, the steps, the log. The
    hint to start a scenario names ``state_dir`` when it is not the default one."""
    tid = doc.get("terminal", "?")
    faults = ", ".join(doc.get("active_faults", [])) or "none"
    if doc.get("state") == "none":
        here = "" if state_dir is None else state_dir_hint(state_dir)
        return [
            f"{tid}: no scenario started (workbench scenario start NAME{here} --id {tid})",
            f"active faults: {faults}",
        ]
    steps = doc.get("steps", [])
    done = sum(bool(s["done"]) for s in steps)
    lines = [
        f"{tid}: {doc['scenario']} ({doc['severity']}) {doc['state']} · "
        f"{duration(doc['elapsed_sim'])} simulated / {duration(doc['elapsed_wall'])} wall at "
        f"{doc['speed']:g}x · now {doc['clock']} · {done}/{len(steps)} steps done",
        f"  {doc['title']}",
    ]
    pending = "not run" if doc.get("state") == "stopped" else "to come"
    lines += [
        f"  {'done   ' if s['done'] else 'waiting' if s.get('waiting') else pending}"
        f"  {at_text(s['at']):>8}  {s['what']}"
        for s in steps
    ]
    lines += [f"  {e['clock']}  {e['text']}" for e in doc.get("log", [])]
    lines += [f"  step error: {e}" for e in doc.get("errors", [])]
    lines.append(f"active faults: {faults}")
    return lines


def _show(doc: dict[str, Any], as_json: bool, state_dir: Path) -> None:
    if as_json:
        out.print(json.dumps(doc), markup=False)
        return
    for line in status_lines(doc, state_dir):
        out.print(line, markup=False)


kiosk_option = click.option(
    "--id", "terminal_id", help="The kiosk (default: the only one running under the state dir)."
)
json_option = click.option("--json", "as_json", is_flag=True, help="The status as one JSON object.")


@click.command("start")
@click.argument("name")
@kiosk_option
@state_dir_option
@json_option
def scenario_start(
    name: str, terminal_id: str | None, state_dir: Path | None, as_json: bool
) -> None:
    """Play scenario NAME (a library name or a .yaml file) from now on a running kiosk."""
    from scenarios.library import load

    loaded = load(name)  # an unknown or broken scenario is refused here, in one line
    state = state_dir or default_state_dir()
    tid, path = running_kiosk(state, terminal_id)
    _request(tid, path, "scenario.start", scenario=str(loaded.source.resolve()))
    _show(_request(tid, path, "scenario.status"), as_json, state)


@click.command("status")
@kiosk_option
@state_dir_option
@json_option
def scenario_status(terminal_id: str | None, state_dir: Path | None, as_json: bool) -> None:
    """What the scenario on a running kiosk has done and has still to do."""
    state = state_dir or default_state_dir()
    tid, path = running_kiosk(state, terminal_id)
    _show(_request(tid, path, "scenario.status"), as_json, state)


@click.command("stop")
@kiosk_option
@state_dir_option
@json_option
def scenario_stop(terminal_id: str | None, state_dir: Path | None, as_json: bool) -> None:
    """Play nothing more of the scenario on a running kiosk (injected faults stay until cleared)."""
    state = state_dir or default_state_dir()
    tid, path = running_kiosk(state, terminal_id)
    now = _request(tid, path, "scenario.status")
    if now.get("state") != "running":
        what = f" ({now['scenario']} {now['state']})" if now.get("scenario") else ""
        raise DeviceError(f"{tid}: no scenario is running{what}")
    _show(_request(tid, path, "scenario.stop"), as_json, state)


COMMANDS = (scenario_start, scenario_status, scenario_stop)
"""Added to the ``scenario`` group by :mod:`scenarios.cli`."""
