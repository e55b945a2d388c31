"""What the remote commands share: the options naming an engineer's key, certificate, trust and
records, and how a diagnostic's JSON lines, a run's summary and the window's time left read on
the console."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from workbench.console import err, out

STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "error": "red", "cut off": "magenta"}
"""The console colour of a result's status or a run's outcome."""


def records_option(default: str | None) -> Any:
    """``--records FILE|URL`` (alias ``--store``, or ``$WORKBENCH_RECORDS``): where records go."""
    where = f"default {default}" if default else "none unless given"
    return click.option(
        "--records",
        "--store",
        "store",
        envvar="WORKBENCH_RECORDS",
        metavar="FILE|URL",
        help=f"Records store: an SQLite file or a postgresql:// URL ({where}).",
    )


known_hosts_option = click.option(
    "--known-hosts",
    envvar="WORKBENCH_KNOWN_HOSTS",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File with the host CA's @cert-authority line (CA/known_hosts); env WORKBENCH_KNOWN_HOSTS.",
)
key_option = click.option(
    "--key",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Engineer's private key.",
)
cert_option = click.option(
    "--cert",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Window certificate.",
)


def print_line(line: dict[str, Any]) -> None:
    """One JSON line of an agent command, as a console line (results, summary, errors)."""
    event = line.get("event")
    if event == "result":
        status = str(line.get("status"))
        meas = ", ".join(
            f"{k} {v.get('value')} {v.get('unit', '')}".strip()
            if isinstance(v, dict)
            else f"{k} {v}"
            for k, v in (line.get("measurements") or {}).items()
        )
        suspect = f"  suspect {line['suspect']}" if line.get("suspect") else ""
        hint = f"  -> {line['remedy']}" if line.get("remedy") else ""
        why = f"  {line.get('detail')}" if status == "error" else ""
        out.print(
            f"[{STYLE.get(status, 'white')}]{status:>4}[/] {line.get('test')}  {meas}{suspect}{hint}{why}"
        )
    elif event == "summary":
        out.print(summary(line))
    elif event == "queued":
        err.print(f"{line.get('message')}", markup=False)
    elif event in ("error", "window_closed"):
        err.print(f"[red]{event}[/]: {line.get('error') or line.get('message')}")


def window_line(identity: Any) -> str:
    """``window: valid until 14:32 [47m left]; it counts from signing (13:32), not from first
    use``."""
    from remote.window_text import clock, window_left

    info = identity.info
    return (
        f"window: {window_left(info.valid_before)}; it counts from signing ({clock(info.valid_after)}), "
        "not from first use"
    )


def summary(counts: dict[str, Any]) -> str:
    """``summary: 10 pass, 1 warn, 0 fail`` (and ``, N error`` when a test could not run)."""
    text = f"summary: {counts.get('pass', 0)} pass, {counts.get('warn', 0)} warn, {counts.get('fail', 0)} fail"
    return text + (f", {counts['error']} error" if counts.get("error") else "")
