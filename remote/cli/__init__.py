"""The remote package's command line, one module per concept, assembled here: ``workbench
remote ...`` (the window authority in :mod:`~remote.cli.authority`, runs and the fleet in
:mod:`~remote.cli.runs`, remedies and history in :mod:`~remote.cli.maintenance`, the audit log
in :mod:`~remote.cli.audit_log`), ``workbench agent --config FILE`` (:mod:`~remote.cli.serve`)
and ``workbench diag ...`` (:mod:`~remote.cli.local_diag`); also runnable as ``python -m
remote.cli``."""

from __future__ import annotations

from typing import NoReturn

import click

from remote.cli.audit_log import audit
from remote.cli.authority import ca, grant, host_cert, inspect
from remote.cli.local_diag import diag
from remote.cli.maintenance import history_cmd, remedy_cmd
from remote.cli.runs import exec_cmd, fleet, run_cmd
from remote.cli.serve import agent
from workbench.console import run_cli

__all__ = ["agent", "diag", "main", "remote"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def remote() -> None:
    """Remote windows: certificate authority, grants, runs, remedies, history, fleet fan-out and
    audit."""


for _command in (ca, grant, host_cert, inspect, run_cmd, exec_cmd, fleet, remedy_cmd, history_cmd):
    remote.add_command(_command)
remote.add_command(audit)


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point for ``python -m remote.cli`` (``argv``: its arguments, the command line's by
    default): errors become one line and an exit code."""
    run_cli(click.Group(commands={"remote": remote, "agent": agent}), label="", argv=argv)
