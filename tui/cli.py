"""``workbench tui``: the Textual TUI over the terminals under a state directory.

Textual is an optional extra (``pip install "kiosk-workbench[tui]"``): this module imports it
only once the command runs, so ``workbench --help`` and ``workbench tui --help`` work without it
and the command says which extra to install.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import click
import platformdirs

from workbench.errors import WorkbenchError

DEFAULT_STATE_DIR = Path(platformdirs.user_state_dir("kiosk-workbench"))
EXTRA = "kiosk-workbench[tui]"


def require_textual() -> None:
    """Fail with one line naming the extra when textual is not installed."""
    try:
        importlib.import_module("textual")
    except ImportError:
        raise WorkbenchError(
            f"the TUI needs textual, which is not installed: pip install '{EXTRA}'"
            " (or '.[tui]' in a checkout)"
        ) from None


@click.command()
@click.option(
    "--state-dir",
    envvar="WORKBENCH_STATE_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_STATE_DIR,
    show_default=True,
    help="Where running kiosks keep their endpoints (STATE/ID/endpoints.json) and records "
    "(env WORKBENCH_STATE_DIR).",
)
@click.option(
    "--ca",
    type=click.Path(file_okay=False, path_type=Path),
    help="A CA directory: request windows from inside the TUI (and trust its known_hosts).",
)
@click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Default: beside --cert (KEY-cert.pub), else STATE/engineer.",
)
@click.option(
    "--cert", type=click.Path(dir_okay=False, path_type=Path), help="A window certificate to load."
)
@click.option(
    "--known-hosts",
    envvar="WORKBENCH_KNOWN_HOSTS",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The host CA's @cert-authority line (default CA/known_hosts); env WORKBENCH_KNOWN_HOSTS.",
)
@click.option(
    "--store", type=click.Path(dir_okay=False, path_type=Path), help="Default STATE/records.sqlite."
)
@click.option(
    "--engineer", help="Your name for grants (default USER@workbench, or the cert's key id)."
)
@click.option(
    "--capacity",
    "capacity_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A `capacity run --json` result or a `capacity sweep --out` file to chart on Reports.",
)
@click.option("--ticket", help="The session's reason (a ticket id); asked at start when not given.")
def tui(
    state_dir: Path,
    ca: Path | None,
    key: Path | None,
    cert: Path | None,
    known_hosts: Path | None,
    store: Path | None,
    engineer: str | None,
    ticket: str | None,
    capacity_file: Path | None,
) -> None:
    """The remote engineer's and trainer's TUI: fleet, terminal, window, reports, trainer."""
    require_textual()
    from tui.app import WorkbenchApp
    from tui.live import LiveBackend
    from tui.widgets.capacity_chart import load_capacity

    if not state_dir.is_dir():
        raise click.BadParameter(f"{state_dir}: no such directory", param_hint="--state-dir")
    capacity = load_capacity(capacity_file) if capacity_file is not None else None
    backend = LiveBackend(
        state_dir,
        store=store,
        ca=ca,
        key=key,
        cert=cert,
        known_hosts=known_hosts,
        engineer=engineer,
    )
    app = WorkbenchApp(backend, reason=ticket, capacity=capacity, freeze_gc=True)
    app.run()
    if app.failed is not None:  # the certificate or CA, read after the first frame, was refused
        raise app.failed
