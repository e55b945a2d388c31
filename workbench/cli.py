"""The ``workbench`` command line: the composition root, the only kernel module that imports the
other packages (lazily, per command), and the output layer that turns errors into one line.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
from pathlib import Path
from typing import Any, NoReturn

import click
import platformdirs
from rich.table import Table

from workbench.console import out, run_cli

DEFAULT_STATE_DIR = Path(platformdirs.user_state_dir("kiosk-workbench"))


class LazyGroup(click.Group):
    """A group whose heavy subcommands (capacity, remote...) are imported only when used."""

    def __init__(
        self, *args: Any, lazy: dict[str, tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}
        """name -> ("module:attribute", short help shown without importing the module)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, _, attr = self.lazy[cmd_name][0].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
            if cmd_name == "capacity":
                ctx.ensure_object(dict).update(_capacity_inputs())
            elif cmd_name == "ticket":
                ctx.ensure_object(dict).update(_ticket_inputs())
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                rows.append((name, self.lazy[name][1]))
            elif (cmd := super().get_command(ctx, name)) is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _capacity_inputs() -> dict[str, Any]:
    """The fault catalog and each shipped profile's catalog devices, for the capacity model."""
    from devices import profiles
    from devices.catalog import default_catalog
    from devices.registry import KINDS

    devices_of = {}
    for name in profiles.available():
        prof = profiles.load_profile(name)
        devices_of[name] = [d for k in prof.devices for d in KINDS[k].catalog_devices]
    return {"catalog": default_catalog(), "profiles": devices_of}


def _ticket_inputs() -> dict[str, Any]:
    """The fault catalog, loaded only when a ticket names a fault, to check the id against."""
    from devices.catalog import default_catalog

    return {"fault_catalog": default_catalog}


@click.group(
    cls=LazyGroup,
    lazy={
        "capacity": (
            "workbench.capacity.cli:capacity",
            "Capacity planning: does the SLA hold, how many engineers.",
        ),
        "remote": (
            "remote.cli:remote",
            "Remote window: CA, grants, diagnostics over SSH, remedies, history, fleet, audit.",
        ),
        "agent": ("remote.cli:agent", "Run the SSH agent of a real terminal from a config file."),
        "diag": ("remote.cli:diag", "Run the checklist diagnostics locally, without SSH."),
        "scenario": (
            "scenarios.cli:scenario",
            "Fault scenarios: list, validate, run, start/stop on a running kiosk, dispatch, score.",
        ),
        "tui": ("tui.cli:tui", "The remote engineer's and trainer's terminal UI (Textual)."),
        "ticket": ("workbench.ticket_cli:ticket", "Tickets with SLA clocks and warranty."),
        "kiosk": (
            "scenarios.kiosk_cli:kiosk",
            "Run simulated kiosks and drive them (faults, customer stimuli, wire faults).",
        ),
        "class": (
            "scenarios.class_cli:class_",
            "A class: one kiosk per trainee on a scenario, grants, handouts, progress, stop.",
        ),
        "report": ("workbench.reports.cli:report", "Inspection and quarterly service reports."),
    },
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@click.version_option(package_name="kiosk-workbench")
def cli(verbose: int) -> None:
    """Kiosk workbench: simulated kiosks, remote diagnostics, training scenarios, capacity planning."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # pymodbus warns of every refused connection, which the diagnostics report in their own one
    # line ("Modbus TCP connection refused"): its warnings show from -v on.
    logging.getLogger("pymodbus").setLevel(level if verbose else logging.ERROR)


# -- faults ---------------------------------------------------------------------------------
@cli.group()
def faults() -> None:
    """The fault catalog."""


@faults.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--device", help="Only this device's faults.")
def faults_list(as_json: bool, device: str | None) -> None:
    """Print every fault mode of the catalog."""
    from dataclasses import asdict

    from devices.catalog import default_catalog

    catalog = default_catalog()
    modes = list(catalog.values()) if device is None else catalog.for_device(device)
    if device is not None and not modes:
        raise click.BadParameter(
            f"no such device; devices: {', '.join(catalog.devices)}", param_hint="--device"
        )
    if as_json:
        out.print_json(json.dumps([asdict(m) for m in modes]))
        return
    table = Table(
        title=f"fault catalog: {len(modes)} modes over {len({m.device for m in modes})} devices"
    )
    table.add_column("id", no_wrap=True)
    for col in ("sev", "title", "diagnostic", "remote", "MTBF h", "repair min"):
        table.add_column(col)
    for m in modes:
        table.add_row(
            m.id,
            str(m.severity),
            m.title,
            m.diagnostic,
            "yes" if m.remote_fixable else "no",
            f"{m.mtbf_hours:g}" if m.mtbf_hours else "wear",
            f"{m.repair_minutes:g}",
        )
    out.print(table)


state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_STATE_DIR,
    show_default=True,
    envvar="WORKBENCH_STATE_DIR",
    help="Where running kiosks keep endpoints, control sockets and records "
    "(env WORKBENCH_STATE_DIR).",
)


# -- demo -----------------------------------------------------------------------------------
@cli.command()
@state_dir_option
@click.option(
    "--speed",
    default=30.0,
    show_default=True,
    type=float,
    help="Simulated seconds per wall second.",
)
@click.option(
    "--fleet",
    is_flag=True,
    help="A fleet of 5 kiosks: tickets, a fleet grant and inspection, remedies, reports.",
)
@click.option(
    "--records",
    envvar="WORKBENCH_RECORDS",
    metavar="FILE|URL",
    help="With --fleet: the records store, an SQLite file or a postgresql:// URL "
    "(default STATE_DIR/fleet/records.sqlite).",
)
def demo(state_dir: Path, speed: float, fleet: bool, records: str | None) -> None:
    """Everything wired together on loopback: a kiosk, a receipt, a banknote, faults, diagnostics.

    With --fleet, a support organisation's work on a small fleet: faults, tickets with SLA
    clocks, one fleet grant, a remote inspection of every kiosk, remedies, reports."""
    if fleet:
        from scenarios.fleet_demo import run_fleet_demo

        asyncio.run(run_fleet_demo(state_dir, speed, out, records))
        return
    from scenarios.demo import run_demo

    asyncio.run(run_demo(state_dir, speed, out))


# -- entry point ----------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> NoReturn:
    """Run the CLI; every user mistake ends in one line on stderr and a non-zero exit."""
    run_cli(cli, prog_name="workbench", argv=argv)


if __name__ == "__main__":
    main()
